//! The standard generator and critic architectures, built from a config.
//!
//! - `mlp`: fully connected networks; the defaults are the WGAN-GP toy networks (Gulrajani
//!   et al. 2017): `G: z → 512 → 512 → 512 → data`, `D: data → 512 → 512 → 512 → 1`, ReLU
//!   (or LeakyReLU 0.2), optionally every critic layer spectrally normalized.
//! - `dcgan`: DCGAN (Radford et al. 2016) for `s×s` images, `s` divisible by 4:
//!   `G: z → Linear 2c·(s/4)² (BN, ReLU) → view → ConvT 2c→c k4 s2 p1 (BN, ReLU) →
//!   ConvT c→1 k4 s2 p1 → tanh`; `D: Conv 1→c k4 s2 p1 (LReLU 0.2) → Conv c→2c k4 s2 p1
//!   (LReLU 0.2) → Linear 2c·(s/4)² → 1`, optionally all critic layers spectrally
//!   normalized. With `c = 64`, `s = 28` this is the `dcgan-*` standard workload.

use gantry_nn::{
    BatchNorm, Conv2d, ConvTranspose2d, Flatten, LeakyReLU, Linear, Module, ReLU, Reshape,
    Sequential, SpectralNorm, Tanh, WeightLayer,
};
use gantry_tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which networks to build (TOML: `[model] kind = "mlp"` …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// Fully connected networks for vector data.
    Mlp {
        /// Latent dimension (default 2, as in the WGAN-GP toy script).
        #[serde(default = "two")]
        z_dim: usize,
        /// Widths of the generator's hidden layers (default [512, 512, 512]).
        #[serde(default = "toy_widths")]
        g_hidden: Vec<usize>,
        /// Widths of the critic's hidden layers (default [512, 512, 512]).
        #[serde(default = "toy_widths")]
        d_hidden: Vec<usize>,
        /// LeakyReLU(0.2) instead of ReLU.
        #[serde(default)]
        leaky: bool,
        /// A tanh on the generator's output (for data in [−1, 1]).
        #[serde(default)]
        tanh_output: bool,
        /// Spectral normalization on every critic layer.
        #[serde(default)]
        spectral_norm: bool,
    },
    /// DCGAN-style convolutional networks for single-channel images.
    Dcgan {
        /// Latent dimension (default 100).
        #[serde(default = "hundred")]
        z_dim: usize,
        /// `c`, the channel count of the first critic layer (default 64).
        #[serde(default = "sixty_four")]
        channels: usize,
        /// Spectral normalization on every critic layer.
        #[serde(default)]
        spectral_norm: bool,
    },
}

fn two() -> usize {
    2
}
fn toy_widths() -> Vec<usize> {
    vec![512; 3]
}
fn hundred() -> usize {
    100
}
fn sixty_four() -> usize {
    64
}

impl ModelConfig {
    /// The latent dimension.
    pub fn z_dim(&self) -> usize {
        match self {
            ModelConfig::Mlp { z_dim, .. } | ModelConfig::Dcgan { z_dim, .. } => *z_dim,
        }
    }

