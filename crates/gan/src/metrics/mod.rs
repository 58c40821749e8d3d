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
//! 4. [`feature_net`]: a classifier (or autoencoder, for unlabelled data) trained by gantry
//!    on each data set and cached, whose features feed 3; [`image_metrics`]: all of them
//!    for a generated set, beside their real-vs-real floors.
//! 5. [`digits_judge`]: the earlier "digits FD" judge (the trainer still uses it): the same
//!    network as [`feature_net`] builds for the digits; a classifier whose features
//!    feed [`frechet`].

pub mod density_coverage;
pub mod digits_judge;
pub mod feature_net;
pub mod frechet;
pub mod image_metrics;
pub mod kid;
pub mod mode_coverage;
pub mod pairwise;
pub mod precision_recall;
pub mod wasserstein;

pub use feature_net::FeatureNet;
pub use image_metrics::ImageMetrics;
pub use mode_coverage::{mixture_report, MixtureProtocol, MixtureReport};
pub use wasserstein::{sliced_wasserstein, wasserstein1_1d};
