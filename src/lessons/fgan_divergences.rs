//! Which Gaussian is "closest" to two modes depends on the divergence: KL covers, reverse
//! KL seeks.
//!
//! The data is the mixture `P = ½·N(−2, 0.5²) + ½·N(2, 0.5²)`; the model is one Gaussian
//! `Q = N(μ, σ²)` (a generator `x = μ + σ·z`, `z ~ N(0, 1)`, with parameters μ and log σ).
//! For each f-divergence of f-GAN (Nowozin, Cseke & Tomioka 2016, Table 2)
//!
//! ```text
//! D_f(P ‖ Q) = ∫ q(x) · f(p(x) / q(x)) dx
//! ```
//!
//! we find the (μ, σ) that minimizes it. Two classic cases (Minka 2005, "Divergence measures
//! and message passing"; Bishop 2006, §10.1.2; the f-GAN paper's Figure 2 shows the same):
//!
//! - **KL(P ‖ Q)** (`f(u) = u·log u`, maximum likelihood) `= E_P[log p − log q]` is infinite
//!   if q vanishes where p has mass, so Q spreads over both modes: *mass covering*. Its
//!   minimizer over Gaussians matches P's moments, `μ = E_P x = 0`,
//!   `σ² = Var_P x = 0.5² + 2² = 4.25` (σ ≈ 2.06).
//! - **KL(Q ‖ P)** (`f(u) = −log u`, "reverse KL") `= E_Q[log q − log p]` is large wherever
//!   q has mass that p lacks (the valley between the modes), so Q sits on one mode:
//!   *mode seeking*, `μ ≈ ±2`, `σ ≈ 0.5`.
//!
//! **What is computed.** Not the f-GAN saddle point with a neural critic, but the exact
//! divergence between the two densities discretized on a fine grid (701 points on
//! `[−7, 7]`, each density normalized to a probability vector), minimized over (μ, log σ)
//! by Adam on the tape: the answer the f-GAN game converges to when its critic is optimal,
//! without the critic's noise. Each term `qᵢ·f(pᵢ/qᵢ)` is written on the tape in a form that
//! cannot overflow (with `r = log(pᵢ/qᵢ)`: KL `pᵢ·r`, reverse KL `−qᵢ·r`, Jensen–Shannon
//! `pᵢ(log 2 − softplus(−r)) + qᵢ(log 2 − softplus(r))`, …) and checked at the optimum
//! against [`Divergence::divergence`], the library's reference. The fit also reports the
//! variational lower bound of f-GAN at the optimal critic `T* = f′(p/q)`,
//! `E_P T* − E_Q f*(T*)`, which equals the divergence (the Fenchel–Young equality; Nguyen,
//! Wainwright & Jordan 2010).
//!
//! The objective is not convex in (μ, σ), so each divergence is fitted from two starts:
//! wide (`μ = 0.5, σ = 1`, slightly right of the symmetric point, where the gradient of a
//! mode-seeking divergence in μ would vanish) and on one mode (`μ = 2, σ = 0.5`). Forward KL
//! has one minimizer (moment matching) and finds it from both; others (Jensen–Shannon,
//! squared Hellinger, total variation) have a second local minimum, and which one gradient
//! descent finds depends on the start. On the grid, truncated at ±7, a Gaussian's variance
//! is a little below σ², so moment matching lands at σ ≈ 2.07 rather than √4.25 ≈ 2.06.
//!
//! Adam runs with β = (0.5, 0.9), a short memory: far from the optimum the gradients are
//! enormous (Pearson χ²'s `(p − q)²/q` is about `e³⁰` when q sits on one mode) and shrink by
//! orders of magnitude as the fit improves, and a long memory of them would freeze Adam's
//! steps. The learning rate decays linearly from 0.05 to 0, so the fit settles.

use gantry_autograd::{Tape, Var};
use gantry_gan::Divergence;
use gantry_nn::{Adam, Optimizer, Param};
use gantry_tensor::Tensor;

/// The mixture's component means.
pub const MODES: [f64; 2] = [-2.0, 2.0];
/// The mixture's component standard deviation.
pub const MODE_STD: f64 = 0.5;
/// The two starting points `(μ, σ)`: wide and between the modes, and on one mode.
pub const STARTS: [(f64, f64); 2] = [(0.5, 1.0), (2.0, 0.5)];
/// Grid points on `[−7, 7]`.
const GRID_POINTS: usize = 701;
/// Grid half-width.
const GRID_HALF_WIDTH: f64 = 7.0;
/// Adam's initial learning rate for (μ, log σ), decayed linearly to 0.
const LEARNING_RATE: f64 = 0.05;

