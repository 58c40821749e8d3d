//! Elementwise binary primitives with NumPy broadcasting: forward and VJP side by side.
//!
//! Every VJP ends in `sum_to(input shape)`: the adjoint of broadcasting, one helper for all.
//! `relu_gate` is here too: the derivative of (leaky) ReLU applied to a gradient, which the
//! backward pass of every ReLU records.

use gantry_tensor::{Element, Tensor};

use crate::op::Op;
use crate::tape::Var;

/// The binary primitives (`a − b` and `a / b` are compositions, see `composite.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Binary {
    Add,
    Mul,
    Maximum,
    Minimum,
    /// `g · [x > 0 ? 1 : slope]` with `g` first: the VJP of `leaky_relu(x, slope)`.
    ReluGate(f64),
}

impl Binary {
    fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Mul => "mul",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
            Binary::ReluGate(_) => "relu_gate",
        }
    }

    /// `y = f(a, b)`.
    fn forward<E: Element>(self, a: &Tensor<E>, b: &Tensor<E>) -> Tensor<E> {
        match self {
            Binary::Add => a.add(b),
            Binary::Mul => a.mul(b),
            Binary::Maximum => a.maximum(b),
            Binary::Minimum => a.minimum(b),
            Binary::ReluGate(s) => a.relu_gate(b, E::from_f64_lossy(s)),
        }
    }

    /// `(ḡa, ḡb)`, each summed back to its input's shape; `None` for an input that
    /// `needs` no gradient (a constant factor costs no work in backward).
    pub(crate) fn vjp<'t, E: Element>(
        self,
        a: Var<'t, E>,
        b: Var<'t, E>,
        g: Var<'t, E>,
        needs: [bool; 2],
    ) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
        let (ga, gb) = match self {
            // linear in g with the same gate; x only picks the slope, so its derivative is
            // 0 almost everywhere (like a mask) and it gets no gradient
            Binary::ReluGate(s) => {
                let ga = needs[0].then(|| g.relu_gate(b, E::from_f64_lossy(s)));
                return (ga.map(|ga| ga.sum_to(&a.shape())), None);
            }
            // ∂(a+b)/∂a = ∂(a+b)/∂b = 1
            Binary::Add => (g, g),
            // ∂(ab)/∂a = b, ∂(ab)/∂b = a
            Binary::Mul => {
                let ga = if needs[0] { g * b } else { g };
                let gb = if needs[1] { g * a } else { g };
                (ga, gb)
            }
            // the gradient goes to the larger input (to `a` on ties)
            Binary::Maximum => {
                let mask = a.value().ge(&b.value());
                let other = mask.map(|m| E::one() - m);
                (g * a.constant(mask), g * a.constant(other))
            }
            Binary::Minimum => {
                let mask = a.value().le(&b.value());
                let other = mask.map(|m| E::one() - m);
                (g * a.constant(mask), g * a.constant(other))
            }
        };
        let ga = needs[0].then(|| ga.sum_to(&a.shape()));
        let gb = needs[1].then(|| gb.sum_to(&b.shape()));
        (ga, gb)
    }
}

// `add`, `mul`, … are also the operators (see `operators.rs`); the methods read better in
// chains and in VJP rules.
#[allow(clippy::should_implement_trait)]
impl<'t, E: Element> Var<'t, E> {
    fn binary(self, op: Binary, other: Var<'t, E>) -> Var<'t, E> {
        self.same_tape(&other, op.name());
        let value = op.forward(&self.value(), &other.value());
        self.tape.record(
            value,
            Op::Binary(op, self.index, other.index),
            &[self.index, other.index],
        )
    }

    /// `a + b` with broadcasting (also the `+` operator).
    pub fn add(self, other: Var<'t, E>) -> Var<'t, E> {
        self.binary(Binary::Add, other)
    }
    /// `a · b` elementwise with broadcasting (also the `*` operator).
    pub fn mul(self, other: Var<'t, E>) -> Var<'t, E> {
        self.binary(Binary::Mul, other)
    }
    /// `max(a, b)` elementwise with broadcasting.
    pub fn maximum(self, other: Var<'t, E>) -> Var<'t, E> {
        self.binary(Binary::Maximum, other)
    }
    /// `min(a, b)` elementwise with broadcasting.
    pub fn minimum(self, other: Var<'t, E>) -> Var<'t, E> {
        self.binary(Binary::Minimum, other)
    }
    /// `self` (a gradient `g`) where `x > 0`, `slope · g` elsewhere: `g · lrelu′(x)` as one
    /// primitive (one pass, no mask tensor). `x` gets no gradient through it: its
    /// derivative is 0 away from the kink, where a mask's would be too.
    pub fn relu_gate(self, x: Var<'t, E>, slope: E) -> Var<'t, E> {
        self.binary(Binary::ReluGate(slope.to_f64().expect("finite slope")), x)
    }
}
