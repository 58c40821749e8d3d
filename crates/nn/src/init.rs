//! Weight initialization: PyTorch's defaults and DCGAN's N(0, 0.02).

use gantry_tensor::{Element, Tensor};
use rand::Rng;

/// PyTorch's default for Linear / Conv weights and biases: `U(−1/√fan_in, 1/√fan_in)`
/// (its `kaiming_uniform_(a = √5)` reduces to exactly this bound).
pub fn pytorch_uniform<E: Element, R: Rng + ?Sized>(
    shape: &[usize],
    fan_in: usize,
    rng: &mut R,
) -> Tensor<E> {
    let bound = E::from_f64_lossy(1.0 / (fan_in.max(1) as f64).sqrt());
    Tensor::rand_uniform(shape, -bound, bound, rng)
}

/// DCGAN's initialization (Radford et al. 2016): weights from `N(0, 0.02²)`.
pub fn dcgan_normal<E: Element, R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Tensor<E> {
    Tensor::randn(shape, rng).mul_scalar(E::from_f64_lossy(0.02))
}