/// The Gaussian that minimizes one divergence.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The divergence minimized.
    pub divergence: Divergence,
    /// The starting point `(μ, σ)`.
    pub start: (f64, f64),
    /// The fitted mean.
    pub mu: f64,
    /// The fitted standard deviation.
    pub sigma: f64,
    /// `D_f(P ‖ Q)` at the fit, by [`Divergence::divergence`] on the grid.
    pub value: f64,
    /// f-GAN's bound `Σ pᵢ·T*ᵢ − Σ qᵢ·f*(T*ᵢ)` with the optimal critic `T* = f′(p/q)`.
    pub variational_bound: f64,
    /// `|tape value − reference value|` at the fit: the tape's loss is the divergence.
    pub tape_error: f64,
}

/// The target and one fit per f-divergence.
#[derive(Clone, Debug)]
pub struct FganDivergences {
    /// The grid points.
    pub grid: Vec<f64>,
    /// The target's density `p(x)` at the grid points.
    pub target_density: Vec<f64>,
    /// For each of [`Divergence::ALL`] (in that order), the fits from each of [`STARTS`].
    pub fits: Vec<[Fit; 2]>,
}

impl FganDivergences {
    /// The fit of `divergence` from the first start (wide, between the modes).
    pub fn from_wide_start(&self, divergence: Divergence) -> &Fit {
        &self.fits[Self::index(divergence)][0]
    }

    /// The better (lower-divergence) of the two fits of `divergence` (the first on a tie).
    pub fn best(&self, divergence: Divergence) -> &Fit {
        let [a, b] = &self.fits[Self::index(divergence)];
        if b.value < a.value {
            b
        } else {
            a
        }
    }

    fn index(divergence: Divergence) -> usize {
        Divergence::ALL
            .iter()
            .position(|&d| d == divergence)
            .expect("ALL lists every divergence")
    }
}

/// Fits the Gaussian under every f-divergence from both starts, with `steps` Adam steps
/// each.
pub fn run(steps: usize) -> FganDivergences {
    let grid = grid();
    let h = grid[1] - grid[0];
    let target_density = target_masses(&grid).iter().map(|m| m / h).collect();
    let fits = Divergence::ALL
        .iter()
        .map(|&d| STARTS.map(|start| fit(d, start, steps)))
        .collect();
    FganDivergences {
        grid,
        target_density,
        fits,
    }
}

/// Minimizes `D_f(P ‖ N(μ, σ²))` over (μ, log σ) from `start = (μ₀, σ₀)` with `steps` Adam
/// steps (Adam, β = (0.5, 0.9)), the learning rate decaying linearly from 0.05 to 0 (so the
/// fit settles instead of jittering by Adam's step size).
pub fn fit(divergence: Divergence, start: (f64, f64), steps: usize) -> Fit {
    let grid = grid();
    let p = target_masses(&grid);
    let mu = Param::new(Tensor::scalar(start.0));
    let log_sigma = Param::new(Tensor::scalar(start.1.ln()));
    let named = vec![
        ("mu".to_string(), mu.clone()),
        ("log_sigma".into(), log_sigma.clone()),
    ];
    let mut opt = Optimizer::new(named, LEARNING_RATE, Adam::betas(0.5, 0.9));
    for t in 0..steps {
        opt.groups[0].lr = LEARNING_RATE * (1.0 - t as f64 / steps as f64);
        let tape = Tape::<f64>::new();
        let (m, s) = (tape.var(mu.value()), tape.var(log_sigma.value()));
        let loss = divergence_on_tape(divergence, &tape, &grid, &p, m, s);
        opt.step(&tape.grad_values(loss, &[m, s]));
    }
    let (m, s) = (mu.value().item(), log_sigma.value().item());
    let q = gaussian_masses(&grid, m, s.exp());
    let value = divergence.divergence(&p, &q);
    let tape = Tape::<f64>::new();
    let on_tape = divergence_on_tape(
        divergence,
        &tape,
        &grid,
        &p,
        tape.constant(Tensor::scalar(m)),
        tape.constant(Tensor::scalar(s)),
    )
    .item();
    Fit {
        divergence,
        start,
        mu: m,
        sigma: s.exp(),
        value,
        variational_bound: variational_bound(divergence, &p, &q),
        tape_error: (on_tape - value).abs(),
    }
}

