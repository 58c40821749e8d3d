//! Toy distributions for GAN experiments: seeded samplers of 2-D Gaussian mixtures, curves,
//! and 1-D Gaussian mixtures.
//!
//! The two mixtures are the standard mode-collapse benchmarks:
//! - **ring8**: 8 Gaussians with means on a circle of radius 2, σ = 0.02 (Metz et al. 2017,
//!   "Unrolled GANs"; Gulrajani et al. 2017, "Improved Training of Wasserstein GANs");
//! - **grid25**: 25 Gaussians with means on the grid {−4, −2, 0, 2, 4}², σ = 0.05
//!   (Srivastava et al. 2017, "VEEGAN"; Lin et al. 2018, "PacGAN").
//!
//! The toy script of WGAN-GP (`gan_toy.py`) divides its samples by 1.414 (ring8) and
//! 2.828 (grid25), i.e. multiplies them by 1/√2 and 1/(2√2): every 2-D toy has a `scale`
//! field that multiplies its samples, means and σ alike, and [`WGAN_GP_RING8_SCALE`],
//! [`WGAN_GP_GRID25_SCALE`] and [`WGAN_GP_SWISS_ROLL_SCALE`] are those factors.
//!
//! A [`Toy`] is built from a config by serde, tagged by its `name` (TOML:
//! `name = "ring8"`, optionally `scale = 0.7071`; omitted fields take the defaults below),
//! or from a bare name by [`Toy::from_name`]. [`Toy::sample`] draws a batch from any
//! [`rand::Rng`]; [`Toy::sampler`] is an endless iterator of batches from a seed.

use std::f64::consts::{FRAC_1_SQRT_2, PI, TAU};
use std::fmt;

use gantry_tensor::alloc::{try_vec, AllocError};
use gantry_tensor::Tensor;
use rand::distributions::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The WGAN-GP toy script's factor for ring8: `1/√2` (the script divides by 1.414).
pub const WGAN_GP_RING8_SCALE: f64 = FRAC_1_SQRT_2;
/// The WGAN-GP toy script's factor for grid25: `1/(2√2)` (the script divides by 2.828).
pub const WGAN_GP_GRID25_SCALE: f64 = FRAC_1_SQRT_2 / 2.0;
/// The WGAN-GP toy script's factor for the swiss roll: `1/7.5`, the default of
/// [`Toy::SwissRoll`].
pub const WGAN_GP_SWISS_ROLL_SCALE: f64 = 1.0 / 7.5;

/// A toy distribution on ℝ² (or ℝ for [`Toy::Mixture1d`]).
///
/// Each 2-D variant's samples are `scale · (point before scaling)`; [`Toy::modes`] and
/// [`Toy::std`] report the scaled values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Toy {
    /// 8 equally weighted Gaussians `N(μₖ, σ²·I)` with `μₖ = radius·(cos(2πk/8), sin(2πk/8))`,
    /// `k = 0..8`.
    Ring8 {
        /// Radius of the circle of means (default 2).
        #[serde(default = "defaults::ring_radius")]
        radius: f64,
        /// Standard deviation of each coordinate around a mean (default 0.02).
        #[serde(default = "defaults::ring_std")]
        std: f64,
        /// Factor applied to every sample (default 1; [`WGAN_GP_RING8_SCALE`] in WGAN-GP).
        #[serde(default = "defaults::one")]
        scale: f64,
    },
    /// 25 equally weighted Gaussians `N(μ, σ²·I)` with
    /// `μ ∈ {−2s, −s, 0, s, 2s}²` for `s = spacing`.
    Grid25 {
        /// Distance between neighbouring means (default 2, giving {−4, −2, 0, 2, 4}²).
        #[serde(default = "defaults::grid_spacing")]
        spacing: f64,
        /// Standard deviation of each coordinate around a mean (default 0.05).
        #[serde(default = "defaults::grid_std")]
        std: f64,
        /// Factor applied to every sample (default 1; [`WGAN_GP_GRID25_SCALE`] in WGAN-GP).
        #[serde(default = "defaults::one")]
        scale: f64,
    },
    /// The 2-D swiss roll of the WGAN-GP toy script (scikit-learn's `make_swiss_roll`, axes
    /// 0 and 2): `t ~ U[1.5π, 4.5π)`, point `(t·cos t, t·sin t) + noise·N(0, I)`, times
    /// `scale`. An Archimedean spiral of 1.5 turns at radius `t`.
    SwissRoll {
        /// Standard deviation of the Gaussian noise, before scaling (default 0.25).
        #[serde(default = "defaults::swiss_roll_noise")]
        noise: f64,
        /// Factor applied to every sample (default [`WGAN_GP_SWISS_ROLL_SCALE`] = 1/7.5,
        /// which brings the roll into about [−1.9, 1.9]²).
        #[serde(default = "defaults::swiss_roll_scale")]
        scale: f64,
    },
    /// Concentric circles: pick a radius `r` uniformly from `radii`, an angle
    /// `θ ~ U[0, 2π)`, and return `r·(cos θ, sin θ) + noise·N(0, I)`, times `scale`.
    Circles {
        /// Radii of the circles (default [1, 2]).
        #[serde(default = "defaults::circle_radii")]
        radii: Vec<f64>,
        /// Standard deviation of the Gaussian noise, before scaling (default 0.05).
        #[serde(default = "defaults::circle_noise")]
        noise: f64,
        /// Factor applied to every sample (default 1).
        #[serde(default = "defaults::one")]
        scale: f64,
    },
    /// A 1-D Gaussian mixture `Σₖ wₖ·N(meansₖ, stdsₖ²)` with `wₖ = weightsₖ / Σ weights`.
    /// Samples have shape `[n, 1]`. Default: the bimodal `½·N(−2, 0.25²) + ½·N(2, 0.25²)`.
    Mixture1d {
        /// Component means (default [−2, 2]).
        #[serde(default = "defaults::mixture_means")]
        means: Vec<f64>,
        /// Component standard deviations (default [0.25, 0.25]).
        #[serde(default = "defaults::mixture_stds")]
        stds: Vec<f64>,
        /// Unnormalised component weights (default [1, 1]).
        #[serde(default = "defaults::mixture_weights")]
        weights: Vec<f64>,
    },
}

