//! The `Module` trait, hierarchical names, and `Sequential`.

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier};

use crate::param::Param;

/// A named parameter or buffer: `("d.0.weight", param)`. The names are the keys of a
/// checkpoint, the same keys PyTorch's `state_dict` uses for the same module tree.
pub type Named<E> = (String, Param<E>);

/// A layer or a network of layers.
pub trait Module<E: Element = f32> {
    /// Applies the module to `x` on the step's tape.
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E>;

    /// Applies the module to `x` given one class label per sample, for class-conditional
    /// layers (`ConditionalBatchNorm`) and the containers holding them; every other module
    /// ignores the labels (this default), so an unconditional network pays nothing.
    fn forward_with_labels<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        _labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        self.forward(tape, x)
    }

    /// Trainable parameters with names relative to this module.
    fn params(&self) -> Vec<Named<E>> {
        Vec::new()
    }

    /// The rectifier this module is, if it is one the layer before it can apply in its own
    /// pass (`ReLU`, and `LeakyReLU` with a slope ≥ 0); `None` for every other module.
    fn rectifier(&self) -> Option<Rectifier> {
        None
    }

    /// This module applied to `x` and then `rectifier`, as one op where the module can fuse
    /// the two (a `Linear` with a bias: [`Var::matmul_bias_rectified`]; a `Conv2d` with a
    /// bias or a `BatchNorm`: [`Var::channel_affine_rectified`]); `None`, having done
    /// nothing, where it cannot (this default). [`Sequential`] asks each layer followed by a
    /// rectifier.
    fn forward_rectified<'t>(
        &self,
        _tape: &'t Tape<E>,
        _x: Var<'t, E>,
        _rectifier: Rectifier,
    ) -> Option<Var<'t, E>> {
        None
    }

    /// State that is saved but not trained (running statistics, spectral norm's `u`).
    fn buffers(&self) -> Vec<Named<E>> {
        Vec::new()
    }

    /// Switches between training (batch statistics, power iteration) and evaluation.
    fn set_training(&self, _training: bool) {}
}

/// Prefixes every name with `prefix.` (no dot for an empty prefix).
pub fn prefixed<E: Element>(prefix: &str, items: Vec<Named<E>>) -> Vec<Named<E>> {
    items
        .into_iter()
        .map(|(n, p)| {
            (
                if prefix.is_empty() {
                    n
                } else {
                    format!("{prefix}.{n}")
                },
                p,
            )
        })
        .collect()
}

/// The parameters of a module without their names (for optimizers and `gradients`).
pub fn param_list<E: Element>(m: &dyn Module<E>) -> Vec<Param<E>> {
    m.params().into_iter().map(|(_, p)| p).collect()
}

/// Modules applied one after another; children are named `0`, `1`, … as in PyTorch.
pub struct Sequential<E: Element = f32> {
    layers: Vec<Box<dyn Module<E>>>,
}

impl<E: Element> Default for Sequential<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Element> Sequential<E> {
    /// An empty sequence.
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// Appends a layer (builder style, as `nn.Sequential(a, b, …)` reads in PyTorch).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<E> + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl<E: Element> Sequential<E> {
    /// The layers applied in order, each by `apply`, except that a layer followed by a
    /// rectifier it can apply in its own pass ([`Module::forward_rectified`]: a `Linear`
    /// then a `ReLU`, a `Conv2d` then a `LeakyReLU`) runs as one op with it: the same values
    /// and gradients, with one pass over the layer's output and one tape node fewer.
    fn chain<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        apply: impl Fn(&dyn Module<E>, Var<'t, E>) -> Var<'t, E>,
    ) -> Var<'t, E> {
        let mut layers = self.layers.iter().peekable();
        let mut h = x;
        while let Some(layer) = layers.next() {
            let rectifier = layers.peek().and_then(|next| next.rectifier());
            h = match rectifier.and_then(|r| layer.forward_rectified(tape, h, r)) {
                Some(y) => {
                    layers.next();
                    y
                }
                None => apply(layer.as_ref(), h),
            };
        }
        h
    }
}

impl<E: Element> Module<E> for Sequential<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.chain(tape, x, |l, h| l.forward(tape, h))
    }
    /// Passes the labels on to every layer.
    fn forward_with_labels<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        self.chain(tape, x, |l, h| l.forward_with_labels(tape, h, labels))
    }
    fn params(&self) -> Vec<Named<E>> {
        let each = self.layers.iter().enumerate();
        each.flat_map(|(i, l)| prefixed(&i.to_string(), l.params()))
            .collect()
    }
    fn buffers(&self) -> Vec<Named<E>> {
        let each = self.layers.iter().enumerate();
        each.flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers()))
            .collect()
    }
    fn set_training(&self, training: bool) {
        self.layers.iter().for_each(|l| l.set_training(training));
    }
}