/// The grid: 701 points evenly spaced on `[−7, 7]`.
pub fn grid() -> Vec<f64> {
    let step = 2.0 * GRID_HALF_WIDTH / (GRID_POINTS - 1) as f64;
    (0..GRID_POINTS)
        .map(|i| -GRID_HALF_WIDTH + i as f64 * step)
        .collect()
}

/// The density of `N(mu, sigma²)` at `x`.
pub fn normal_density(x: f64, mu: f64, sigma: f64) -> f64 {
    (-0.5 * ((x - mu) / sigma).powi(2)).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())
}

/// The target's masses on the grid (its density at the points, normalized to sum 1).
fn target_masses(grid: &[f64]) -> Vec<f64> {
    let d: Vec<f64> = grid
        .iter()
        .map(|&x| MODES.iter().map(|&m| normal_density(x, m, MODE_STD)).sum())
        .collect();
    let total: f64 = d.iter().sum();
    d.into_iter().map(|v| v / total).collect()
}

/// The model's masses on the grid, normalized to sum 1.
fn gaussian_masses(grid: &[f64], mu: f64, sigma: f64) -> Vec<f64> {
    let d: Vec<f64> = grid.iter().map(|&x| normal_density(x, mu, sigma)).collect();
    let total: f64 = d.iter().sum();
    d.into_iter().map(|v| v / total).collect()
}

/// `Σᵢ qᵢ·f(pᵢ/qᵢ)` on the tape as a function of μ and log σ, each term rewritten in
/// `pᵢ`, `qᵢ` and `r = log pᵢ − log qᵢ` so that no intermediate overflows.
fn divergence_on_tape<'t>(
    divergence: Divergence,
    tape: &'t Tape<f64>,
    grid: &[f64],
    p: &[f64],
    mu: Var<'t, f64>,
    log_sigma: Var<'t, f64>,
) -> Var<'t, f64> {
    let n = grid.len();
    let x = tape.constant(Tensor::from_vec(grid.to_vec(), &[n]));
    // log qᵢ = sᵢ − log Σⱼ exp sⱼ with sᵢ = −½((xᵢ − μ)/σ)² (the grid normalizes q).
    let s = ((x - mu) * (-log_sigma).exp()).square() * -0.5;
    let log_q = s.reshape(&[1, n]).log_softmax(1).reshape(&[n]);
    let q = log_q.exp();
    let log_p_values: Vec<f64> = p.iter().map(|v| v.ln()).collect();
    let log_p = tape.constant(Tensor::from_vec(log_p_values, &[n]));
    let p = tape.constant(Tensor::from_vec(p.to_vec(), &[n]));
    let r = log_p - log_q;
    let ln2 = std::f64::consts::LN_2;
    let terms = match divergence {
        Divergence::TotalVariation => (p - q).abs() * 0.5,
        Divergence::Kl => p * r,
        Divergence::ReverseKl => -(q * r),
        // (p − q)²/q and (p − q)²/p.
        Divergence::Pearson => (p - q).square() * (-log_q).exp(),
        Divergence::Neyman => (p - q).square() * (-log_p).exp(),
        Divergence::SquaredHellinger => ((log_p * 0.5).exp() - (log_q * 0.5).exp()).square(),
        // q·f(u) with log(1 + u) = softplus(r) and log(u/(1 + u)) = −softplus(−r).
        Divergence::JensenShannon => p * (-(-r).softplus() + ln2) + q * (-r.softplus() + ln2),
        Divergence::Gan => -(p * (-r).softplus()) - q * r.softplus(),
    };
    terms.sum()
}

/// `Σ pᵢ·T*ᵢ − Σ qᵢ·f*(T*ᵢ)` with `T*ᵢ = f′(pᵢ/qᵢ)`: f-GAN's objective at its optimal critic.
fn variational_bound(divergence: Divergence, p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(&pi, &qi)| {
            let t = divergence.f_prime(pi / qi);
            pi * t - qi * divergence.f_star(t)
        })
        .sum()
}