/// The defaults of [`Toy`]'s fields, as serde needs them by path.
mod defaults {
    pub fn one() -> f64 {
        1.0
    }
    pub fn ring_radius() -> f64 {
        2.0
    }
    pub fn ring_std() -> f64 {
        0.02
    }
    pub fn grid_spacing() -> f64 {
        2.0
    }
    pub fn grid_std() -> f64 {
        0.05
    }
    pub fn swiss_roll_noise() -> f64 {
        0.25
    }
    pub fn swiss_roll_scale() -> f64 {
        super::WGAN_GP_SWISS_ROLL_SCALE
    }
    pub fn circle_radii() -> Vec<f64> {
        vec![1.0, 2.0]
    }
    pub fn circle_noise() -> f64 {
        0.05
    }
    pub fn mixture_means() -> Vec<f64> {
        vec![-2.0, 2.0]
    }
    pub fn mixture_stds() -> Vec<f64> {
        vec![0.25, 0.25]
    }
    pub fn mixture_weights() -> Vec<f64> {
        vec![1.0, 1.0]
    }
}

impl Toy {
    /// The config names, in the order of the variants.
    pub const NAMES: [&'static str; 5] = ["ring8", "grid25", "swiss_roll", "circles", "mixture1d"];

    /// Ring8 with its defaults: radius 2, σ 0.02, scale 1.
    pub fn ring8() -> Self {
        Toy::Ring8 {
            radius: defaults::ring_radius(),
            std: defaults::ring_std(),
            scale: 1.0,
        }
    }

    /// Grid25 with its defaults: means {−4, −2, 0, 2, 4}², σ 0.05, scale 1.
    pub fn grid25() -> Self {
        Toy::Grid25 {
            spacing: defaults::grid_spacing(),
            std: defaults::grid_std(),
            scale: 1.0,
        }
    }

    /// The swiss roll of the WGAN-GP toy script: noise 0.25, scale 1/7.5.
    pub fn swiss_roll() -> Self {
        Toy::SwissRoll {
            noise: defaults::swiss_roll_noise(),
            scale: defaults::swiss_roll_scale(),
        }
    }

    /// Two concentric circles of radii 1 and 2 with noise 0.05.
    pub fn circles() -> Self {
        Toy::Circles {
            radii: defaults::circle_radii(),
            noise: defaults::circle_noise(),
            scale: 1.0,
        }
    }

    /// A 1-D Gaussian mixture (see [`Toy::Mixture1d`]; check it with [`Toy::validate`]).
    pub fn mixture1d(means: Vec<f64>, stds: Vec<f64>, weights: Vec<f64>) -> Self {
        Toy::Mixture1d {
            means,
            stds,
            weights,
        }
    }

    /// The default 1-D mixture: `½·N(−2, 0.25²) + ½·N(2, 0.25²)`.
    pub fn bimodal1d() -> Self {
        Self::mixture1d(
            defaults::mixture_means(),
            defaults::mixture_stds(),
            defaults::mixture_weights(),
        )
    }

    /// A single 1-D Gaussian `N(mean, std²)`, as a one-component mixture.
    pub fn gaussian1d(mean: f64, std: f64) -> Self {
        Self::mixture1d(vec![mean], vec![std], vec![1.0])
    }

    /// The toy called `name` (one of [`Toy::NAMES`]) with its default parameters, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ring8" => Some(Self::ring8()),
            "grid25" => Some(Self::grid25()),
            "swiss_roll" => Some(Self::swiss_roll()),
            "circles" => Some(Self::circles()),
            "mixture1d" => Some(Self::bimodal1d()),
            _ => None,
        }
    }

    /// The config name (the serde tag), e.g. `"ring8"`.
    pub fn name(&self) -> &'static str {
        match self {
            Toy::Ring8 { .. } => "ring8",
            Toy::Grid25 { .. } => "grid25",
            Toy::SwissRoll { .. } => "swiss_roll",
            Toy::Circles { .. } => "circles",
            Toy::Mixture1d { .. } => "mixture1d",
        }
    }

    /// The same distribution with every sample multiplied by `factor`: multiplies `scale`
    /// (2-D toys), or the means and standard deviations (1-D mixture). For example
    /// `Toy::ring8().scaled(WGAN_GP_RING8_SCALE)` is the WGAN-GP script's ring.
    pub fn scaled(self, factor: f64) -> Self {
        match self {
            Toy::Ring8 { radius, std, scale } => Toy::Ring8 {
                radius,
                std,
                scale: scale * factor,
            },
            Toy::Grid25 {
                spacing,
                std,
                scale,
            } => Toy::Grid25 {
                spacing,
                std,
                scale: scale * factor,
            },
            Toy::SwissRoll { noise, scale } => Toy::SwissRoll {
                noise,
                scale: scale * factor,
            },
            Toy::Circles {
                radii,
                noise,
                scale,
            } => Toy::Circles {
                radii,
                noise,
                scale: scale * factor,
            },
            Toy::Mixture1d {
                means,
                stds,
                weights,
            } => Toy::Mixture1d {
                means: means.iter().map(|m| m * factor).collect(),
                stds: stds.iter().map(|s| s * factor.abs()).collect(),
                weights,
            },
        }
    }

    /// The dimension of a sample: 1 for [`Toy::Mixture1d`], else 2.
    pub fn dim(&self) -> usize {
        match self {
            Toy::Mixture1d { .. } => 1,
            _ => 2,
        }
    }

    /// Whether the toy is a Gaussian mixture with discrete modes (ring8, grid25, mixture1d),
    /// the toys that [`crate::metrics::mixture_report`] applies to.
    pub fn is_mixture(&self) -> bool {
        matches!(
            self,
            Toy::Ring8 { .. } | Toy::Grid25 { .. } | Toy::Mixture1d { .. }
        )
    }

    /// The means of the mixture components, after scaling, each of length [`Toy::dim`];
    /// empty for the continuous toys (swiss roll, circles).
    ///
    /// Ring8 lists `k = 0..8` counterclockwise from `(radius, 0)`; grid25 lists the grid
    /// row by row, `(x, y)` for `x` then `y` in `{−2s, …, 2s}`.
    pub fn modes(&self) -> Vec<Vec<f64>> {
        match self {
            Toy::Ring8 { radius, scale, .. } => (0..8)
                .map(|k| {
                    let angle = TAU * k as f64 / 8.0;
                    vec![scale * radius * angle.cos(), scale * radius * angle.sin()]
                })
                .collect(),
            Toy::Grid25 { spacing, scale, .. } => (0..25)
                .map(|k| {
                    let (i, j) = (grid_offset(k / 5), grid_offset(k % 5));
                    vec![scale * spacing * i, scale * spacing * j]
                })
                .collect(),
            Toy::Mixture1d { means, .. } => means.iter().map(|&m| vec![m]).collect(),
            Toy::SwissRoll { .. } | Toy::Circles { .. } => Vec::new(),
        }
    }

    /// The normalised weights of the components listed by [`Toy::modes`] (uniform for ring8
    /// and grid25); empty for the continuous toys.
    pub fn weights(&self) -> Vec<f64> {
        match self {
            Toy::Ring8 { .. } => vec![1.0 / 8.0; 8],
            Toy::Grid25 { .. } => vec![1.0 / 25.0; 25],
            Toy::Mixture1d { weights, .. } => {
                let total: f64 = weights.iter().sum();
                weights.iter().map(|w| w / total).collect()
            }
            Toy::SwissRoll { .. } | Toy::Circles { .. } => Vec::new(),
        }
    }

    /// The standard deviation σ of each coordinate of the Gaussian around a mode (ring8,
    /// grid25) or around the curve (swiss roll, circles), after scaling. For a 1-D mixture
    /// with unequal components it is the largest component's σ (so a 3σ test around each
    /// mode is the most lenient one).
    pub fn std(&self) -> f64 {
        match self {
            Toy::Ring8 { std, scale, .. } | Toy::Grid25 { std, scale, .. } => std * scale.abs(),
            Toy::SwissRoll { noise, scale } | Toy::Circles { noise, scale, .. } => {
                noise * scale.abs()
            }
            Toy::Mixture1d { stds, .. } => stds.iter().copied().fold(0.0, f64::max),
        }
    }

    /// Checks the parameters: finite numbers, non-negative σ and radii, matching lengths and
    /// weights with a positive sum for the 1-D mixture.
    pub fn validate(&self) -> Result<(), InvalidToy> {
        let fail = |message: String| {
            Err(InvalidToy {
                name: self.name(),
                message,
            })
        };
        let bad_std = |s: f64| !(s.is_finite() && s >= 0.0);
        match self {
            Toy::Ring8 {
                radius: size,
                std,
                scale,
            }
            | Toy::Grid25 {
                spacing: size,
                std,
                scale,
            } => {
                let size_name = if let Toy::Ring8 { .. } = self {
                    "radius"
                } else {
                    "spacing"
                };
                if !size.is_finite() {
                    return fail(format!("{size_name} must be finite, got {size}"));
                }
                if !scale.is_finite() {
                    return fail(format!("scale must be finite, got {scale}"));
                }
                if bad_std(*std) {
                    return fail(format!("std must be finite and >= 0, got {std}"));
                }
            }
            Toy::SwissRoll { noise, scale } | Toy::Circles { noise, scale, .. } => {
                if !scale.is_finite() {
                    return fail(format!("scale must be finite, got {scale}"));
                }
                if bad_std(*noise) {
                    return fail(format!("noise must be finite and >= 0, got {noise}"));
                }
                if let Toy::Circles { radii, .. } = self {
                    if radii.is_empty() || radii.iter().any(|&r| bad_std(r)) {
                        return fail(format!(
                            "radii must be a non-empty list of finite values >= 0, got {radii:?}"
                        ));
                    }
                }
            }
            Toy::Mixture1d {
                means,
                stds,
                weights,
            } => {
                if means.is_empty() || means.len() != stds.len() || means.len() != weights.len() {
                    return fail(format!(
                        "means, stds and weights must have the same non-zero length, got {}, {} and {}",
                        means.len(),
                        stds.len(),
                        weights.len()
                    ));
                }
                if means.iter().any(|m| !m.is_finite()) {
                    return fail(format!("means must be finite, got {means:?}"));
                }
                if stds.iter().any(|&s| bad_std(s)) {
                    return fail(format!("stds must be finite and >= 0, got {stds:?}"));
                }
                let total: f64 = weights.iter().sum();
                if weights.iter().any(|&w| bad_std(w)) || !(total > 0.0 && total.is_finite()) {
                    return fail(format!(
                        "weights must be finite, >= 0 and not all 0, got {weights:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Draws `n` independent samples, as an `f32` tensor of shape `[n, dim]`.
    ///
    /// The draws from `rng` are, per sample: the component index (mixtures, circles) or the
    /// curve parameter `t` (swiss roll), the circle angle (circles), then one standard normal
    /// per coordinate. The same `rng` state therefore always gives the same batch.
    ///
    /// # Panics
    /// If [`Toy::validate`] fails, or if memory for `n` samples cannot be allocated (see
    /// [`Toy::try_sample`] for sizes that come from a user).
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Tensor<f32> {
        self.try_sample(n, rng).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Toy::sample`], or the error if the `[n, dim]` buffer cannot be allocated.
    ///
    /// # Panics
    /// If [`Toy::validate`] fails.
    pub fn try_sample<R: Rng + ?Sized>(
        &self,
        n: usize,
        rng: &mut R,
    ) -> Result<Tensor<f32>, AllocError> {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let dim = self.dim();
        let mut data = try_vec(n, dim)?;
        match self {
            Toy::Ring8 { radius, std, scale } => {
                for _ in 0..n {
                    let angle = TAU * rng.gen_range(0..8) as f64 / 8.0;
                    let (x, y) = (radius * angle.cos(), radius * angle.sin());
                    push_noisy(&mut data, [x, y], *std, *scale, rng);
                }
            }
            Toy::Grid25 {
                spacing,
                std,
                scale,
            } => {
                for _ in 0..n {
                    let k = rng.gen_range(0..25);
                    let (x, y) = (spacing * grid_offset(k / 5), spacing * grid_offset(k % 5));
                    push_noisy(&mut data, [x, y], *std, *scale, rng);
                }
            }
            Toy::SwissRoll { noise, scale } => {
                for _ in 0..n {
                    let t = 1.5 * PI * (1.0 + 2.0 * rng.gen::<f64>());
                    push_noisy(&mut data, [t * t.cos(), t * t.sin()], *noise, *scale, rng);
                }
            }
            Toy::Circles {
                radii,
                noise,
                scale,
            } => {
                for _ in 0..n {
                    let r = radii[rng.gen_range(0..radii.len())];
                    let angle = TAU * rng.gen::<f64>();
                    let (x, y) = (r * angle.cos(), r * angle.sin());
                    push_noisy(&mut data, [x, y], *noise, *scale, rng);
                }
            }
            Toy::Mixture1d {
                means,
                stds,
                weights,
            } => {
                let component = WeightedIndex::new(weights).expect("weights validated above");
                for _ in 0..n {
                    let k = component.sample(rng);
                    let z: f64 = StandardNormal.sample(rng);
                    data.push((means[k] + stds[k] * z) as f32);
                }
            }
        }
        Ok(Tensor::from_vec(data, &[n, dim]))
    }

    /// An endless iterator of batches of `batch_size` samples, drawn from a
    /// [`ChaCha8Rng`] seeded with `seed`: the same seed always gives the same batches, on
    /// every platform.
    ///
    /// # Panics
    /// If [`Toy::validate`] fails.
    pub fn sampler(&self, batch_size: usize, seed: u64) -> Sampler {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        Sampler {
            toy: self.clone(),
            batch_size,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

/// An endless, seeded iterator of batches of a [`Toy`] (see [`Toy::sampler`]).
#[derive(Clone, Debug)]
pub struct Sampler {
    toy: Toy,
    batch_size: usize,
    rng: ChaCha8Rng,
}

impl Sampler {
    /// The toy this sampler draws from.
    pub fn toy(&self) -> &Toy {
        &self.toy
    }
}

impl Iterator for Sampler {
    type Item = Tensor<f32>;

    /// The next batch, of shape `[batch_size, dim]`; never `None`.
    fn next(&mut self) -> Option<Tensor<f32>> {
        Some(self.toy.sample(self.batch_size, &mut self.rng))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// A [`Toy`] whose parameters make no distribution (see [`Toy::validate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidToy {
    /// The toy's name, e.g. `"ring8"`.
    pub name: &'static str,
    /// What is wrong, with the offending values.
    pub message: String,
}

impl fmt::Display for InvalidToy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid toy distribution {}: {}",
            self.name, self.message
        )
    }
}

impl std::error::Error for InvalidToy {}

/// Grid coordinate `−2, −1, 0, 1, 2` of index `0..5`.
fn grid_offset(index: usize) -> f64 {
    index as f64 - 2.0
}

/// Appends `scale · (mean + std·z)` with `z ~ N(0, I)` drawn from `rng`.
fn push_noisy<R: Rng + ?Sized>(
    data: &mut Vec<f32>,
    mean: [f64; 2],
    std: f64,
    scale: f64,
    rng: &mut R,
) {
    for m in mean {
        let z: f64 = StandardNormal.sample(rng);
        data.push((scale * (m + std * z)) as f32);
    }
}
