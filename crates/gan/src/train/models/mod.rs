//! The standard generator and critic architectures, built from a config.
//!
//! - `mlp` ([`mlp`]): fully connected networks; the defaults are the WGAN-GP toy networks
//!   (Gulrajani et al. 2017).
//! - `dcgan` ([`dcgan`]): DCGAN (Radford et al. 2016) for `C×s×s` images, one stride-2
//!   stage per doubling of the image side; with spectral norm on the critic, SNGAN
//!   (Miyato et al. 2018). Optionally class-conditional (`[model.conditional]`).
//!
//! The networks are a [`Generator`] and a [`Critic`] ([`networks`]); the data supplies the
//! sample shape and, for a conditional model, the number of classes.
//!
//! ```toml
//! [model]
//! kind = "dcgan"
//! spectral_norm = true
//!
//! [model.conditional]
//! generator = "cbn"        # or "concat"
//! critic = "projection"    # or "acgan" (then `acgan_weight = 1.0` may be set)
//! ```

pub mod dcgan;
pub mod mlp;
pub mod networks;

use gantry_nn::{Module, Sequential, SpectralNorm, WeightLayer};
use gantry_tensor::{Element, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

pub use networks::{Critic, CriticOutput, Generator};

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
    /// DCGAN-style convolutional networks for `C×s×s` images (`C` = 1 or 3).
    Dcgan {
        /// Latent dimension (default 100).
        #[serde(default = "hundred")]
        z_dim: usize,
        /// `c`, the channel count of the first critic layer (default 64).
        #[serde(default = "sixty_four")]
        channels: usize,
        /// Spectral normalization on every critic layer (SNGAN).
        #[serde(default)]
        spectral_norm: bool,
        /// Class conditioning (`[model.conditional]`); unconditional if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conditional: Option<Conditioning>,
    },
}

/// How a conditional model takes the class label (TOML: `[model.conditional]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditioning {
    /// How the generator takes the class.
    pub generator: GeneratorConditioning,
    /// How the critic takes the class.
    pub critic: CriticConditioning,
    /// Weight of AC-GAN's class cross-entropy in both losses (`critic = "acgan"` only;
    /// default 1, as in Odena et al. 2017).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acgan_weight: Option<f64>,
}

/// How a conditional generator takes the class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorConditioning {
    /// Conditional batch norm: every batch norm gets a per-class gain and bias (de Vries
    /// et al. 2017; Miyato & Koyama 2018).
    Cbn,
    /// A learned label embedding (`num_classes` wide) concatenated to `z`.
    Concat,
}

/// How a conditional critic takes the class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticConditioning {
    /// Projection discriminator (Miyato & Koyama 2018): `ψ(φ(x)) + ⟨embed(y), φ(x)⟩`.
    Projection,
    /// AC-GAN (Odena et al. 2017): an auxiliary head classifies real and fake samples.
    Acgan,
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

    /// The class conditioning, if the model is conditional.
    pub fn conditioning(&self) -> Option<&Conditioning> {
        match self {
            ModelConfig::Mlp { .. } => None,
            ModelConfig::Dcgan { conditional, .. } => conditional.as_ref(),
        }
    }

    /// The weight of AC-GAN's class cross-entropy, if the critic is an AC-GAN one.
    pub fn acgan_weight(&self) -> Option<f64> {
        let c = self.conditioning()?;
        (c.critic == CriticConditioning::Acgan).then(|| c.acgan_weight.unwrap_or(1.0))
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
                z_dim,
                channels,
                conditional,
                ..
            } => {
                if *z_dim == 0 || *channels == 0 {
                    return Err("model.z_dim and model.channels must be ≥ 1".into());
                }
                dcgan::Plan::for_shape(sample_shape)?;
                if let Some(c) = conditional {
                    c.validate()?;
                }
            }
        }
        Ok(())
    }

    /// Builds the generator and critic for samples of `sample_shape`, drawing weights from
    /// `rng`; `num_classes` is the data's class count (`None` for unlabelled data).
    ///
    /// An error names the field: the shape does not fit (see [`ModelConfig::validate`]),
    /// or a conditional model has no classes to condition on.
    pub fn build<E: Element, R: Rng + ?Sized>(
        &self,
        sample_shape: &[usize],
        num_classes: Option<usize>,
        rng: &mut R,
    ) -> Result<(Generator<E>, Critic<E>), String> {
        self.validate(sample_shape)?;
        match *self {
            ModelConfig::Mlp {
                z_dim,
                ref g_hidden,
                ref d_hidden,
                leaky,
                tanh_output,
                spectral_norm,
            } => {
                let mlp = mlp::Mlp {
                    z_dim,
                    g_hidden,
                    d_hidden,
                    leaky,
                    tanh_output,
                    spectral_norm,
                };
                Ok(mlp.build(sample_shape[0], rng))
            }
            ModelConfig::Dcgan {
                z_dim,
                channels,
                spectral_norm,
                ref conditional,
            } => {
                let classes = match (conditional, num_classes) {
                    (None, _) => None,
                    (Some(c), Some(k)) if k >= 1 => Some((c, k)),
                    (Some(_), _) => {
                        return Err("model.conditional needs labelled data (one class per sample), but the data has no labels".into())
                    }
                };
                let plan = dcgan::Plan::for_shape(sample_shape)?;
                let dcgan = dcgan::Dcgan {
                    z_dim,
                    channels,
                    spectral_norm,
                    plan,
                };
                Ok(dcgan.build(classes, rng))
            }
        }
    }
}

impl Conditioning {
    /// `acgan_weight` only with an AC-GAN critic, finite and ≥ 0.
    fn validate(&self) -> Result<(), String> {
        match self.acgan_weight {
            Some(_) if self.critic != CriticConditioning::Acgan => {
                Err("model.conditional.acgan_weight is only used with critic = \"acgan\"".into())
            }
            Some(w) if !(w.is_finite() && w >= 0.0) => Err(format!(
                "model.conditional.acgan_weight must be a finite number ≥ 0, got {w}"
            )),
            _ => Ok(()),
        }
    }
}

/// Appends `layer`, wrapped in spectral normalization if asked.
fn with_sn<E, L, R>(seq: Sequential<E>, layer: L, sn: bool, rng: &mut R) -> Sequential<E>
where
    E: Element,
    L: WeightLayer<E> + Module<E> + 'static,
    R: Rng + ?Sized,
{
    if sn {
        seq.add(SpectralNorm::new(layer, rng))
    } else {
        seq.add(layer)
    }
}

/// `layer`, wrapped in spectral normalization if asked, as a boxed module.
fn maybe_sn<E, L, R>(layer: L, sn: bool, rng: &mut R) -> Box<dyn Module<E>>
where
    E: Element,
    L: WeightLayer<E> + Module<E> + 'static,
    R: Rng + ?Sized,
{
    if sn {
        Box::new(SpectralNorm::new(layer, rng))
    } else {
        Box::new(layer)
    }
}

/// DCGAN's init: weight `N(0, 0.02²)`, bias 0.
fn dcgan_init<E: Element, L: WeightLayer<E>, R: Rng + ?Sized>(layer: L, rng: &mut R) -> L {
    let w = layer.weight();
    w.set(gantry_nn::init::dcgan_normal(&w.shape(), rng));
    if let Some(b) = layer.bias() {
        b.set(Tensor::zeros(&b.shape()));
    }
    layer
}
