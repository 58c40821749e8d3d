//! Elementwise binary primitives with NumPy broadcasting: forward and VJP side by side.
//!
//! Every VJP ends in `sum_to(input shape)`: the adjoint of broadcasting, one helper for all.

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
}

impl Binary {
    fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Mul => "mul",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    /// `y = f(a, b)`.
    fn forward<E: Element>(self, a: &Tensor<E>, b: &Tensor<E>) -> Tensor<E> {
        match self {
            Binary::Add => a.add(b),
            Binary::Mul => a.mul(b),
            Binary::Maximum => a.maximum(b),
            Binary::Minimum => a.minimum(b),
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
}
