//! Three ways to keep a Wasserstein critic 1-Lipschitz, and what each does to it.
//!
//! The Kantorovich–Rubinstein duality (Villani 2008, Thm 5.10; used by Arjovsky et al. 2017)
//! writes the Wasserstein-1 distance as a supremum over 1-Lipschitz critics:
//!
//! ```text
//! W1(P, Q) = sup_{‖f‖_L ≤ 1}  E_P f(x) − E_Q f(x)
//! ```
//!
//! A network is not 1-Lipschitz by itself; three ways to make it so (or nearly):
//!
//! - **Weight clipping** (Arjovsky, Chintala & Bottou 2017): clamp every weight to `[−c, c]`
//!   (c = 0.01) after each step. The network is then K-Lipschitz for some K that depends on c
//!   and the widths, far below 1 for c = 0.01, so the critic measures `K·W1` with an unknown,
//!   small K, and its capacity is spent pushing weights against the clip (Gulrajani et al.
//!   2017, §3 and Figure 1).
//! - **Gradient penalty** (Gulrajani et al. 2017, eq. 3): add `λ·E(‖∇ₓf(x̂)‖ − 1)²` on points
//!   `x̂` between real and fake samples. The optimal critic has gradient norm 1 almost
//!   everywhere between the two distributions (their Proposition 1), so the penalty asks for
//!   exactly that, softly and only where it samples.
//! - **Spectral normalization** (Miyato et al. 2018): divide each weight by its largest
//!   singular value. With 1-Lipschitz activations (LeakyReLU) the network's Lipschitz
//!   constant is at most `Πₗ σ(Wₗ/σ(Wₗ)) = 1` everywhere, a hard bound; the product of
//!   per-layer bounds is loose, so the actual gradient norms sit below 1.
//!
//! The experiment: three critics of the same architecture (2 → 64 → 64 → 1, LeakyReLU 0.2),
//! trained with the Wasserstein critic loss `E_Q f − E_P f` by Adam (lr 1e-3, β = (0.5, 0.9),
//! batch 256), P the eight Gaussians of `gan::data::toy` (ring of radius 2) and Q a fixed "bad
//! generator", the standard normal N(0, I). Afterwards we measure `‖∇ₓf(x)‖` at 2000 points
//! `x̂ = εx_r + (1 − ε)x_f` (where the penalty acts) and the critic's estimate
//! `E_P f − E_Q f` of W1 on 4096 fresh samples of each.
//!
//! The SN critic is measured in eval mode after 30 extra power iterations: its `σ` is the
//! running estimate `uᵀWv`, which never exceeds the true largest singular value, so a
//! lagging estimate would let the bound slip above 1 by a little.

use gantry_autograd::Tape;
use gantry_gan::data::toy::Toy;
use gantry_gan::losses::penalty::Penalty;
use gantry_gan::plot::Bounds;
use gantry_gan::Objective;
use gantry_nn::{
    gradients, param_list, Adam, LeakyReLU, Linear, Module, Optimizer, Sequential, SpectralNorm,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Hidden width of the critics.
const WIDTH: usize = 64;
/// Training batch size.
const BATCH: usize = 256;
/// Points at which gradient norms are measured.
const PROBES: usize = 2000;
/// Samples of each distribution for the W1 estimate.
const ESTIMATE_SAMPLES: usize = 4096;
/// The clip of weight clipping (WGAN's c).
pub const CLIP: f32 = 0.01;
/// The gradient penalty's λ.
pub const LAMBDA: f64 = 10.0;
/// Cells across (and up) the critic's heat map.
pub const FIELD_SIDE: usize = 80;

/// How the critic is kept (close to) 1-Lipschitz.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// Every weight clamped to `[−0.01, 0.01]` after each step.
    WeightClip,
    /// WGAN-GP's two-sided penalty with λ = 10.
    GradientPenalty,
    /// Every layer spectrally normalized.
    SpectralNorm,
}

impl Constraint {
    /// The three, in the order of the table.
    pub const ALL: [Constraint; 3] = [
        Constraint::WeightClip,
        Constraint::GradientPenalty,
        Constraint::SpectralNorm,
    ];

    /// A short name for tables and legends.
    pub fn name(self) -> &'static str {
        match self {
            Constraint::WeightClip => "weight clipping",
            Constraint::GradientPenalty => "gradient penalty",
            Constraint::SpectralNorm => "spectral norm",
        }
    }
}

/// What one trained critic looks like.
#[derive(Clone, Debug)]
pub struct CriticReport {
    /// How it was constrained.
    pub constraint: Constraint,
    /// `‖∇ₓf(x̂)‖₂` at each probe point.
    pub gradient_norms: Vec<f64>,
    /// Their mean.
    pub mean_norm: f64,
    /// Their minimum.
    pub min_norm: f64,
    /// Their maximum.
    pub max_norm: f64,
    /// `E_P f − E_Q f` on fresh samples: the critic's estimate of W1.
    pub w1_estimate: f64,
    /// The critic's values on the cells of [`Lipschitz::bounds`] ([`FIELD_SIDE`]² of them,
    /// in the order of [`Bounds::cell_centers`]), for a heat map.
    pub field: Vec<f32>,
}

/// The three critics.
#[derive(Clone, Debug)]
pub struct Lipschitz {
    /// One report per [`Constraint::ALL`], in that order.
    pub critics: Vec<CriticReport>,
    /// The region of the heat maps.
    pub bounds: Bounds,
}

