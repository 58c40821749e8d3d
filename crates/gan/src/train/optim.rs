//! The `[optim]` table: which optimizer trains each network, their learning rates and how
//! the rates change over a run.
//!
//! With base rate `η`, run length `T` steps and `W` warm-up steps, the rate at step `t`
//! (0-based) is `η · w(t) · d(t)`:
//! - warm-up `w(t) = min(1, (t + 1)/W)` (1 when `W = 0`), a linear ramp over the first `W`
//!   steps, so that Adam's early, noisy second-moment estimates meet small steps;
//! - decay `d(t)`: `1` (constant), `1 − t/T` (linear, as in the WGAN-GP code), or
//!   `½(1 + cos(π t/T))` (cosine, Loshchilov & Hutter 2017, without restarts).

use gantry_nn::{Adam, AnyRule, RmsProp, Sgd};
use serde::{Deserialize, Serialize};

/// The optimizers of both networks. Fields left out of an `[optim]` table keep their
/// [`OptimConfig::default`] values (Adam with β = (0.5, 0.9), rate 1e-4, constant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// The generator's optimizer.
    pub g: OptimizerKind,
    /// The critic's optimizer (the WGAN paper trains its clipped critic with RMSprop).
    pub d: OptimizerKind,
    /// Generator learning rate.
    pub g_lr: f64,
    /// Critic learning rate.
    pub d_lr: f64,
    /// Adam's β₁, for whichever network uses Adam.
    pub beta1: f64,
    /// Adam's β₂, for whichever network uses Adam.
    pub beta2: f64,
    /// How the learning rates decay over the run.
    pub schedule: Schedule,
    /// Steps of linear warm-up at the start (0: none).
    pub warmup: usize,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            g: OptimizerKind::Adam,
            d: OptimizerKind::Adam,
            g_lr: 1e-4,
            d_lr: 1e-4,
            beta1: 0.5,
            beta2: 0.9,
            schedule: Schedule::Constant,
            warmup: 0,
        }
    }
}

impl OptimConfig {
    /// The generator's update rule.
    pub fn g_rule(&self) -> AnyRule {
        self.g.rule(self.beta1, self.beta2)
    }

    /// The critic's update rule.
    pub fn d_rule(&self) -> AnyRule {
        self.d.rule(self.beta1, self.beta2)
    }

    /// The learning rate of step `t` (0-based) of a `total`-step run, from `base`.
    pub fn rate(&self, base: f64, t: usize, total: usize) -> f64 {
        let warm = if self.warmup == 0 {
            1.0
        } else {
            ((t + 1) as f64 / self.warmup as f64).min(1.0)
        };
        base * warm * self.schedule.decay(t, total)
    }

    /// Checks the rates, betas and warm-up of a `steps`-step run; the error names the field.
    pub fn validate(&self, steps: usize) -> Result<(), String> {
        for (name, lr) in [("optim.g_lr", self.g_lr), ("optim.d_lr", self.d_lr)] {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(format!("{name} must be a positive number, got {lr}"));
            }
        }
        for (name, b) in [("optim.beta1", self.beta1), ("optim.beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(format!("{name} must be in [0, 1), got {b}"));
            }
        }
        if self.warmup > steps {
            return Err(format!(
                "optim.warmup = {} is longer than the run (steps = {steps})",
                self.warmup
            ));
        }
        Ok(())
    }
}

/// An optimizer, with PyTorch's defaults for everything but the rate (and Adam's betas).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// `torch.optim.Adam(betas=(β₁, β₂))`.
    #[default]
    Adam,
    /// `torch.optim.RMSprop` (α = 0.99, ε = 1e-8).
    Rmsprop,
    /// `torch.optim.SGD` (no momentum).
    Sgd,
}

impl OptimizerKind {
    /// The update rule, Adam's with betas `(beta1, beta2)`.
    pub fn rule(self, beta1: f64, beta2: f64) -> AnyRule {
        match self {
            OptimizerKind::Adam => AnyRule::Adam(Adam::betas(beta1, beta2)),
            OptimizerKind::Rmsprop => AnyRule::RmsProp(RmsProp::default()),
            OptimizerKind::Sgd => AnyRule::Sgd(Sgd::default()),
        }
    }
}

/// How a learning rate decays over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// `1 − t/T`, to 0 at the end (as in the WGAN-GP code).
    Linear,
    /// `½(1 + cos(π t/T))`, from 1 down to 0 along half a cosine.
    Cosine,
}

impl Schedule {
    /// The factor `d(t)` of step `t` (0-based) of `total`.
    pub fn decay(&self, t: usize, total: usize) -> f64 {
        let progress = t as f64 / total.max(1) as f64;
        match self {
            Schedule::Constant => 1.0,
            Schedule::Linear => 1.0 - progress,
            Schedule::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        }
    }
}
