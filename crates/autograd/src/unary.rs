//! Elementwise unary primitives: forward kernel and VJP side by side.

use gantry_tensor::{Element, Rectifier, Tensor};

use crate::op::Op;
use crate::tape::Var;

/// The unary primitives. `Pow` keeps its scalar (as `f64`), `Rectify` its rectifier (ReLU,
/// or LeakyReLU with its slope).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unary {
    Neg,
    Pow(f64),
    Exp,
    Log,
    Tanh,
    Sigmoid,
    Softplus,
    Rectify(Rectifier),
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
            Unary::Rectify(Rectifier::Relu) => x.relu(),
            Unary::Rectify(Rectifier::LeakyRelu(s)) => x.leaky_relu(e(s)),
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
            Unary::Rectify(r) => rectifier_gate(r, x, g),
            // d|x| = sign(x)
            Unary::Abs => g * x.constant(x.value().sign()),
        }
    }
}

/// The VJP of a rectifier, `ḡ = g` where `mask > 0`, `slope·g` elsewhere (slope 0 for ReLU:
/// `d relu(x) = [x > 0]`, `d lrelu(x) = 1 if x > 0 else slope`), one `relu_gate`. The mask is
/// the rectifier's input; the fused ops (`matmul_bias_rectified`, `channel_affine_rectified`)
/// pass their output instead, which is positive exactly where the input is for a slope ≥ 0
/// ([`check_gate_on_output`]).
pub(crate) fn rectifier_gate<'t, E: Element>(
    rectifier: Rectifier,
    mask: Var<'t, E>,
    g: Var<'t, E>,
) -> Var<'t, E> {
    let slope = match rectifier {
        Rectifier::Relu => E::zero(),
        Rectifier::LeakyRelu(slope) => E::from_f64_lossy(slope),
    };
    g.relu_gate(mask, slope)
}

/// Panics unless `rectifier`'s output is positive exactly where its input is (ReLU, or a
/// LeakyReLU slope ≥ 0), which a fused op's [`rectifier_gate`] on its output relies on;
/// `op` names the caller.
pub(crate) fn check_gate_on_output(op: &str, rectifier: Rectifier) {
    if let Rectifier::LeakyRelu(slope) = rectifier {
        assert!(slope >= 0.0, "{op}: LeakyReLU slope {slope} (need ≥ 0)");
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
        self.rectify(Rectifier::Relu)
    }
    /// `x` if `x > 0`, else `slope · x`.
    pub fn leaky_relu(self, slope: E) -> Var<'t, E> {
        self.rectify(Rectifier::LeakyRelu(slope.to_f64().expect("finite slope")))
    }
    /// `relu` or `leaky_relu`, as the rectifier says.
    pub fn rectify(self, rectifier: Rectifier) -> Var<'t, E> {
        self.unary(Unary::Rectify(rectifier))
    }
    /// `|x|`.
    pub fn abs(self) -> Var<'t, E> {
        self.unary(Unary::Abs)
    }
}