/// Trains the three critics for `steps` steps each and measures them.
pub fn run(steps: usize) -> Lipschitz {
    let bounds = Bounds::square(3.0);
    let critics = Constraint::ALL
        .iter()
        .map(|&c| measure(c, &train_critic(c, steps), bounds))
        .collect();
    Lipschitz { critics, bounds }
}

/// The critic 2 → 64 → 64 → 1 (LeakyReLU 0.2), spectrally normalized if asked.
fn critic(constraint: Constraint, rng: &mut ChaCha8Rng) -> Sequential {
    let sn = constraint == Constraint::SpectralNorm;
    let mut d = Sequential::new();
    for (i, o) in [(2, WIDTH), (WIDTH, WIDTH), (WIDTH, 1)] {
        let layer = Linear::new(i, o, rng);
        d = if sn {
            d.add(SpectralNorm::new(layer, rng))
        } else {
            d.add(layer)
        };
        if o != 1 {
            d = d.add(LeakyReLU(0.2));
        }
    }
    d
}

/// The real data: eight Gaussians on a ring of radius 2.
fn real_batch(n: usize, rng: &mut ChaCha8Rng) -> Tensor<f32> {
    Toy::ring8().sample(n, rng)
}

/// The fixed bad generator: N(0, I).
fn fake_batch(n: usize, rng: &mut ChaCha8Rng) -> Tensor<f32> {
    Tensor::randn(&[n, 2], rng)
}

/// Trains a critic under `constraint` for `steps` Adam steps (same seed for all three).
pub fn train_critic(constraint: Constraint, steps: usize) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let d = critic(constraint, &mut rng);
    let params = param_list(&d);
    let mut opt = Optimizer::new(d.params(), 1e-3, Adam::betas(0.5, 0.9));
    let penalty = match constraint {
        Constraint::GradientPenalty => Penalty::GradientPenalty {
            lambda: LAMBDA,
            one_sided: false,
        },
        _ => Penalty::None,
    };
    for _ in 0..steps {
        let (real, fake) = (real_batch(BATCH, &mut rng), fake_batch(BATCH, &mut rng));
        let grads = {
            let tape = Tape::new();
            let f = |x| d.forward(&tape, x);
            let vr = f(tape.constant(real.clone()));
            let vf = f(tape.constant(fake.clone()));
            let mut loss = Objective::Wasserstein.d_loss(vr, vf);
            if let Some(p) = penalty.loss(&tape, &f, &real, &fake, &mut rng) {
                loss = loss + p;
            }
            gradients(&tape, loss, &params)
        };
        opt.step(&grads);
        if constraint == Constraint::WeightClip {
            for p in &params {
                let mut v = p.borrow_mut();
                v.make_mut()
                    .iter_mut()
                    .for_each(|w| *w = w.clamp(-CLIP, CLIP));
            }
        }
    }
    if constraint == Constraint::SpectralNorm {
        // Converge u and v for the final weights (each training-mode forward is one round).
        let tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[1, 2]));
        tape.no_grad(|| {
            for _ in 0..30 {
                d.forward(&tape, x);
            }
        });
    }
    d.set_training(false);
    d
}

/// Gradient norms at interpolates, the W1 estimate and the heat map of a trained critic.
pub fn measure(constraint: Constraint, d: &Sequential, bounds: Bounds) -> CriticReport {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let (real, fake) = (real_batch(PROBES, &mut rng), fake_batch(PROBES, &mut rng));
    let eps = Tensor::rand_uniform(&[PROBES, 1], 0.0, 1.0, &mut rng);
    let x_hat = eps.mul(&real).add(&eps.map(|e| 1.0 - e).mul(&fake));
    let gradient_norms = input_gradient_norms(d, &x_hat);
    let mean_norm = gradient_norms.iter().sum::<f64>() / gradient_norms.len() as f64;
    let min_norm = gradient_norms.iter().copied().fold(f64::INFINITY, f64::min);
    let max_norm = gradient_norms.iter().copied().fold(0.0, f64::max);
    let values = |x: Tensor<f32>| {
        let tape = Tape::new();
        tape.no_grad(|| d.forward(&tape, tape.constant(x))).value()
    };
    let mean = |t: Tensor<f32>| t.mean().item() as f64;
    let w1_estimate = mean(values(real_batch(ESTIMATE_SAMPLES, &mut rng)))
        - mean(values(fake_batch(ESTIMATE_SAMPLES, &mut rng)));
    let cells = bounds.cell_centers(FIELD_SIDE, FIELD_SIDE);
    let field = values(Tensor::from_vec(cells, &[FIELD_SIDE * FIELD_SIDE, 2])).to_vec();
    CriticReport {
        constraint,
        gradient_norms,
        mean_norm,
        min_norm,
        max_norm,
        w1_estimate,
        field,
    }
}

/// `‖∇ₓf(xᵢ)‖₂` for each row of `x: [n, 2]`: one backward pass of `Σᵢ f(xᵢ)`, whose
/// gradient's row i is `∇ₓf(xᵢ)` because each output depends on its own input only.
pub fn input_gradient_norms(d: &Sequential, x: &Tensor<f32>) -> Vec<f64> {
    let tape = Tape::new();
    let x = tape.var(x.clone());
    let g = tape.grad(d.forward(&tape, x).sum(), &[x], false)[0].value();
    g.to_vec()
        .chunks(2)
        .map(|r| ((r[0] as f64).powi(2) + (r[1] as f64).powi(2)).sqrt())
        .collect()
}
