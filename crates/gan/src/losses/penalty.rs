//! Regularizers of the critic: gradient penalties, and weight clipping.
//!
//! | penalty | added to the critic loss | source |
//! |---|---|---|
//! | GradientPenalty | λ·E(‖∇ₓD(x̂)‖₂ − 1)², x̂ = εx_r + (1 − ε)x_f, ε ~ U[0, 1] per sample | Gulrajani et al. 2017 (WGAN-GP) |
//! | GradientPenalty, one-sided | λ·E max(0, ‖∇ₓD(x̂)‖₂ − 1)² | Gulrajani et al. 2017, App. (also Petzka et al. 2018) |
//! | R1 | γ/2·E‖∇ₓD(x_r)‖² | Mescheder et al. 2018 |
//! | R2 | γ/2·E‖∇ₓD(x_f)‖² | Mescheder et al. 2018 |
//! | Dragan | λ·E(‖∇ₓD(x̂)‖₂ − 1)², x̂ = αx + (1 − α)(x + ½·std(x)·u), u ~ U[0, 1] | Kodali et al. 2017 |
//! | WeightClip | none: every critic weight is clamped to [−c, c] after each step | Arjovsky et al. 2017 |
//!
//! A penalty acts at two points of a critic update: [`Penalty::loss`] is the term added to
//! the critic's loss before the gradient, [`Penalty::constrain`] the constraint applied to
//! the weights after the optimizer's step (only clipping has one).
//!
//! Each gradient penalty differentiates the critic's input gradient with respect to the
//! critic's parameters, so it needs the tape's double backward (`create_graph = true`).

use gantry_autograd::{Tape, Var};
use gantry_nn::Param;
use gantry_tensor::{Element, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A critic regularizer (TOML: `penalty = { kind = "gradient_penalty", lambda = 10.0 }`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Penalty {
    /// No penalty.
    None,
    /// WGAN-GP on random interpolates (λ = 10 by default).
    GradientPenalty {
        /// λ.
        #[serde(default = "ten")]
        lambda: f64,
        /// Penalize only norms above 1.
        #[serde(default)]
        one_sided: bool,
    },
    /// γ/2·E‖∇D‖² on real data.
    R1 {
        /// γ.
        gamma: f64,
    },
    /// γ/2·E‖∇D‖² on generated data.
    R2 {
        /// γ.
        gamma: f64,
    },
    /// DRAGAN: the gradient penalty around perturbed real data.
    Dragan {
        /// λ.
        #[serde(default = "ten")]
        lambda: f64,
    },
    /// WGAN's weight clipping to [−c, c] (c = 0.01 in the paper).
    WeightClip {
        /// c.
        #[serde(default = "hundredth")]
        c: f64,
    },
}

fn ten() -> f64 {
    10.0
}
fn hundredth() -> f64 {
    0.01
}

impl Penalty {
    /// Checks the coefficients; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let (name, v) = match *self {
            Penalty::None => return Ok(()),
            Penalty::GradientPenalty { lambda, .. } | Penalty::Dragan { lambda } => {
                ("penalty.lambda", lambda)
            }
            Penalty::R1 { gamma } | Penalty::R2 { gamma } => ("penalty.gamma", gamma),
            Penalty::WeightClip { c } => ("penalty.c", c),
        };
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(format!("{name} must be a finite number ≥ 0, got {v}"))
        }
    }

    /// The penalty term for one critic step, or `None` when the penalty is not a loss term.
    /// `critic` maps a batch to logits `[n, 1]`; `real` and `fake` are data batches.
    pub fn loss<'t, E: Element, R: Rng + ?Sized>(
        &self,
        tape: &'t Tape<E>,
        critic: &dyn Fn(Var<'t, E>) -> Var<'t, E>,
        real: &Tensor<E>,
        fake: &Tensor<E>,
        rng: &mut R,
    ) -> Option<Var<'t, E>> {
        let e = E::from_f64_lossy;
        match *self {
            Penalty::None | Penalty::WeightClip { .. } => None,
            Penalty::GradientPenalty { lambda, one_sided } => {
                let eps = per_sample_uniform(real.shape(), rng);
                let x_hat = eps.mul(real).add(&eps.map(|a| E::one() - a).mul(fake));
                let excess = gradient_norm(tape, critic, x_hat) - E::one();
                let excess = if one_sided { excess.relu() } else { excess };
                Some(excess.square().mean() * e(lambda))
            }
            Penalty::R1 { gamma } => {
                Some(squared_gradient_norm(tape, critic, real.clone()).mean() * e(gamma / 2.0))
            }
            Penalty::R2 { gamma } => {
                Some(squared_gradient_norm(tape, critic, fake.clone()).mean() * e(gamma / 2.0))
            }
            Penalty::Dragan { lambda } => {
                let std = real.sub(&real.mean()).square().mean().item().sqrt();
                let noise = Tensor::rand_uniform(real.shape(), E::zero(), E::one(), rng);
                let perturbed = real.add(&noise.mul_scalar(std * e(0.5)));
                let alpha = per_sample_uniform(real.shape(), rng);
                let x_hat = alpha
                    .mul(real)
                    .add(&alpha.map(|a| E::one() - a).mul(&perturbed));
                Some(
                    (gradient_norm(tape, critic, x_hat) - E::one())
                        .square()
                        .mean()
                        * e(lambda),
                )
            }
        }
    }
}

impl Penalty {
    /// The constraint on the critic's weights after each optimizer step: WGAN's clipping
    /// `w ← clamp(w, −c, c)` for every parameter (Arjovsky et al. 2017, Algorithm 1);
    /// nothing for the other penalties.
    pub fn constrain(&self, critic_params: &[Param<f32>]) {
        if let Penalty::WeightClip { c } = *self {
            let c = c as f32;
            for p in critic_params {
                let mut v = p.borrow_mut();
                v.make_mut().iter_mut().for_each(|x| *x = x.clamp(-c, c));
            }
        }
    }
}

/// `ε ~ U[0, 1]`, one per sample, shaped `[n, 1, …]` to broadcast over a batch of `shape`.
fn per_sample_uniform<E: Element, R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Tensor<E> {
    let mut s = vec![1; shape.len()];
    s[0] = shape[0];
    Tensor::rand_uniform(&s, E::zero(), E::one(), rng)
}

/// `‖∇ₓ D(x)‖²` per sample (summed over all non-batch axes), recorded for double backward.
fn squared_gradient_norm<'t, E: Element>(
    tape: &'t Tape<E>,
    critic: &dyn Fn(Var<'t, E>) -> Var<'t, E>,
    x: Tensor<E>,
) -> Var<'t, E> {
    let x = tape.var(x);
    let g = tape.grad(critic(x).sum(), &[x], true)[0];
    g.flatten().square().sum_axes(&[1], false)
}

/// `‖∇ₓ D(x)‖₂` per sample, `√(‖·‖² + 1e-12)` so the gradient stays finite at 0.
fn gradient_norm<'t, E: Element>(
    tape: &'t Tape<E>,
    critic: &dyn Fn(Var<'t, E>) -> Var<'t, E>,
    x: Tensor<E>,
) -> Var<'t, E> {
    (squared_gradient_norm(tape, critic, x) + E::from_f64_lossy(1e-12)).sqrt()
}
