//! Layer normalization (Ba et al. 2016): normalize each sample over its last axes,
//! `y = γ·(x − μ)/√(σ² + ε) + β`, with `μ, σ²` per sample (biased variance), as PyTorch.

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Tensor};

use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};

/// LayerNorm over trailing axes of shape `normalized_shape`.
pub struct LayerNorm<E: Element = f32> {
    /// `γ`, initialized to 1.
    pub weight: Param<E>,
    /// `β`, initialized to 0.
    pub bias: Param<E>,
    /// `ε` added to the variance.
    pub eps: f64,
}

impl<E: Element> LayerNorm<E> {
    /// Normalizes over trailing axes of this shape.
    pub fn new(normalized_shape: &[usize]) -> Self {
        LayerNorm {
            weight: Param::new(Tensor::ones(normalized_shape)),
            bias: Param::new(Tensor::zeros(normalized_shape)),
            eps: 1e-5,
        }
    }
}

impl<E: Element> Module<E> for LayerNorm<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        let (s, ns) = (x.shape(), self.weight.shape());
        assert!(
            s.ends_with(&ns),
            "LayerNorm: input {s:?} does not end with the normalized shape {ns:?}"
        );
        let axes: Vec<usize> = (s.len() - ns.len()..s.len()).collect();
        let mean = x.mean_axes(&axes, true);
        let xc = x - mean;
        let var = xc.square().mean_axes(&axes, true);
        let xhat = xc * (var + E::from_f64_lossy(self.eps)).pow(E::from_f64_lossy(-0.5));
        xhat * tape.param(&self.weight) + tape.param(&self.bias)
    }
    fn params(&self) -> Vec<Named<E>> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
}
