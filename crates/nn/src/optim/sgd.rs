//! SGD with momentum, dampening, Nesterov and weight decay (PyTorch's `torch.optim.SGD`).
//!
//! `g ← g + λp`; with momentum μ: `b ← g` on the first step, else `b ← μb + (1 − τ)g`;
//! then `g ← g + μb` (Nesterov) or `g ← b`; finally `p ← p − η·g`.

use gantry_tensor::Element;

use super::{Rule, Update};

/// SGD's hyperparameters (PyTorch's defaults: all 0, no Nesterov).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sgd {
    /// μ.
    pub momentum: f64,
    /// τ.
    pub dampening: f64,
    /// λ (L2 penalty added to the gradient).
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl Rule for Sgd {
    fn slots(&self) -> &'static [&'static str] {
        &["momentum_buffer"]
    }

    fn update<E: Element>(
        &self,
        p: &mut [E],
        g: &[E],
        state: &mut [&mut [E]],
        lr: f64,
        step: u64,
    ) -> Update {
        let e = E::from_f64_lossy;
        let (mu, tau, wd, lr) = (
            e(self.momentum),
            e(self.dampening),
            e(self.weight_decay),
            e(lr),
        );
        let buf = &mut state[0];
        for i in 0..p.len() {
            let mut d = g[i] + wd * p[i];
            if self.momentum != 0.0 {
                buf[i] = if step == 1 {
                    d
                } else {
                    mu * buf[i] + (E::one() - tau) * d
                };
                d = if self.nesterov {
                    d + mu * buf[i]
                } else {
                    buf[i]
                };
            }
            p[i] = p[i] - lr * d;
        }
        super::checked_after(p, g, state)
    }
}
