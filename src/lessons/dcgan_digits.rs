//! A spectrally normalized DCGAN with the hinge loss on the bundled 8x8 digits.
//!
//! SNGAN (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for Generative
//! Adversarial Networks") divides every critic weight by its largest singular value, which
//! bounds the critic's Lipschitz constant by 1 at the cost of one power iteration per layer
//! and step, and trains with the hinge loss (Lim & Ye 2017, "Geometric GAN"):
//!
//! ```text
//! L_D = E_P max(0, 1 − D(x)) + E_z max(0, 1 + D(G(z)))
//! L_G = −E_z D(G(z))
//! ```
//!
//! The networks are DCGAN's (Radford, Metz & Chintala 2016) scaled to 8x8 images
//! (`gan::train::models`, `ModelConfig::Dcgan` with c = 32 channels): `G: z ∈ ℝ¹⁰⁰ → Linear (BN,
//! ReLU) → 64×2×2 → ConvT (BN, ReLU) → 32×4×4 → ConvT → 1×8×8, tanh`, `D: Conv 1→32 → Conv
//! 32→64 (LeakyReLU 0.2) → Linear → 1`, all of D's layers spectrally normalized; one critic
//! step per generator step, batch 64, Adam(2e-4, β = (0, 0.9)), the momentum-free setting of
//! the ResNet GANs since Gulrajani et al. 2017 (their CIFAR-10 code; also SAGAN, Zhang et
//! al. 2019). SNGAN's standard-CNN setting C, β = (0.5, 0.999), also learns digits, but
//! more slowly: after 1000 steps its digits FD is about 35, against about 8 with β₁ = 0.
//!
//! Quality is measured by "digits FD" (`gan::metrics::digits_judge`): the Fréchet distance
//! `‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)` between Gaussians fitted to the penultimate features
//! of a small classifier trained on the digits, the FID of Heusel et al. 2017 with a judge
//! small enough to train in a second. For scale, the lesson also reports the FD between two
//! disjoint halves of the real digits, the best a generator can hope for at that sample size.

use std::time::Instant;

use gantry_gan::data::digits::Digits;
use gantry_gan::data::{Data, DataConfig};
use gantry_gan::losses::penalty::Penalty;
use gantry_gan::metrics::digits_judge::{DigitsJudge, ImageReport};
use gantry_gan::train::config::{OptimConfig, Schedule};
use gantry_gan::train::models::ModelConfig;
use gantry_gan::{Objective, TrainConfig, TrainError, Trainer};
use gantry_tensor::Tensor;

/// Generated (and real) images per FD measurement.
pub const EVAL_IMAGES: usize = 898;
/// Seed of the noise of the evaluation samples.
const EVAL_SEED: u64 = 2024;

/// Before and after.
#[derive(Clone, Debug)]
pub struct DcganDigits {
    /// Generator steps trained.
    pub steps: usize,
    /// Held-out accuracy of the judge (the classifier whose features define digits FD).
    pub judge_accuracy: f64,
    /// Digits FD between two disjoint halves of the real digits (the floor).
    pub fd_real: f64,
    /// The judge's verdict on the untrained generator.
    pub before: ImageReport,
    /// The judge's verdict after training.
    pub after: ImageReport,
    /// 64 samples of the trained generator, `[64, 1, 8, 8]` in `[−1, 1]`.
    pub samples: Tensor<f32>,
    /// Seconds spent training (judge and evaluations excluded).
    pub train_seconds: f64,
}

/// The lesson's config: digits, DCGAN with c = 32 and SN, hinge, batch 64, Adam(2e-4,
/// (0, 0.9)), `steps` generator steps.
pub fn config(steps: usize) -> TrainConfig {
    TrainConfig {
        name: "dcgan_digits".into(),
        seed: 0,
        steps,
        batch_size: 64,
        n_critic: 1,
        objective: Objective::Hinge,
        penalty: Penalty::None,
        data: DataConfig::Digits,
        model: ModelConfig::Dcgan {
            z_dim: 100,
            channels: 32,
            spectral_norm: true,
            conditional: None,
        },
        optim: OptimConfig {
            g_lr: 2e-4,
            d_lr: 2e-4,
            beta1: 0.0,
            beta2: 0.9,
            schedule: Schedule::Constant,
            ..OptimConfig::default()
        },
        ema: None,
        ema_start: 0,
        log_every: 10,
        eval_every: steps.max(1),
        checkpoint_every: steps.max(1),
        eval_samples: EVAL_IMAGES,
    }
}

/// Trains `config` with [`Trainer::train_step`] and judges the generator before and after
/// with a [`DigitsJudge`] trained here (nothing is written to disk).
pub fn run(config: TrainConfig) -> Result<DcganDigits, TrainError> {
    let digits = Digits::load().map_err(TrainError::Data)?;
    let (judge, judge_accuracy) = DigitsJudge::train(&digits);
    // Real images: the first EVAL_IMAGES are the reference, the next ones the floor.
    let reference = digits.images.narrow(0, 0, EVAL_IMAGES);
    let other_half = digits.images.narrow(0, EVAL_IMAGES, EVAL_IMAGES);
    let fd_real = judge.report(&other_half, &reference).digits_fd;
    let steps = config.steps;
    let mut trainer = Trainer::with_data(config, Data::Samples(digits.images.clone()))?;
    let verdict = |t: &Trainer| judge.report(&t.sample(EVAL_IMAGES, EVAL_SEED), &reference);
    let before = verdict(&trainer);
    let started = Instant::now();
    while trainer.step() < steps {
        trainer.train_step(started)?;
    }
    let train_seconds = started.elapsed().as_secs_f64();
    Ok(DcganDigits {
        steps,
        judge_accuracy,
        fd_real,
        before,
        after: verdict(&trainer),
        samples: trainer.sample(64, EVAL_SEED),
        train_seconds,
    })
}
