//! Seeded random tensors: standard normal and uniform.

use ndarray::{ArrayD, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use crate::element::Element;
use crate::tensor::Tensor;

impl<E: Element> Tensor<E> {
    /// Samples each element from N(0, 1), in row-major order, from `rng`.
    pub fn randn<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Self {
        let n = shape.iter().product();
        let v: Vec<E> = (0..n)
            .map(|_| {
                let x: f64 = StandardNormal.sample(rng);
                E::from_f64_lossy(x)
            })
            .collect();
        Self::from_array(ArrayD::from_shape_vec(IxDyn(shape), v).expect("length is the product"))
    }

    /// Samples each element uniformly from `[lo, hi)`, in row-major order, from `rng`.
    pub fn rand_uniform<R: Rng + ?Sized>(shape: &[usize], lo: E, hi: E, rng: &mut R) -> Self {
        let dist = Uniform::new(lo, hi);
        let n = shape.iter().product();
        let v: Vec<E> = (0..n).map(|_| dist.sample(rng)).collect();
        Self::from_array(ArrayD::from_shape_vec(IxDyn(shape), v).expect("length is the product"))
    }
}
