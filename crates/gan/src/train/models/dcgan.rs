//! DCGAN (Radford et al. 2016) for `C×s×s` images, and its class-conditional variants.
//!
//! **Stages.** The generator starts from a `b×b` base and doubles the side in each of `k`
//! stride-2 stages (`s = b·2ᵏ`); the critic halves it `k` times. The rule
//! ([`Plan::for_shape`]): two stages from a `(s/4)²` base, and one more stage for each
//! further halving of the base while it is even and larger than 4. So 8×8 digits: 2×2
//! base, 2 stages; 28×28: 7×7, 2 stages; 32×32: 4×4, 3 stages; 64×64: 4×4, 4 stages (the
//! DCGAN paper's LSUN network). Widths double per stage down the critic and halve per
//! stage up the generator, with `c` the first critic layer's width:
//!
//! - `G: z → Linear c·2ᵏ⁻¹·b² (BN, ReLU) → view [c·2ᵏ⁻¹, b, b] → k−1 × (ConvT k4 s2 p1
//!   halving the width, BN, ReLU) → ConvT c→C k4 s2 p1 → tanh`;
//! - `D = ψ∘φ`, `φ: k × (Conv k4 s2 p1 doubling the width from c, LReLU 0.2) → flatten`,
//!   `ψ: Linear c·2ᵏ⁻¹·b² → 1`; optionally every critic layer spectrally normalized (SNGAN,
//!   Miyato et al. 2018).
//!
//! With `c = 64`, `s = 28` this is the `dcgan-*` standard workload; `k = 2` networks are
//! layer for layer (and name for name) the two-stage networks gantry always built.
//!
//! **Conditional** (`[model.conditional]`, `K` classes): the generator's batch norms become
//! [`ConditionalBatchNorm`]s (`cbn`), or a `K`-wide label embedding is concatenated to `z`
//! (`concat`); the critic adds `⟨embed(y), φ(x)⟩` to its logit, the `[K, features]`
//! embedding spectrally normalized with the rest (`projection`), or a classifier
//! `Linear features → K` on `φ(x)` (`acgan`). Weights: DCGAN's `N(0, 0.02²)` init.

use gantry_nn::{
    BatchNorm, ConditionalBatchNorm, Conv2d, ConvTranspose2d, Embedding, Flatten, LeakyReLU,
    Linear, Module, ReLU, Reshape, Sequential, Tanh,
};
use gantry_tensor::Element;
use rand::Rng;

use super::{dcgan_init, maybe_sn, with_sn, Conditioning, CriticConditioning};
use super::{Critic, Generator, GeneratorConditioning};

/// The geometry of a DCGAN for one image shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Image channels `C`.
    pub image_channels: usize,
    /// The side `b` of the generator's first feature map (and the critic's last).
    pub base: usize,
    /// The number `k` of stride-2 stages (`s = b·2ᵏ`).
    pub stages: usize,
}

impl Plan {
    /// The plan for samples of shape `[C, s, s]`, or an error naming the model and the
    /// data's shape: `C` must be 1 or 3 and `s` a multiple of 4.
    pub fn for_shape(sample_shape: &[usize]) -> Result<Plan, String> {
        let fits = matches!(sample_shape, &[c, h, w] if (c == 1 || c == 3) && h == w && h > 0 && h % 4 == 0);
        if !fits {
            return Err(format!(
                "model.kind = \"dcgan\" needs [C, s, s] images with C = 1 or 3 and s divisible by 4 (e.g. 8, 28, 32, 64), but the data's samples have shape {sample_shape:?}"
            ));
        }
        let (mut base, mut stages) = (sample_shape[1] / 4, 2);
        while base > 4 && base.is_multiple_of(2) {
            base /= 2;
            stages += 1;
        }
        Ok(Plan {
            image_channels: sample_shape[0],
            base,
            stages,
        })
    }
}

/// The settings of `[model] kind = "dcgan"` with the plan for the data's shape.
pub struct Dcgan {
    /// Latent dimension.
    pub z_dim: usize,
    /// `c`, the width of the first critic layer.
    pub channels: usize,
    /// Spectral normalization on every critic layer.
    pub spectral_norm: bool,
    /// The geometry.
    pub plan: Plan,
}

