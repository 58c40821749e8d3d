//! Sample-quality metrics.
//!
//! Read in this order:
//! 1. [`mode_coverage`]: the VEEGAN / PacGAN protocol for Gaussian mixtures: modes covered,
//!    share of high-quality samples, KL of the mode histogram to uniform.
//! 2. [`wasserstein`]: the exact 1-D Wasserstein-1 distance between two samples, and the
//!    sliced Wasserstein distance between two point clouds built on it.
//! 3. [`frechet`]: the Fréchet distance between Gaussians fitted to two feature sets.
//! 4. [`digits_judge`]: the "digits FD": a classifier trained on the digits, whose features
//!    feed [`frechet`].

pub mod digits_judge;
pub mod frechet;
pub mod mode_coverage;
pub mod wasserstein;

pub use mode_coverage::{mixture_report, MixtureProtocol, MixtureReport};
pub use wasserstein::{sliced_wasserstein, wasserstein1_1d};
