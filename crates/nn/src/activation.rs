//! Parameter-free layers: activations, `Flatten`, `Reshape`, nearest `Upsample`.

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier};

use crate::module::Module;

/// `max(x, 0)`.
pub struct ReLU;
/// `x` for `x > 0`, else `slope·x` (DCGAN uses 0.2).
pub struct LeakyReLU(pub f64);
/// `tanh x`.
pub struct Tanh;
/// `σ(x)`.
pub struct Sigmoid;
/// `[n, …] → [n, Π…]`.
pub struct Flatten;
/// `[n, …] → [n, shape…]` (the per-sample shape; the batch axis is kept).
pub struct Reshape(pub Vec<usize>);
/// Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor.
pub struct Upsample(pub usize);

impl<E: Element> Module<E> for ReLU {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        x.relu()
    }
    fn rectifier(&self) -> Option<Rectifier> {
        Some(Rectifier::Relu)
    }
}
impl<E: Element> Module<E> for LeakyReLU {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        x.leaky_relu(E::from_f64_lossy(self.0))
    }
    /// Only for a slope ≥ 0, whose output has the sign of its input (what the fused op's
    /// gradient gate reads).
    fn rectifier(&self) -> Option<Rectifier> {
        (self.0 >= 0.0).then_some(Rectifier::LeakyRelu(self.0))
    }
}
impl<E: Element> Module<E> for Tanh {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        x.tanh()
    }
}
impl<E: Element> Module<E> for Sigmoid {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        x.sigmoid()
    }
}
impl<E: Element> Module<E> for Flatten {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        x.flatten()
    }
}
impl<E: Element> Module<E> for Reshape {
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        let mut shape = vec![x.shape()[0]];
        shape.extend(&self.0);
        x.reshape(&shape)
    }
}
impl<E: Element> Module<E> for Upsample {
    /// Each pixel becomes an `s×s` block: reshape to `[N, C, H, 1, W, 1]`, broadcast to
    /// `[N, C, H, s, W, s]`, reshape to `[N, C, H·s, W·s]` (so the VJP sums each block).
    fn forward<'t>(&self, _: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        let s = x.shape();
        assert!(s.len() == 4, "Upsample: expected [N, C, H, W], got {s:?}");
        let f = self.0;
        x.reshape(&[s[0], s[1], s[2], 1, s[3], 1])
            .broadcast_to(&[s[0], s[1], s[2], f, s[3], f])
            .reshape(&[s[0], s[1], s[2] * f, s[3] * f])
    }
}
