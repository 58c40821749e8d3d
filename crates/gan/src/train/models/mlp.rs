//! Fully connected networks for vector data; the defaults are the WGAN-GP toy networks
//! (Gulrajani et al. 2017): `G: z → 512 → 512 → 512 → data`, `D: data → 512 → 512 → 512
//! → 1`, ReLU (or LeakyReLU 0.2), optionally every critic layer spectrally normalized.

use gantry_nn::{LeakyReLU, Linear, ReLU, Sequential, SpectralNorm, Tanh};
use gantry_tensor::Element;
use rand::Rng;

use super::{with_sn, Critic, Generator};

/// The settings of `[model] kind = "mlp"` (see `ModelConfig::Mlp`).
pub struct Mlp<'a> {
    /// Latent dimension.
    pub z_dim: usize,
    /// Widths of the generator's hidden layers.
    pub g_hidden: &'a [usize],
    /// Widths of the critic's hidden layers.
    pub d_hidden: &'a [usize],
    /// LeakyReLU(0.2) instead of ReLU.
    pub leaky: bool,
    /// A tanh on the generator's output.
    pub tanh_output: bool,
    /// Spectral normalization on every critic layer.
    pub spectral_norm: bool,
}

impl Mlp<'_> {
    /// The generator and critic for `dim`-dimensional samples.
    pub fn build<E: Element, R: Rng + ?Sized>(
        &self,
        dim: usize,
        rng: &mut R,
    ) -> (Generator<E>, Critic<E>) {
        let leaky = self.leaky;
        let act = |s: Sequential<E>| {
            if leaky {
                s.add(LeakyReLU(0.2))
            } else {
                s.add(ReLU)
            }
        };
        let mut g = Sequential::new();
        let mut width = self.z_dim;
        for &h in self.g_hidden {
            g = act(g.add(Linear::new(width, h, rng)));
            width = h;
        }
        g = g.add(Linear::new(width, dim, rng));
        if self.tanh_output {
            g = g.add(Tanh);
        }
        let mut trunk = Sequential::new();
        width = dim;
        for &h in self.d_hidden {
            trunk = act(with_sn(
                trunk,
                Linear::new(width, h, rng),
                self.spectral_norm,
                rng,
            ));
            width = h;
        }
        let last = Linear::new(width, 1, rng);
        let critic = if self.spectral_norm {
            Critic::unconditional(trunk, SpectralNorm::new(last, rng))
        } else {
            Critic::unconditional(trunk, last)
        };
        (Generator::unconditional(g), critic)
    }
}
