//! Sample-quality metrics.
//!
//! Read in this order:
//! 1. [`mode_coverage`]: the VEEGAN / PacGAN protocol for Gaussian mixtures: modes covered,
//!    share of high-quality samples, KL of the mode histogram to uniform.
//! 2. [`wasserstein`]: the exact 1-D Wasserstein-1 distance between two samples, and the
//!    sliced Wasserstein distance between two point clouds built on it.
//! 3. Metrics on feature sets `[n, d]` (`f64`), each with its formula and paper:
//!    [`frechet`] (Fréchet distance of fitted Gaussians), [`kid`] (kernel inception
//!    distance), [`precision_recall`] (improved precision and recall) and
//!    [`density_coverage`]; the last two on [`pairwise`] distances and k-NN radii computed
//!    through the GEMM in blocks.
//! 4. [`digits_judge`]: the "digits FD": a classifier trained on the digits, whose features
//!    feed [`frechet`].

pub mod density_coverage;
pub mod digits_judge;
pub mod frechet;
pub mod kid;
pub mod mode_coverage;
pub mod pairwise;
pub mod precision_recall;
pub mod wasserstein;

pub use mode_coverage::{mixture_report, MixtureProtocol, MixtureReport};
pub use wasserstein::{sliced_wasserstein, wasserstein1_1d};
