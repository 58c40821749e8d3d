//! Batch normalization (Ioffe & Szegedy 2015) with PyTorch's semantics.
//!
//! Training: `y = γ·(x − μ_B)/√(σ²_B + ε) + β` with the batch mean and biased batch
//! variance over every axis but the channel axis; the running statistics move by
//! `r ← (1 − m)·r + m·stat` (momentum `m = 0.1`, the variance unbiased by `n/(n−1)`).
//! Evaluation: the running statistics replace the batch ones.

use std::cell::Cell;

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier, Tensor};

use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};

/// Batch normalization over `[N, C]` (`BatchNorm1d`) or `[N, C, H, W]` (`BatchNorm2d`).
pub struct BatchNorm<E: Element = f32> {
    /// `γ: [C]`, initialized to 1.
    pub weight: Param<E>,
    /// `β: [C]`, initialized to 0.
    pub bias: Param<E>,
    /// Running mean `[C]` (buffer).
    pub running_mean: Param<E>,
    /// Running (unbiased) variance `[C]` (buffer).
    pub running_var: Param<E>,
    /// How many training batches updated the running statistics (buffer, as in PyTorch).
    pub num_batches_tracked: Param<E>,
    /// `m` in `r ← (1 − m)·r + m·stat`.
    pub momentum: f64,
    /// `ε` added to the variance.
    pub eps: f64,
    rank: usize,
    training: Cell<bool>,
}

impl<E: Element> BatchNorm<E> {
    fn new(channels: usize, rank: usize) -> Self {
        BatchNorm {
            weight: Param::new(Tensor::ones(&[channels])),
            bias: Param::new(Tensor::zeros(&[channels])),
            running_mean: Param::new(Tensor::zeros(&[channels])),
            running_var: Param::new(Tensor::ones(&[channels])),
            num_batches_tracked: Param::new(Tensor::scalar(E::zero())),
            momentum: 0.1,
            eps: 1e-5,
            rank,
            training: Cell::new(true),
        }
    }

    /// For `[N, C]` inputs.
    pub fn new_1d(channels: usize) -> Self {
        Self::new(channels, 2)
    }

    /// For `[N, C, H, W]` inputs.
    pub fn new_2d(channels: usize) -> Self {
        Self::new(channels, 4)
    }

    /// The axes statistics are taken over: every axis but the channels'.
    fn axes(&self) -> Vec<usize> {
        if self.rank == 2 {
            vec![0]
        } else {
            vec![0, 2, 3]
        }
    }

    /// `γ·(x − μ)/√(σ² + ε) + β = x·s + (β − μ·s)` with `s = γ/√(σ² + ε)`: the per-channel
    /// scale `s` and shift, `[C]`-sized, so that only one pass (`channel_affine`) writes
    /// the batch.
    fn scale_and_shift<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> (Var<'t, E>, Var<'t, E>) {
        let (mean, var) = self.statistics(tape, x);
        let eps = E::from_f64_lossy(self.eps);
        let scale = (var + eps).pow(E::from_f64_lossy(-0.5)) * tape.param(&self.weight);
        let shift = tape.param(&self.bias) - mean * scale;
        (scale, shift)
    }
}

impl<E: Element> Module<E> for BatchNorm<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        let (scale, shift) = self.scale_and_shift(tape, x);
        x.channel_affine(scale, shift)
    }
    /// The rectifier in the same pass as the affine map (`channel_affine_rectified`).
    fn forward_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Option<Var<'t, E>> {
        let (scale, shift) = self.scale_and_shift(tape, x);
        Some(x.channel_affine_rectified(Some(scale), shift, rectifier))
    }
    fn params(&self) -> Vec<Named<E>> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
    fn buffers(&self) -> Vec<Named<E>> {
        vec![
            ("running_mean".into(), self.running_mean.clone()),
            ("running_var".into(), self.running_var.clone()),
            (
                "num_batches_tracked".into(),
                self.num_batches_tracked.clone(),
            ),
        ]
    }
    fn set_training(&self, training: bool) {
        self.training.set(training);
    }
}

impl<E: Element> BatchNorm<E> {
    /// The per-channel mean and biased variance `[C]` that normalize `x`: the batch's in
    /// training mode (which also moves the running statistics), the running ones in
    /// evaluation mode. `ConditionalBatchNorm` uses them without this layer's `γ`, `β`.
    ///
    /// # Panics
    /// If `x` is not `[N, C, …]` of this layer's rank and channel count.
    pub fn statistics<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> (Var<'t, E>, Var<'t, E>) {
        let s = x.shape();
        let c = self.weight.shape()[0];
        assert!(
            s.len() == self.rank && s[1] == c,
            "BatchNorm: input {s:?} does not match {c} channels (need rank {})",
            self.rank
        );
        let axes = self.axes();
        if self.training.get() {
            // Two reductions that read the batch and write only [C] (the variance squares
            // the deviations as it sums them).
            let mean = x.mean_axes(&axes, false);
            let var = x.var_axes(&axes, false);
            self.update_running(&mean.value(), &var.value(), s.iter().product::<usize>() / c);
            (mean, var)
        } else {
            let rm = tape.constant(self.running_mean.value());
            let rv = tape.constant(self.running_var.value());
            (rm, rv)
        }
    }

    /// `r ← (1 − m)·r + m·stat`, with the variance made unbiased (`·n/(n − 1)`).
    fn update_running(&self, mean: &Tensor<E>, var: &Tensor<E>, n: usize) {
        let m = E::from_f64_lossy(self.momentum);
        let keep = E::one() - m;
        let unbias = E::from_f64_lossy(n as f64 / (n.max(2) - 1) as f64);
        let c = [self.weight.shape()[0]];
        let new_mean = self
            .running_mean
            .value()
            .mul_scalar(keep)
            .add(&mean.reshape(&c).mul_scalar(m));
        let new_var = self
            .running_var
            .value()
            .mul_scalar(keep)
            .add(&var.reshape(&c).mul_scalar(m * unbias));
        self.running_mean.set(new_mean);
        self.running_var.set(new_var);
        self.num_batches_tracked
            .set(self.num_batches_tracked.value().add_scalar(E::one()));
    }
}
