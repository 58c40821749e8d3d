//! Class-conditional batch normalization (de Vries et al. 2017, "Modulating early visual
//! processing by language"; Miyato & Koyama 2018, "cGANs with projection discriminator"):
//! a batch norm without its own affine map, followed by a gain and a bias **per class**,
//! looked up by each sample's label:
//!
//! `y[n, c, …] = γ[yₙ, c]·(x[n, c, …] − μ[c])/√(σ²[c] + ε) + β[yₙ, c]`
//!
//! with `μ`, `σ²` the batch statistics in training mode and the running ones in evaluation
//! mode, exactly as [`BatchNorm`]. The gains start at 1 and the biases at 0, so before
//! training it is a plain batch norm.
//!
//! Names (PyTorch-like): `bn.running_mean`, `bn.running_var`, `bn.num_batches_tracked`
//! (buffers), `gain.weight` and `bias.weight` (`[num_classes, C]`, trained).

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Tensor};

use crate::batch_norm::BatchNorm;
use crate::embedding::Embedding;
use crate::module::{prefixed, Module, Named};

/// Batch norm over `[N, C]` or `[N, C, H, W]` with per-class `γ`, `β` (`[num_classes, C]`).
pub struct ConditionalBatchNorm<E: Element = f32> {
    /// The normalization: its statistics and running buffers (its own `γ`, `β` are unused).
    pub bn: BatchNorm<E>,
    /// `γ: [num_classes, C]`, initialized to 1.
    pub gain: Embedding<E>,
    /// `β: [num_classes, C]`, initialized to 0.
    pub bias: Embedding<E>,
}

impl<E: Element> ConditionalBatchNorm<E> {
    fn new(bn: BatchNorm<E>, channels: usize, num_classes: usize) -> Self {
        ConditionalBatchNorm {
            bn,
            gain: Embedding::from_table(Tensor::ones(&[num_classes, channels])),
            bias: Embedding::from_table(Tensor::zeros(&[num_classes, channels])),
        }
    }

    /// For `[N, C]` inputs.
    pub fn new_1d(channels: usize, num_classes: usize) -> Self {
        Self::new(BatchNorm::new_1d(channels), channels, num_classes)
    }

    /// For `[N, C, H, W]` inputs.
    pub fn new_2d(channels: usize, num_classes: usize) -> Self {
        Self::new(BatchNorm::new_2d(channels), channels, num_classes)
    }

    /// The normalized `x`, scaled and shifted by the gain and bias of each sample's class.
    ///
    /// # Panics
    /// If `labels` does not hold one label per sample, or a label is `≥ num_classes`.
    pub fn forward_labelled<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: &[u32],
    ) -> Var<'t, E> {
        let s = x.shape();
        assert!(
            !s.is_empty() && s[0] == labels.len(),
            "ConditionalBatchNorm: input {s:?} needs one label per sample, got {}",
            labels.len()
        );
        let (mean, var) = self.bn.statistics(tape, x);
        let eps = E::from_f64_lossy(self.bn.eps);
        // γ[y]·(x − μ)·r + β[y] = x·a + (β[y] − μ·a) with a = γ[y]·r, r = 1/√(σ² + ε):
        // the scale and shift are [N, C], so two passes write the batch.
        let inv_std = (var + eps).pow(E::from_f64_lossy(-0.5));
        let scale = self.gain.lookup(tape, labels) * inv_std;
        let shift = self.bias.lookup(tape, labels) - scale * mean;
        let mut per_sample = vec![1; s.len()];
        per_sample[..2].copy_from_slice(&s[..2]);
        x * scale.reshape(&per_sample) + shift.reshape(&per_sample)
    }
}

impl<E: Element> Module<E> for ConditionalBatchNorm<E> {
    /// # Panics
    /// Always: the layer needs labels (call `forward_with_labels`).
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.forward_with_labels(tape, x, None)
    }
    /// # Panics
    /// Without labels, or on the conditions of [`ConditionalBatchNorm::forward_labelled`].
    fn forward_with_labels<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        let labels = labels.unwrap_or_else(|| {
            panic!("ConditionalBatchNorm: a class-conditional layer needs the samples' labels")
        });
        self.forward_labelled(tape, x, labels)
    }
    fn params(&self) -> Vec<Named<E>> {
        [
            prefixed("gain", self.gain.params()),
            prefixed("bias", self.bias.params()),
        ]
        .concat()
    }
    fn buffers(&self) -> Vec<Named<E>> {
        prefixed("bn", self.bn.buffers())
    }
    fn set_training(&self, training: bool) {
        self.bn.set_training(training);
    }
}
