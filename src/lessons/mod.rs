//! # Lessons: claims of the GAN literature, computed
//!
//! Each module reproduces one claim and returns a small report struct holding the evidence
//! (the numbers a table prints, the points a plot draws). The programs in `examples/` call
//! these functions, print the report and draw it; `tests/lessons.rs` runs them with small
//! sizes and asserts the key number of each. `docs/GUIDE.md` puts them in reading order.
//!
//! Read in this order:
//! 1. [`js_vs_wasserstein`]: JS is `log 2` for any two disjoint distributions, W1 grows
//!    with their distance; the saturating generator loss loses its gradient against a good
//!    discriminator (Arjovsky & Bottou 2017; Arjovsky et al. 2017).
//! 2. [`fgan_divergences`]: fitting one Gaussian to two modes under each f-divergence:
//!    KL covers the modes, reverse KL seeks one (Nowozin et al. 2016; Minka 2005).
//! 3. [`lipschitz`]: three ways to keep a critic 1-Lipschitz (weight clipping, gradient
//!    penalty, spectral normalization) and what each does to its input gradients.
//! 4. [`toy_wgan_gp`]: WGAN-GP on eight Gaussians through the `Trainer`, with the critic's
//!    landscape over training (Gulrajani et al. 2017, Figure 1).
//! 5. [`dcgan_digits`]: an SN + hinge DCGAN on the bundled 8x8 digits, judged by digits FD
//!    (Miyato et al. 2018).

pub mod dcgan_digits;
pub mod fgan_divergences;
pub mod js_vs_wasserstein;
pub mod lipschitz;
pub mod toy_wgan_gp;
