//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam(W)`.
//!
//! Adam: `g ← g + λp`; AdamW instead decays the weight directly, `p ← p·(1 − ηλ)`. Then
//! `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`, and with `t` the step number
//! `p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.

use gantry_tensor::Element;

use super::Rule;

/// Adam's hyperparameters.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    /// β₁ (default 0.9).
    pub beta1: f64,
    /// β₂ (default 0.999).
    pub beta2: f64,
    /// ε (default 1e-8).
    pub eps: f64,
    /// λ (default 0).
    pub weight_decay: f64,
    /// AdamW's decoupled weight decay instead of an L2 term in the gradient.
    pub decoupled: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl Adam {
    /// Adam with betas `(β₁, β₂)` and the other defaults.
    pub fn betas(beta1: f64, beta2: f64) -> Self {
        Adam {
            beta1,
            beta2,
            ..Self::default()
        }
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01).
    pub fn adamw() -> Self {
        Adam {
            weight_decay: 0.01,
            decoupled: true,
            ..Self::default()
        }
    }
}

impl Rule for Adam {
    fn slots(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }

    fn update<E: Element>(&self, p: &mut [E], g: &[E], state: &mut [&mut [E]], lr: f64, step: u64) {
        let e = E::from_f64_lossy;
        let (b1, b2, eps, wd) = (
            e(self.beta1),
            e(self.beta2),
            e(self.eps),
            e(self.weight_decay),
        );
        let t = step as i32;
        let step_size = e(lr / (1.0 - self.beta1.powi(t)));
        let bc2_sqrt = e((1.0 - self.beta2.powi(t)).sqrt());
        let decay = e(1.0 - lr * self.weight_decay);
        let [m, v] = state else {
            unreachable!("Adam has two slots")
        };
        if self.decoupled {
            p.iter_mut().for_each(|x| *x = *x * decay);
        }
        let l2 = if self.decoupled { E::zero() } else { wd };
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = g + l2 * *p;
            *m = *m + (E::one() - b1) * (g - *m);
            *v = *v * b2 + (E::one() - b2) * g * g;
            *p = *p - step_size * *m / (v.sqrt() / bc2_sqrt + eps);
        }
    }
}
