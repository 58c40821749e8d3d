//! `Linear`: `y = x·Wᵀ + b`, with PyTorch's shapes (`W: [out, in]`) and default init.

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier};
use rand::Rng;

use crate::init::pytorch_uniform;
use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};
use crate::weight_layer::WeightLayer;

/// A fully connected layer: `y = x·Wᵀ + b` for `x: [n, in]`, `W: [out, in]`, `b: [out]`.
pub struct Linear<E: Element = f32> {
    /// `[out, in]`.
    pub weight: Param<E>,
    /// `[out]`, if any.
    pub bias: Option<Param<E>>,
}

impl<E: Element> Linear<E> {
    /// A layer `in → out` with bias, initialized as PyTorch does (`U(±1/√in)`).
    pub fn new<R: Rng + ?Sized>(inputs: usize, outputs: usize, rng: &mut R) -> Self {
        let weight = Param::new(pytorch_uniform(&[outputs, inputs], inputs, rng));
        let bias = Some(Param::new(pytorch_uniform(&[outputs], inputs, rng)));
        Linear { weight, bias }
    }

    /// The same layer without a bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }
}

impl<E: Element> WeightLayer<E> for Linear<E> {
    fn weight(&self) -> &Param<E> {
        &self.weight
    }
    fn bias(&self) -> Option<&Param<E>> {
        self.bias.as_ref()
    }
    fn forward_with_weight<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
    ) -> Var<'t, E> {
        check_shapes(x, w);
        match &self.bias {
            Some(b) => x.matmul_bias(w.t(), tape.param(b)),
            None => x.matmul(w.t()),
        }
    }
    /// With a bias, `rectifier(x·wᵀ + b)` as one op ([`Var::matmul_bias_rectified`]).
    fn forward_with_weight_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Var<'t, E> {
        check_shapes(x, w);
        match &self.bias {
            Some(b) => x.matmul_bias_rectified(w.t(), tape.param(b), rectifier),
            None => x.matmul(w.t()).rectify(rectifier),
        }
    }
}

/// Panics unless `x` is `[n, in]` for a weight `w: [out, in]`.
fn check_shapes<E: Element>(x: Var<'_, E>, w: Var<'_, E>) {
    let (xs, ws) = (x.shape(), w.shape());
    assert!(
        xs.len() == 2 && xs[1] == ws[1],
        "Linear: input {xs:?} does not match weight {ws:?} (need [n, {}])",
        ws[1]
    );
}

impl<E: Element> Module<E> for Linear<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.forward_with_weight(tape, x, tape.param(&self.weight))
    }
    fn forward_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Option<Var<'t, E>> {
        let w = tape.param(&self.weight);
        Some(self.forward_with_weight_rectified(tape, x, w, rectifier))
    }
    fn params(&self) -> Vec<Named<E>> {
        crate::weight_layer::weight_and_bias(self)
    }
}
