//! Mode coverage of a Gaussian mixture: the protocol of VEEGAN (Srivastava et al. 2017) and
//! PacGAN (Lin et al. 2018), introduced with Unrolled GANs (Metz et al. 2017).
//!
//! Given generated samples and the K means of a mixture whose components have standard
//! deviation σ:
//! 1. assign each sample to its **nearest mode** (Euclidean distance);
//! 2. call it **high quality** if that distance is at most 3σ;
//! 3. a mode is **covered** if it receives at least 1% of all samples as high-quality
//!    samples (PacGAN calls a mode lost below 20 of 2,500 samples, i.e. 0.8%);
//! 4. the **KL to uniform** compares the histogram `h` of high-quality samples over modes with
//!    the uniform distribution: `KL(h ‖ U) = Σₖ hₖ·log(K·hₖ) = log K − H(h)`, 0 when every
//!    mode is equally hit and `log K` when a single one is.
//!
//! "Within 3σ" is a Euclidean ball, so the share of a perfect generator's samples that are
//! high quality is `P(‖z‖ ≤ 3)` for `z ~ N(0, I_d)`: 99.73% in 1-D, `1 − e^(−4.5)` ≈ 98.89%
//! in 2-D.

use gantry_tensor::{Element, Tensor};
use serde::{Deserialize, Serialize};

/// The thresholds of the protocol; [`MixtureProtocol::default`] is VEEGAN's 3σ and 1%.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixtureProtocol {
    /// A sample is high quality within `radius_in_stds · σ` of its nearest mode (3).
    pub radius_in_stds: f64,
    /// A mode is covered from this share of all samples as high-quality samples (0.01).
    pub min_mode_share: f64,
}

impl Default for MixtureProtocol {
    fn default() -> Self {
        MixtureProtocol {
            radius_in_stds: 3.0,
            min_mode_share: 0.01,
        }
    }
}

/// The mode-coverage statistics of a set of samples (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixtureReport {
    /// Number of samples assessed.
    pub n_samples: usize,
    /// Number of modes K of the mixture.
    pub n_modes: usize,
    /// Modes receiving at least `min_mode_share · n_samples` (and at least one)
    /// high-quality samples.
    pub modes_covered: usize,
    /// Share of samples within `radius_in_stds · σ` of their nearest mode, in [0, 1].
    pub high_quality_share: f64,
    /// `KL(h ‖ uniform)` in nats for the histogram `h` of high-quality samples over modes, in
    /// `[0, log K]`. When no sample is high quality the histogram is undefined and the value
    /// is `log K`, that of total collapse.
    pub kl_to_uniform: f64,
    /// The histogram: the number of high-quality samples nearest to each mode, in the order
    /// of the modes given.
    pub high_quality_per_mode: Vec<usize>,
}

impl MixtureProtocol {
    /// Assesses `samples` (shape `[n, d]`) against a mixture with the given `modes` (K means of
    /// length d) and per-coordinate standard deviation `std`.
    ///
    /// Samples that are not finite (a diverged generator) are never high quality.
    ///
    /// # Panics
    /// If `samples` is not 2-D or is empty, if there are no modes or a mode's length is not
    /// `d`, or if `std` is not finite and positive.
    pub fn report<E: Element>(
        &self,
        samples: &Tensor<E>,
        modes: &[Vec<f64>],
        std: f64,
    ) -> MixtureReport {
        let shape = samples.shape();
        assert!(
            shape.len() == 2 && shape[0] > 0,
            "mixture_report: samples must have shape [n, d] with n > 0, got {shape:?}"
        );
        let (n, d) = (shape[0], shape[1]);
        assert!(!modes.is_empty(), "mixture_report: no modes given");
        for (k, mode) in modes.iter().enumerate() {
            assert!(
                mode.len() == d,
                "mixture_report: mode {k} has {} coordinates but samples have {d}",
                mode.len()
            );
        }
        assert!(
            std.is_finite() && std > 0.0,
            "mixture_report: std must be finite and positive, got {std}"
        );

        let radius_squared = (self.radius_in_stds * std).powi(2);
        let values = samples.to_vec();
        let mut counts = vec![0usize; modes.len()];
        for point in values.chunks_exact(d) {
            let (nearest, distance_squared) = nearest_mode(point, modes);
            if distance_squared <= radius_squared {
                counts[nearest] += 1;
            }
        }

        let n_high_quality: usize = counts.iter().sum();
        let min_count = self.min_mode_share * n as f64;
        let modes_covered = counts
            .iter()
            .filter(|&&c| c > 0 && c as f64 >= min_count)
            .count();
        MixtureReport {
            n_samples: n,
            n_modes: modes.len(),
            modes_covered,
            high_quality_share: n_high_quality as f64 / n as f64,
            kl_to_uniform: kl_to_uniform(&counts),
            high_quality_per_mode: counts,
        }
    }
}

/// [`MixtureProtocol::report`] with the default protocol (3σ, 1%).
///
/// For a [`crate::data::toy::Toy`] mixture: `mixture_report(&samples, &toy.modes(), toy.std())`.
pub fn mixture_report<E: Element>(
    samples: &Tensor<E>,
    modes: &[Vec<f64>],
    std: f64,
) -> MixtureReport {
    MixtureProtocol::default().report(samples, modes, std)
}

/// The index of the mode nearest to `point` and the squared distance to it (NaN, and so
/// never within any radius, for a point with a NaN coordinate).
fn nearest_mode<E: Element>(point: &[E], modes: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::NAN);
    for (k, mode) in modes.iter().enumerate() {
        let distance_squared: f64 = point
            .iter()
            .zip(mode)
            .map(|(x, m)| (x.to_f64().unwrap_or(f64::NAN) - m).powi(2))
            .sum();
        if k == 0 || distance_squared < best.1 {
            best = (k, distance_squared);
        }
    }
    best
}

/// `KL(h ‖ U) = Σₖ hₖ·log(K·hₖ)` for the histogram `h = counts / Σ counts` over K bins, with
/// `0·log 0 = 0`; `log K` for an empty histogram.
fn kl_to_uniform(counts: &[usize]) -> f64 {
    let k = counts.len() as f64;
    let total: usize = counts.iter().sum();
    if total == 0 {
        return k.ln();
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let h = c as f64 / total as f64;
            h * (k * h).ln()
        })
        .sum::<f64>()
        .max(0.0)
}
