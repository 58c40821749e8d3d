//! # gantry-gan: the objectives of GAN theory, and everything needed to train with them
//!
//! It is **not** a tensor or layer library: it builds on `gantry-autograd` and `gantry-nn`.
//!
//! Read in this order:
//! 1. [`divergence`]: the f-divergences of f-GAN (Nowozin et al. 2016, Table 2).
//! 2. [`objective`]: every GAN loss, from the critic's logits.
//! 3. [`penalty`]: gradient penalties (double backward) and weight clipping.
//! 4. [`toy`]: seeded samplers of the toy distributions (ring8, grid25, ...).
//! 5. [`metrics`]: mode coverage, high-quality share, sliced Wasserstein distance.
//! 6. [`digits`] and [`idx`]: image data (the bundled 8x8 digits, MNIST-style IDX files).
//! 7. [`frechet`] and [`digits_judge`]: the "digits FD" image metric.
//! 8. [`plot`]: PNG pictures (image grids, scatter plots, heat maps, loss curves).
//! 9. [`models`], [`config`], [`data`]: what a run is made of.
//! 10. [`trainer`]: the training loop, checkpoints and resume.

#![warn(missing_docs)]

pub mod config;
pub mod data;
pub mod digits;
pub mod digits_judge;
pub mod divergence;
pub mod frechet;
pub mod idx;
pub mod metrics;
pub mod models;
pub mod objective;
pub mod penalty;
pub mod plot;
pub mod report;
pub mod toy;
pub mod trainer;
pub mod workloads;

pub use config::TrainConfig;
pub use divergence::Divergence;
pub use objective::Objective;
pub use penalty::Penalty;
pub use trainer::{Event, TrainError, Trainer};
