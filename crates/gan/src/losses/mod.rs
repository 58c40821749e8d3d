//! The losses of GAN training: what the critic and the generator minimize.
//!
//! Read in this order:
//! 1. [`divergence`]: the f-divergences of f-GAN (Nowozin et al. 2016, Table 2).
//! 2. [`objective`]: every GAN loss, from the critic's logits.
//! 3. [`penalty`]: what regularizes the critic: gradient penalties (double backward) and
//!    weight clipping.
//! 4. [`classification`]: AC-GAN's class cross-entropy.

pub mod classification;
pub mod divergence;
pub mod objective;
pub mod penalty;

pub use divergence::Divergence;
pub use objective::Objective;
pub use penalty::Penalty;
