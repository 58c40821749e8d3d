//! RMSprop (Hinton's lecture 6e), as `torch.optim.RMSprop`.
//!
//! `g ← g + λp`; `s ← αs + (1 − α)g²`; centered: `ḡ ← αḡ + (1 − α)g`, `d = √(s − ḡ²) + ε`,
//! else `d = √s + ε`; with momentum μ: `b ← μb + g/d`, `p ← p − ηb`; else `p ← p − ηg/d`.

use gantry_tensor::Element;

use super::{Rule, Update};

/// RMSprop's hyperparameters.
#[derive(Clone, Copy, Debug)]
pub struct RmsProp {
    /// α (default 0.99).
    pub alpha: f64,
    /// ε (default 1e-8).
    pub eps: f64,
    /// λ (default 0).
    pub weight_decay: f64,
    /// μ (default 0).
    pub momentum: f64,
    /// Normalize by the variance instead of the second moment.
    pub centered: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp {
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl Rule for RmsProp {
    fn slots(&self) -> &'static [&'static str] {
        &["square_avg", "momentum_buffer", "grad_avg"]
    }

    fn update<E: Element>(
        &self,
        p: &mut [E],
        g: &[E],
        state: &mut [&mut [E]],
        lr: f64,
        _step: u64,
    ) -> Update {
        let e = E::from_f64_lossy;
        let (alpha, eps, wd, mu, lr) = (
            e(self.alpha),
            e(self.eps),
            e(self.weight_decay),
            e(self.momentum),
            e(lr),
        );
        let [sq, buf, avg] = state else {
            unreachable!("RMSprop has three slots")
        };
        for i in 0..p.len() {
            let gi = g[i] + wd * p[i];
            sq[i] = alpha * sq[i] + (E::one() - alpha) * gi * gi;
            let d = if self.centered {
                avg[i] = alpha * avg[i] + (E::one() - alpha) * gi;
                (sq[i] - avg[i] * avg[i]).sqrt() + eps
            } else {
                sq[i].sqrt() + eps
            };
            if self.momentum > 0.0 {
                buf[i] = mu * buf[i] + gi / d;
                p[i] = p[i] - lr * buf[i];
            } else {
                p[i] = p[i] - lr * gi / d;
            }
        }
        super::checked_after(p, g, state)
    }
}
