//! Sample-quality metrics for toy distributions.
//!
//! Read in this order:
//! 1. [`mode_coverage`]: the VEEGAN / PacGAN protocol for Gaussian mixtures: modes covered,
//!    share of high-quality samples, KL of the mode histogram to uniform.
//! 2. [`wasserstein`]: the exact 1-D Wasserstein-1 distance between two samples, and the
//!    sliced Wasserstein distance between two point clouds built on it.

pub mod mode_coverage;
pub mod wasserstein;

pub use mode_coverage::{mixture_report, MixtureProtocol, MixtureReport};
pub use wasserstein::{sliced_wasserstein, wasserstein1_1d};
