//! # gantry-gan: the objectives of GAN theory, and everything needed to train with them
//!
//! It is **not** a tensor or layer library: it builds on `gantry-autograd` and `gantry-nn`.
//! Six rooms, one concern each; read them in this order:
//! 1. [`losses`]: f-divergences, every GAN objective, the critic's penalties.
//! 2. [`data`]: toy distributions and image data.
//! 3. [`metrics`]: mode coverage, Wasserstein distances, the Fréchet distance on features.
//! 4. [`plot`]: PNG pictures (image grids, scatter plots, heat maps, loss curves) and the
//!    pictures of a run.
//! 5. [`train`]: models, the config, the training loop, checkpoints and resume.
//! 6. [`export`]: the way out to PyTorch (modules, weights, a DDP training script) and back.

#![warn(missing_docs)]

pub mod data;
pub mod export;
pub mod losses;
pub mod metrics;
pub mod plot;
pub mod train;

pub use losses::{Divergence, Objective, Penalty};
pub use train::{Event, TrainConfig, TrainError, Trainer};
