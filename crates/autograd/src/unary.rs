//! Elementwise unary primitives: forward kernel and VJP side by side.

use gantry_tensor::{Element, Rectifier, Tensor};

use crate::op::Op;
use crate::tape::Var;

/// The unary primitives. `Pow` and `LeakyRelu` keep their scalar (as `f64`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unary {
    Neg,
    Pow(f64),
    Exp,
    Log,
    Tanh,
    Sigmoid,
    Softplus,
    Relu,
    LeakyRelu(f64),
    Abs,
}

impl Unary {
    /// `y = f(x)`.
    fn forward<E: Element>(self, x: &Tensor<E>) -> Tensor<E> {
        let e = E::from_f64_lossy;
        match self {
            Unary::Neg => x.neg(),
            Unary::Pow(p) => x.pow(e(p)),
            Unary::Exp => x.exp(),
            Unary::Log => x.log(),
            Unary::Tanh => x.tanh(),
            Unary::Sigmoid => x.sigmoid(),
            Unary::Softplus => x.softplus(),
            Unary::Relu => x.relu(),
            Unary::LeakyRelu(s) => x.leaky_relu(e(s)),
            Unary::Abs => x.abs(),
        }
    }

    /// `ḡx = g · f′(x)`, written with `Var` ops (masks of piecewise-linear ops are
    /// constants: their derivative is 0 almost everywhere).
    pub(crate) fn vjp<'t, E: Element>(
        self,
        x: Var<'t, E>,
        y: Var<'t, E>,
        g: Var<'t, E>,
    ) -> Var<'t, E> {
        let e = E::from_f64_lossy;
        match self {
            // d(−x) = −1
            Unary::Neg => -g,
            // d(xᵖ) = p·xᵖ⁻¹
            Unary::Pow(p) => g * x.pow(e(p - 1.0)) * e(p),
            // d(eˣ) = eˣ = y
            Unary::Exp => g * y,
            // d(ln x) = 1/x
            Unary::Log => g * x.pow(-E::one()),
            // d(tanh x) = 1 − y²
            Unary::Tanh => g * (-y.square() + E::one()),
            // dσ(x) = y(1 − y)
            Unary::Sigmoid => g * y * (-y + E::one()),
            // d softplus(x) = σ(x)
            Unary::Softplus => g * x.sigmoid(),
            // d relu(x) = [x > 0]
            Unary::Relu => g.relu_gate(x, E::zero()),
            // d lrelu(x) = 1 if x > 0 else slope
            Unary::LeakyRelu(s) => g.relu_gate(x, e(s)),
            // d|x| = sign(x)
            Unary::Abs => g * x.constant(x.value().sign()),
        }
    }
}

// `add`, `mul`, … are also the operators (see `operators.rs`); the methods read better in
// chains and in VJP rules.
#[allow(clippy::should_implement_trait)]
impl<'t, E: Element> Var<'t, E> {
    fn unary(self, u: Unary) -> Var<'t, E> {
        let value = u.forward(&self.value());
        self.tape
            .record(value, Op::Unary(u, self.index), &[self.index])
    }

    /// `−x` (also the unary `-` operator, see `operators.rs`).
    pub fn neg(self) -> Var<'t, E> {
        self.unary(Unary::Neg)
    }
    /// `xᵖ` for a scalar exponent.
    pub fn pow(self, p: E) -> Var<'t, E> {
        self.unary(Unary::Pow(p.to_f64().expect("finite exponent")))
    }
    /// `eˣ`.
    pub fn exp(self) -> Var<'t, E> {
        self.unary(Unary::Exp)
    }
    /// `ln x`.
    pub fn log(self) -> Var<'t, E> {
        self.unary(Unary::Log)
    }
    /// `tanh x`.
    pub fn tanh(self) -> Var<'t, E> {
        self.unary(Unary::Tanh)
    }
    /// `σ(x) = 1 / (1 + e⁻ˣ)` (a primitive, for stability at large |x|).
    pub fn sigmoid(self) -> Var<'t, E> {
        self.unary(Unary::Sigmoid)
    }
    /// `softplus(x) = ln(1 + eˣ)` (a primitive: stable for |x| up to 1e4 and beyond, with
    /// derivative σ(x), which is what every GAN loss needs instead of `log(sigmoid(x))`).
    pub fn softplus(self) -> Var<'t, E> {
        self.unary(Unary::Softplus)
    }
    /// `max(x, 0)`.
    pub fn relu(self) -> Var<'t, E> {
        self.unary(Unary::Relu)
    }
    /// `x` if `x > 0`, else `slope · x`.
    pub fn leaky_relu(self, slope: E) -> Var<'t, E> {
        self.unary(Unary::LeakyRelu(slope.to_f64().expect("finite slope")))
    }
    /// `relu` or `leaky_relu`, as the rectifier says.
    pub fn rectify(self, rectifier: Rectifier) -> Var<'t, E> {
        match rectifier {
            Rectifier::Relu => self.relu(),
            Rectifier::LeakyRelu(slope) => self.unary(Unary::LeakyRelu(slope)),
        }
    }
    /// `|x|`.
    pub fn abs(self) -> Var<'t, E> {
        self.unary(Unary::Abs)
    }
}
