//! # gantry-gan: the objectives of GAN theory, and everything needed to train with them
//!
//! Read in this order:
//! 1. [`divergence`]: the f-divergences of f-GAN (Nowozin et al. 2016, Table 2).
//! 2. [`toy`]: seeded samplers of the toy distributions (ring8, grid25, ...).
//! 3. [`metrics`]: mode coverage, high-quality share, sliced Wasserstein distance.
//! 4. [`digits`] and [`idx`]: image data (the bundled 8x8 digits, MNIST-style IDX files).
//! 5. [`plot`]: PNG pictures (image grids, scatter plots, heat maps, loss curves).

pub mod digits;
pub mod divergence;
pub mod idx;
pub mod metrics;
pub mod plot;
pub mod toy;