impl Dcgan {
    /// The width of the critic's stage `i` (`c·2ⁱ`); the generator's stages run backwards.
    fn width(&self, stage: usize) -> usize {
        self.channels << stage
    }

    /// The generator and critic; `classes` is the conditioning and class count, if any.
    pub fn build<E: Element, R: Rng + ?Sized>(
        &self,
        classes: Option<(&Conditioning, usize)>,
        rng: &mut R,
    ) -> (Generator<E>, Critic<E>) {
        let g = self.generator(classes.map(|(c, k)| (c.generator, k)), rng);
        let d = self.critic(classes.map(|(c, k)| (c.critic, k)), rng);
        (g, d)
    }

    fn generator<E: Element, R: Rng + ?Sized>(
        &self,
        classes: Option<(GeneratorConditioning, usize)>,
        rng: &mut R,
    ) -> Generator<E> {
        let Plan {
            image_channels,
            base: b,
            stages: k,
        } = self.plan;
        let cbn = match classes {
            Some((GeneratorConditioning::Cbn, k)) => Some(k),
            _ => None,
        };
        let concat = match classes {
            Some((GeneratorConditioning::Concat, k)) => Some(k),
            _ => None,
        };
        let batch_norm = |net: Sequential<E>, width: usize, rank2: bool| match (cbn, rank2) {
            (Some(k), true) => net.add(ConditionalBatchNorm::new_1d(width, k)),
            (Some(k), false) => net.add(ConditionalBatchNorm::new_2d(width, k)),
            (None, true) => net.add(BatchNorm::new_1d(width)),
            (None, false) => net.add(BatchNorm::new_2d(width)),
        };
        let top = self.width(k - 1);
        let z_in = self.z_dim + concat.unwrap_or(0);
        let mut net = Sequential::new().add(dcgan_init(Linear::new(z_in, top * b * b, rng), rng));
        net = batch_norm(net, top * b * b, true)
            .add(ReLU)
            .add(Reshape(vec![top, b, b]));
        for stage in (0..k - 1).rev() {
            let (from, to) = (self.width(stage + 1), self.width(stage));
            net = net.add(dcgan_init(
                ConvTranspose2d::new(from, to, 4, 2, 1, rng),
                rng,
            ));
            net = batch_norm(net, to, false).add(ReLU);
        }
        let last = ConvTranspose2d::new(self.width(0), image_channels, 4, 2, 1, rng);
        net = net.add(dcgan_init(last, rng)).add(Tanh);
        Generator {
            net,
            embed: concat.map(|k| Embedding::new(k, k, rng)),
            num_classes: classes.map(|(_, k)| k),
        }
    }

    fn critic<E: Element, R: Rng + ?Sized>(
        &self,
        classes: Option<(CriticConditioning, usize)>,
        rng: &mut R,
    ) -> Critic<E> {
        let Plan {
            image_channels,
            base: b,
            stages: k,
        } = self.plan;
        let sn = self.spectral_norm;
        let mut trunk = Sequential::new();
        let mut from = image_channels;
        for stage in 0..k {
            let to = self.width(stage);
            let conv = dcgan_init(Conv2d::new(from, to, 4, 2, 1, rng), rng);
            trunk = with_sn(trunk, conv, sn, rng).add(LeakyReLU(0.2));
            from = to;
        }
        trunk = trunk.add(Flatten);
        let features = from * b * b;
        let head = maybe_sn(dcgan_init(Linear::new(features, 1, rng), rng), sn, rng);
        let (mut embed, mut classifier): (Option<Box<dyn Module<E>>>, _) = (None, None);
        match classes {
            None => {}
            Some((CriticConditioning::Projection, k)) => {
                let table = dcgan_init(Embedding::new(k, features, rng), rng);
                embed = Some(maybe_sn(table, sn, rng));
            }
            Some((CriticConditioning::Acgan, k)) => {
                let linear = dcgan_init(Linear::new(features, k, rng), rng);
                classifier = Some(maybe_sn(linear, sn, rng));
            }
        }
        Critic {
            trunk,
            head,
            embed,
            classifier,
        }
    }
}