    /// Checks sizes against the data shape (per sample); the error names the field.
    pub fn validate(&self, sample_shape: &[usize]) -> Result<(), String> {
        match self {
            ModelConfig::Mlp {
                z_dim,
                g_hidden,
                d_hidden,
                ..
            } => {
                let widths = g_hidden.iter().chain(d_hidden);
                if *z_dim == 0
                    || g_hidden.is_empty()
                    || d_hidden.is_empty()
                    || widths.clone().any(|&w| w == 0)
                {
                    return Err("model.z_dim and every width in model.g_hidden / model.d_hidden must be ≥ 1 (and the lists non-empty)".into());
                }
                if sample_shape.len() != 1 {
                    return Err(format!("model.kind = \"mlp\" needs vector data, but samples have shape {sample_shape:?}"));
                }
            }
            ModelConfig::Dcgan {
                z_dim, channels, ..
            } => {
                if *z_dim == 0 || *channels == 0 {
                    return Err("model.z_dim and model.channels must be ≥ 1".into());
                }
                let square = sample_shape.len() == 3
                    && sample_shape[0] == 1
                    && sample_shape[1] == sample_shape[2];
                if !square || !sample_shape[1].is_multiple_of(4) {
                    return Err(format!(
                        "model.kind = \"dcgan\" needs [1, s, s] images with s divisible by 4, got {sample_shape:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Builds `(generator, critic)` for samples of `sample_shape`, drawing weights from `rng`.
    pub fn build<R: Rng + ?Sized>(
        &self,
        sample_shape: &[usize],
        rng: &mut R,
    ) -> (Sequential, Sequential) {
        match *self {
            ModelConfig::Mlp {
                z_dim,
                ref g_hidden,
                ref d_hidden,
                leaky,
                tanh_output,
                spectral_norm,
            } => {
                let dim = sample_shape[0];
                let act = |s: Sequential| {
                    if leaky {
                        s.add(LeakyReLU(0.2))
                    } else {
                        s.add(ReLU)
                    }
                };
                let mut g = Sequential::new();
                let mut width = z_dim;
                for &h in g_hidden {
                    g = act(g.add(Linear::new(width, h, rng)));
                    width = h;
                }
                g = g.add(Linear::new(width, dim, rng));
                if tanh_output {
                    g = g.add(Tanh);
                }
                let mut d = Sequential::new();
                width = dim;
                for &h in d_hidden {
                    d = act(with_sn(d, Linear::new(width, h, rng), spectral_norm, rng));
                    width = h;
                }
                d = with_sn(d, Linear::new(width, 1, rng), spectral_norm, rng);
                (g, d)
            }
            ModelConfig::Dcgan {
                z_dim,
                channels: c,
                spectral_norm,
            } => {
                let b = sample_shape[1] / 4;
                let g = Sequential::new()
                    .add(dcgan_init(Linear::new(z_dim, 2 * c * b * b, rng), rng))
                    .add(BatchNorm::new_1d(2 * c * b * b))
                    .add(ReLU)
                    .add(Reshape(vec![2 * c, b, b]))
                    .add(dcgan_init(
                        ConvTranspose2d::new(2 * c, c, 4, 2, 1, rng),
                        rng,
                    ))
                    .add(BatchNorm::new_2d(c))
                    .add(ReLU)
                    .add(dcgan_init(ConvTranspose2d::new(c, 1, 4, 2, 1, rng), rng))
                    .add(Tanh);
                let mut d = Sequential::new();
                d = with_sn(
                    d,
                    dcgan_init(Conv2d::new(1, c, 4, 2, 1, rng), rng),
                    spectral_norm,
                    rng,
                )
                .add(LeakyReLU(0.2));
                d = with_sn(
                    d,
                    dcgan_init(Conv2d::new(c, 2 * c, 4, 2, 1, rng), rng),
                    spectral_norm,
                    rng,
                )
                .add(LeakyReLU(0.2));
                d = with_sn(
                    d.add(Flatten),
                    dcgan_init(Linear::new(2 * c * b * b, 1, rng), rng),
                    spectral_norm,
                    rng,
                );
                (g, d)
            }
        }
    }
}

/// Appends `layer`, wrapped in spectral normalization if asked.
fn with_sn<L, R>(seq: Sequential, layer: L, sn: bool, rng: &mut R) -> Sequential
where
    L: WeightLayer<f32> + Module<f32> + 'static,
    R: Rng + ?Sized,
{
    if sn {
        seq.add(SpectralNorm::new(layer, rng))
    } else {
        seq.add(layer)
    }
}

/// DCGAN's init: weight `N(0, 0.02²)`, bias 0.
fn dcgan_init<L: WeightLayer<f32>, R: Rng + ?Sized>(layer: L, rng: &mut R) -> L {
    let w = layer.weight();
    w.set(gantry_nn::init::dcgan_normal(&w.shape(), rng));
    if let Some(b) = layer.bias() {
        b.set(Tensor::zeros(&b.shape()));
    }
    layer
}
