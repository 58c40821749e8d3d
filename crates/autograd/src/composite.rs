//! Composite ops: built from primitives, with no VJP code of their own.
//!
//! Their derivatives (of any order) follow from the primitives they are made of.

use gantry_tensor::{Element, Tensor};

use crate::tape::Var;

// `add`, `mul`, … are also the operators (see `operators.rs`); the methods read better in
// chains and in VJP rules.
#[allow(clippy::should_implement_trait)]
impl<'t, E: Element> Var<'t, E> {
    /// `a − b = a + (−b)` (also the `-` operator, see `operators.rs`).
    pub fn sub(self, other: Var<'t, E>) -> Var<'t, E> {
        self.add(other.neg())
    }
    /// `a / b = a · b⁻¹` (also the `/` operator).
    pub fn div(self, other: Var<'t, E>) -> Var<'t, E> {
        self.mul(other.pow(-E::one()))
    }
    /// `x²`.
    pub fn square(self) -> Var<'t, E> {
        self.pow(E::one() + E::one())
    }
    /// `√x`.
    pub fn sqrt(self) -> Var<'t, E> {
        self.pow(E::from_f64_lossy(0.5))
    }
    /// `x + c` for a scalar `c`.
    pub fn add_scalar(self, c: E) -> Var<'t, E> {
        self.add(self.constant(Tensor::scalar(c)))
    }
    /// `c · x` for a scalar `c`.
    pub fn mul_scalar(self, c: E) -> Var<'t, E> {
        self.mul(self.constant(Tensor::scalar(c)))
    }
    /// The mean of all elements: `Σx / n`.
    pub fn mean(self) -> Var<'t, E> {
        let n = self.value().len();
        self.sum()
            .mul_scalar(E::one() / E::from_usize(n).expect("count fits"))
    }
    /// The mean over `axes`: `Σ_axes x / Π_axes n`.
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Var<'t, E> {
        let shape = self.shape();
        let count: usize = axes.iter().map(|&a| shape[a]).product();
        self.sum_axes(axes, keepdim)
            .mul_scalar(E::one() / E::from_usize(count.max(1)).expect("count fits"))
    }
    /// The Euclidean norm over `axes`, `√(Σ x² + ε)`; the small `ε` keeps the gradient
    /// finite at 0 (WGAN-GP's reference code adds 1e-12 the same way).
    pub fn norm_axes(self, axes: &[usize], keepdim: bool, eps: E) -> Var<'t, E> {
        self.square().sum_axes(axes, keepdim).add_scalar(eps).sqrt()
    }
    /// `log softmax(x)` along `axis`: `x − m − log Σ exp(x − m)`, with `m` the (constant)
    /// maximum along the axis so that no exponential overflows; the result does not depend
    /// on `m`, so treating it as a constant leaves the gradient exact.
    pub fn log_softmax(self, axis: usize) -> Var<'t, E> {
        let shifted = self - self.constant(self.value().max_axes(&[axis], true));
        shifted - shifted.exp().sum_axes(&[axis], true).log()
    }
    /// Flattens all axes after the first: `[n, …] → [n, Π…]`.
    pub fn flatten(self) -> Var<'t, E> {
        let s = self.shape();
        let rest = s[1..].iter().product();
        self.reshape(&[s[0], rest])
    }
}
