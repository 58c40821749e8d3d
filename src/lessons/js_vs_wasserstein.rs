//! Jensen–Shannon against Wasserstein-1, and why the saturating generator loss goes silent.
//!
//! **Distances between disjoint distributions** (Arjovsky, Chintala & Bottou 2017,
//! "Wasserstein GAN", Example 1). Let `P = δ₀` and `Q_θ = δ_θ` be point masses. Then
//!
//! ```text
//! JS(P, Q_θ) = ½·KL(P ‖ M) + ½·KL(Q_θ ‖ M) = log 2   for every θ ≠ 0   (M = (P + Q_θ)/2)
//! W1(P, Q_θ) = inf_γ E_(x,y)~γ |x − y|   = |θ|
//! ```
//!
//! JS is a constant as long as the supports do not overlap: it says "different" but not "how
//! far", so its gradient in θ is 0. W1 is continuous in θ and its gradient points home. The
//! same holds for narrow Gaussians `N(0, σ²)` and `N(θ, σ²)`: JS rises from 0 to `log 2`
//! within a few σ of θ = 0 and is flat after, while W1 is exactly `|θ|` (a translation).
//!
//! **Gradients the generator receives** (Arjovsky & Bottou 2017, "Towards Principled Methods
//! for Training GANs", Theorems 2.4 and 2.6). Let the generator be the point mass at θ and
//! the real data the point mass at 0. For disjoint supports the optimal discriminator is
//! `D*(0) = 1`, `D*(θ) = 0`; the logistic discriminators
//!
//! ```text
//! D_a(x) = σ(v(x)),   v(x) = a·(θ₀/2 − x)        (the boundary halfway, sharpness a)
//! ```
//!
//! approach it as `a → ∞`, and the minimax value `V(D_a) = log D_a(0) + log(1 − D_a(θ))`
//! rises to its maximum `2·JS − log 4 = 0`. With D frozen (θ₀ the current θ) the generator
//! losses of `gan::losses::objective` and their derivatives in θ are
//!
//! ```text
//! saturating      log(1 − D(θ)) = −softplus(v)   ∂/∂θ = a·σ(−aθ/2)  → 0 as a·θ grows
//! non-saturating  −log D(θ)     = softplus(−v)   ∂/∂θ = a·σ(aθ/2)   ≈ a: grows with a
//! Wasserstein     −f(θ) with the optimal 1-Lipschitz critic f(x) = −|x|:  ∂/∂θ = sign θ
//! ```
//!
//! So the better the discriminator (large a) or the worse the generator (large θ), the less
//! the saturating loss tells the generator; the non-saturating loss keeps a gradient but
//! its size is set by the discriminator's sharpness, not by the distance; the Wasserstein
//! critic's gradient has norm 1 wherever the generator is (`W1 = sup_{‖f‖_L ≤ 1} E_P f −
//! E_Q f`, attained by `f(x) = −|x|`). All three derivatives are computed on the tape from
//! the library's losses ([`Objective::g_loss`]), not from the formulas above, which the
//! tests compare them against.

use gantry_autograd::{Tape, Var};
use gantry_gan::losses::divergence::js_divergence;
use gantry_gan::metrics::wasserstein1_1d;
use gantry_gan::Objective;
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Standard deviation of the narrow Gaussians.
pub const SIGMA: f64 = 0.1;
/// Half-width of the grid the Gaussians are discretized on (`[−3, 3]`).
const GRID_HALF_WIDTH: f64 = 3.0;
/// Grid spacing (1201 points).
const GRID_STEP: f64 = 0.005;
/// Samples per distribution for the W1 estimate.
const W1_SAMPLES: usize = 4000;
/// Sharpness `a` of the discriminator in the distance sweep.
pub const SHARPNESS: f64 = 10.0;
/// The distances of the gradient table.
pub const TABLE_THETAS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 3.0, 4.0];
/// The sharpnesses of the second table (at θ = 1).
pub const TABLE_SHARPNESSES: [f64; 5] = [1.0, 3.0, 10.0, 30.0, 100.0];

/// The two divergences at one distance θ.
#[derive(Clone, Debug)]
pub struct DistanceRow {
    /// The distance between the two distributions.
    pub theta: f64,
    /// `JS(δ₀, δ_θ)` on the grid (nats): `log 2` unless θ rounds to 0.
    pub js_points: f64,
    /// `JS(N(0, σ²), N(θ, σ²))`, both discretized on the grid (nats).
    pub js_gaussians: f64,
    /// `W1(N(0, σ²), N(θ, σ²))` from two independent samples of 4000 (exact 1-D W1 of the
    /// empirical distributions): `|θ|` up to sampling noise of order `σ/√n`.
    pub w1: f64,
}

/// What the generator at θ learns from a frozen discriminator of sharpness `a`.
#[derive(Clone, Debug)]
pub struct GradientRow {
    /// Where the generator's point mass is (the real one is at 0).
    pub theta: f64,
    /// The discriminator's sharpness `a`.
    pub sharpness: f64,
    /// The minimax value `V = log D(0) + log(1 − D(θ))` (its maximum is `2·JS − log 4 = 0`).
    pub minimax_value: f64,
    /// `∂/∂θ log(1 − D(θ))`, the saturating loss of [`Objective::Minimax`].
    pub saturating: f64,
    /// `∂/∂θ −log D(θ)`, the loss of [`Objective::NonSaturating`].
    pub non_saturating: f64,
    /// `∂/∂θ −f(θ)` for the critic `f(x) = −|x|`, the loss of [`Objective::Wasserstein`].
    pub wasserstein: f64,
}

