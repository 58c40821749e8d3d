//! WGAN-GP on eight Gaussians, with the critic's landscape as training goes.
//!
//! WGAN-GP (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of
//! Wasserstein GANs") trains a critic f to maximize the Kantorovich–Rubinstein dual of the
//! Wasserstein-1 distance, keeping it near 1-Lipschitz with a penalty on interpolates,
//!
//! ```text
//! L_D = E_Q f(x̃) − E_P f(x) + λ·E(‖∇ₓf(x̂)‖₂ − 1)²,   x̂ = εx + (1 − ε)x̃,  ε ~ U[0, 1],  λ = 10
//! L_G = −E_Q f(G(z))
//! ```
//!
//! with `n_critic = 5` critic steps per generator step (their Algorithm 1). Their Figure 1
//! draws the critic's value over the plane for the 8-Gaussians toy: high on the modes, low
//! where the generator's samples are, with level sets that are not flat (as they become
//! under weight clipping). This lesson trains the same experiment through
//! [`gantry_gan::Trainer`], with networks narrower than the paper's (three hidden layers
//! of 128 instead of 512; batch 256 as in the paper) and a larger, linearly decaying
//! learning rate (1e-3 instead of 1e-4, Adam β = (0.5, 0.9)) so that it converges in
//! seconds on a CPU. Samples come from an exponential moving average of the generator's
//! weights (β = 0.99; Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN
//! Training"), which smooths the oscillation of the game. At a few points of training it
//! measures modes covered and high-quality share (the VEEGAN protocol of Srivastava et al.
//! 2017: a sample is high quality within 3σ of a mode, a mode is covered by at least 1% of
//! the samples) and the sliced Wasserstein-1 distance to the data.
//!
//! Both the decay and the capacity matter: with a constant learning rate of 1e-3 the run
//! oscillates and covers no mode in 600 steps, and with two hidden layers instead of three
//! it covers 6 of the 8 modes after 1000 steps (8 with three).

use std::time::Instant;

use gantry_gan::data::toy::Toy;
use gantry_gan::data::DataConfig;
use gantry_gan::losses::penalty::Penalty;
use gantry_gan::train::config::{OptimConfig, Schedule};
use gantry_gan::train::models::ModelConfig;
use gantry_gan::train::Evaluation;
use gantry_gan::{Objective, TrainConfig, TrainError, Trainer};

/// The measurements at one point of training.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Generator steps completed.
    pub step: usize,
    /// Modes covered, of 8.
    pub modes: usize,
    /// Share of samples within 3σ of a mode.
    pub high_quality: f64,
    /// Sliced Wasserstein-1 distance from the samples to the data.
    pub w1: f64,
    /// The critic's `E_P f − E_Q f` at the last step (none before training).
    pub critic_estimate: Option<f64>,
    /// Seconds of training so far.
    pub elapsed_s: f64,
}

/// The run's history.
#[derive(Clone, Debug)]
pub struct ToyWganGp {
    /// One snapshot at step 0 and one after each stretch of training.
    pub snapshots: Vec<Snapshot>,
}

/// The lesson's config: ring8, MLPs 2-128-128-128 (ReLU), batch 256, n_critic 5, GP λ = 10,
/// Adam(1e-3, (0.5, 0.9)) decaying linearly to 0 over `steps` generator steps, EMA 0.99 of
/// the generator, 1000 samples per evaluation.
pub fn config(steps: usize) -> TrainConfig {
    TrainConfig {
        name: "toy_wgan_gp".into(),
        seed: 0,
        steps,
        batch_size: 256,
        n_critic: 5,
        objective: Objective::Wasserstein,
        penalty: Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: false,
        },
        data: DataConfig::Toy(Toy::ring8()),
        model: ModelConfig::Mlp {
            z_dim: 2,
            g_hidden: vec![128; 3],
            d_hidden: vec![128; 3],
            leaky: false,
            tanh_output: false,
            spectral_norm: false,
        },
        optim: OptimConfig {
            g_lr: 1e-3,
            d_lr: 1e-3,
            beta1: 0.5,
            beta2: 0.9,
            schedule: Schedule::Linear,
            ..OptimConfig::default()
        },
        ema: Some(0.99),
        ema_start: 0,
        log_every: 10,
        eval_every: steps.max(1),
        checkpoint_every: steps.max(1),
        eval_samples: 1000,
    }
}

/// Trains `config` for `config.steps` generator steps with [`Trainer::train_step`],
/// measuring at step 0 and after each of `stretches` equal stretches; `on_snapshot` sees
/// the trainer at each (to draw the critic). Nothing is written to disk.
pub fn run(
    config: TrainConfig,
    stretches: usize,
    on_snapshot: &mut dyn FnMut(&Trainer, &Snapshot),
) -> Result<ToyWganGp, TrainError> {
    let steps = config.steps;
    let stretches = stretches.clamp(1, steps.max(1));
    let mut trainer = Trainer::new(config)?;
    let started = Instant::now();
    let mut snapshots = Vec::new();
    let mut take = |trainer: &Trainer, critic_estimate| {
        let snap = snapshot(&trainer.evaluate(), critic_estimate, started);
        on_snapshot(trainer, &snap);
        snapshots.push(snap);
    };
    take(&trainer, None);
    for k in 1..=stretches {
        let mut last = None;
        while trainer.step() < steps * k / stretches {
            last = Some(trainer.train_step(started)?);
        }
        take(&trainer, last.and_then(|l| l.wasserstein));
    }
    Ok(ToyWganGp { snapshots })
}

fn snapshot(eval: &Evaluation, critic_estimate: Option<f64>, started: Instant) -> Snapshot {
    let mixture = eval.mixture.as_ref().expect("ring8 is a mixture");
    Snapshot {
        step: eval.step,
        modes: mixture.modes_covered,
        high_quality: mixture.high_quality_share,
        w1: eval.wasserstein1.expect("toy data has a W1"),
        critic_estimate,
        elapsed_s: started.elapsed().as_secs_f64(),
    }
}
