//! `WeightLayer`: a layer that is linear in one weight tensor, so that the weight can be
//! reparametrized (spectral normalization replaces it by `W / σ(W)`).

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier};

use crate::module::Named;
use crate::param::Param;

/// A layer computed from a weight `W` (and possibly a bias) that it can take as an argument.
pub trait WeightLayer<E: Element> {
    /// The weight parameter.
    fn weight(&self) -> &Param<E>;
    /// The bias parameter, if any.
    fn bias(&self) -> Option<&Param<E>>;
    /// The layer's output with `w` in place of its own weight.
    fn forward_with_weight<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
    ) -> Var<'t, E>;
    /// [`WeightLayer::forward_with_weight`] followed by `rectifier`: two ops unless the
    /// layer fuses them (this default does not).
    fn forward_with_weight_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Var<'t, E> {
        self.forward_with_weight(tape, x, w).rectify(rectifier)
    }
    /// The weight axis that indexes outputs: 0, but 1 for `ConvTranspose2d`
    /// (spectral norm views the weight as a matrix with this axis as rows).
    fn output_axis(&self) -> usize {
        0
    }
}

/// `[("weight", W), ("bias", b)]`, PyTorch's names.
pub fn weight_and_bias<E: Element>(layer: &impl WeightLayer<E>) -> Vec<Named<E>> {
    let mut v = vec![("weight".to_string(), layer.weight().clone())];
    if let Some(b) = layer.bias() {
        v.push(("bias".to_string(), b.clone()));
    }
    v
}