/// Everything the lesson measures.
#[derive(Clone, Debug)]
pub struct JsVsWasserstein {
    /// JS and W1 for θ evenly spaced over `[−2, 2]`.
    pub distances: Vec<DistanceRow>,
    /// Gradients at the distances [`TABLE_THETAS`], sharpness [`SHARPNESS`].
    pub by_distance: Vec<GradientRow>,
    /// Gradients at θ = 1 for the sharpnesses [`TABLE_SHARPNESSES`].
    pub by_sharpness: Vec<GradientRow>,
    /// Gradients for θ evenly spaced over `(0, 4]`, sharpness [`SHARPNESS`] (for a plot).
    pub gradient_curve: Vec<GradientRow>,
}

/// Runs the lesson with `n_thetas` distances in each sweep (at least 2).
pub fn run(n_thetas: usize) -> JsVsWasserstein {
    let n = n_thetas.max(2);
    let distances = (0..n)
        .map(|i| distance_row(-2.0 + 4.0 * i as f64 / (n - 1) as f64, SIGMA))
        .collect();
    let by_distance = TABLE_THETAS
        .iter()
        .map(|&t| generator_gradients(t, SHARPNESS))
        .collect();
    let by_sharpness = TABLE_SHARPNESSES
        .iter()
        .map(|&a| generator_gradients(1.0, a))
        .collect();
    let gradient_curve = (1..=n)
        .map(|i| generator_gradients(4.0 * i as f64 / n as f64, SHARPNESS))
        .collect();
    JsVsWasserstein {
        distances,
        by_distance,
        by_sharpness,
        gradient_curve,
    }
}

/// JS (point masses and Gaussians of standard deviation `sigma`, on the grid) and W1
/// (Gaussians, from samples) at distance `theta`.
pub fn distance_row(theta: f64, sigma: f64) -> DistanceRow {
    let n = (2.0 * GRID_HALF_WIDTH / GRID_STEP).round() as usize + 1;
    let grid: Vec<f64> = (0..n)
        .map(|i| -GRID_HALF_WIDTH + i as f64 * GRID_STEP)
        .collect();
    let index_of = |x: f64| ((x + GRID_HALF_WIDTH) / GRID_STEP).round() as usize;
    let point_mass = |x: f64| {
        let mut m = vec![0.0; n];
        m[index_of(x)] = 1.0;
        m
    };
    let gaussian = |mean: f64| {
        let m: Vec<f64> = grid
            .iter()
            .map(|x| (-0.5 * ((x - mean) / sigma).powi(2)).exp())
            .collect();
        let total: f64 = m.iter().sum();
        m.into_iter().map(|v| v / total).collect::<Vec<_>>()
    };
    let sample = |mean: f64, seed: u64| {
        let z = Tensor::<f64>::randn(&[W1_SAMPLES], &mut ChaCha8Rng::seed_from_u64(seed));
        z.to_vec()
            .into_iter()
            .map(|z| mean + sigma * z)
            .collect::<Vec<_>>()
    };
    DistanceRow {
        theta,
        js_points: js_divergence(&point_mass(0.0), &point_mass(theta)),
        js_gaussians: js_divergence(&gaussian(0.0), &gaussian(theta)),
        w1: wasserstein1_1d(&sample(0.0, 1), &sample(theta, 2)),
    }
}

/// The derivatives in θ of the three generator losses against the frozen discriminator
/// `D_a(x) = σ(a·(θ/2 − x))` (and the critic `f(x) = −|x|`), by backward passes on a tape.
pub fn generator_gradients(theta: f64, sharpness: f64) -> GradientRow {
    let logistic = Critic::Logistic {
        sharpness,
        boundary: theta / 2.0,
    };
    let v_real = sharpness * theta / 2.0;
    let v_fake = -sharpness * theta / 2.0;
    // log σ(v) = −softplus(−v), log(1 − σ(v)) = −softplus(v).
    let minimax_value = -softplus(-v_real) - softplus(v_fake);
    GradientRow {
        theta,
        sharpness,
        minimax_value,
        saturating: loss_gradient(theta, Objective::Minimax, logistic),
        non_saturating: loss_gradient(theta, Objective::NonSaturating, logistic),
        wasserstein: loss_gradient(theta, Objective::Wasserstein, Critic::NegativeDistance),
    }
}

/// A frozen discriminator (or critic), as a function of the sample x.
#[derive(Clone, Copy)]
enum Critic {
    /// The logit `v(x) = a·(b − x)`: `D(x) = σ(v(x))` says "real" left of the boundary `b`.
    Logistic { sharpness: f64, boundary: f64 },
    /// `f(x) = −|x|`, the optimal 1-Lipschitz critic for real data at 0.
    NegativeDistance,
}

impl Critic {
    fn apply<'t>(self, x: Var<'t, f64>) -> Var<'t, f64> {
        match self {
            Critic::Logistic {
                sharpness,
                boundary,
            } => (-x + boundary) * sharpness,
            Critic::NegativeDistance => -x.abs(),
        }
    }
}

/// `∂/∂θ` of `objective`'s generator loss for the fake sample θ (real sample 0).
fn loss_gradient(theta: f64, objective: Objective, critic: Critic) -> f64 {
    let tape = Tape::<f64>::new();
    let x_fake = tape.var(Tensor::from_vec(vec![theta], &[1, 1]));
    let x_real = tape.constant(Tensor::from_vec(vec![0.0], &[1, 1]));
    let loss = objective.g_loss(critic.apply(x_fake), critic.apply(x_real));
    tape.grad(loss, &[x_fake], false)[0].item()
}

/// `log(1 + eˣ)`, stable for large |x|.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}
