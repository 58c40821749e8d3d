//! Convergence: whole training runs that must reach measurable outcomes. Each takes tens of
//! seconds in release, so they are ignored by default; run them with
//!
//! ```text
//! cargo test --release -p gantry-gan --test convergence -- --ignored --nocapture
//! ```
//!
//! (`--nocapture` shows what each run measured, and its time per step.)
//!
//! Training is deterministic (one seeded stream, kernels whose results do not depend on the
//! number of threads), so each outcome below is a fixed number; the thresholds leave a
//! margin for numerically different but equivalent kernels.
//!
//! The networks are narrower than the WGAN-GP toy script's 512-wide ones and the learning
//! rates larger, decaying linearly to 0, with an EMA of the generator's weights, so that
//! each run takes about a minute on a shared 2-core machine instead of hours.

use std::time::Instant;

use gantry_gan::data::toy::Toy;
use gantry_gan::data::DataConfig;
use gantry_gan::{TrainConfig, Trainer};
use gantry_nn::Module;
use gantry_tensor::Tensor;

/// Trains `config` (TOML) to its last step; returns the trainer and the seconds per step.
fn train(config: &str) -> (Trainer, f64) {
    let config = TrainConfig::from_toml(config, &[]).unwrap_or_else(|e| panic!("{e}"));
    train_from(Trainer::new(config).unwrap_or_else(|e| panic!("{e}")))
}

/// Trains `t` to its last step; returns it and the seconds per step.
fn train_from(mut t: Trainer) -> (Trainer, f64) {
    let started = Instant::now();
    while t.step() < t.config.steps {
        t.train_step(started).unwrap_or_else(|e| panic!("{e}"));
    }
    let per_step = started.elapsed().as_secs_f64() / t.config.steps.max(1) as f64;
    (t, per_step)
}

/// The share of `samples` within `radius` of `centre`.
fn share_near(samples: &[f32], centre: f32, radius: f32) -> f64 {
    samples
        .iter()
        .filter(|&&x| (x - centre).abs() <= radius)
        .count() as f64
        / samples.len() as f64
}

/// Asserts 8/8 modes and at least `min_hq` high-quality samples on ring8.
fn assert_ring8_covered(name: &str, config: &str, min_hq: f64) {
    let (t, per_step) = train(config);
    let eval = t.evaluate();
    let m = eval.mixture.expect("ring8 is a mixture");
    eprintln!(
        "{name}: {} steps at {:.1} ms/step: {}/{} modes, {:.1}% high quality, per mode {:?}, \
         sliced W1 {:.4}",
        t.step(),
        per_step * 1e3,
        m.modes_covered,
        m.n_modes,
        100.0 * m.high_quality_share,
        m.high_quality_per_mode,
        eval.wasserstein1.unwrap_or(f64::NAN)
    );
    assert_eq!(m.modes_covered, 8, "{name}: modes covered");
    assert!(
        m.high_quality_share >= min_hq,
        "{name}: high-quality share {}",
        m.high_quality_share
    );
}

#[test]
#[ignore]
fn wgan_gp_covers_all_eight_modes_of_ring8() {
    assert_ring8_covered("WGAN-GP", WGAN_GP, 0.85);
}

/// λ = 0.1 as in the WGAN-GP toy script ("smaller lambda seems to help for toy tasks"):
/// with λ = 10 and these rates, some seeds lose modes for hundreds of steps.
const WGAN_GP: &str = r#"
seed = 2
steps = 2000
batch_size = 128
n_critic = 5
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 0.1 }
ema = 0.99
[data]
name = "ring8"
[model]
kind = "mlp"
g_hidden = [128, 128, 128]
d_hidden = [128, 128, 128]
[optim]
g_lr = 2e-3
d_lr = 2e-3
beta1 = 0.5
beta2 = 0.9
schedule = "linear"
"#;

#[test]
#[ignore]
fn spectral_norm_hinge_covers_all_eight_modes_of_ring8() {
    assert_ring8_covered("SN + hinge", SN_HINGE, 0.85);
}

/// Every critic layer spectrally normalized, so the critic is (at most) 1-Lipschitz and the
/// hinge's margins (|D| ≥ 1 on both sides) are out of reach near the data: the critic loss
/// sits near 2 and acts much like a Wasserstein critic.
const SN_HINGE: &str = r#"
seed = 3
steps = 3000
batch_size = 128
n_critic = 5
objective = "hinge"
ema = 0.99
[data]
name = "ring8"
[model]
kind = "mlp"
g_hidden = [128, 128, 128]
d_hidden = [128, 128, 128]
spectral_norm = true
[optim]
g_lr = 2e-3
d_lr = 2e-3
beta1 = 0.5
beta2 = 0.9
schedule = "linear"
"#;

/// `(mean, standard deviation)` of a sample.
fn moments(x: &[f32]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

#[test]
#[ignore]
fn non_saturating_gan_fits_a_gaussian() {
    let mut config = TrainConfig::from_toml(GAUSSIAN, &[]).unwrap();
    config.data = DataConfig::Toy(Toy::gaussian1d(1.0, 0.5));
    let (t, per_step) = train_from(Trainer::new(config).unwrap());
    let w1 = t.evaluate().wasserstein1.expect("a toy");
    let (mean, std) = moments(&t.sample(20_000, 7).to_vec());
    eprintln!(
        "non-saturating, N(1, 0.5²): {} steps at {:.2} ms/step: W1 {w1:.4}, samples' mean \
         {mean:.4} and std {std:.4}",
        t.step(),
        per_step * 1e3
    );
    assert!(w1 < 0.1, "W1 {w1}");
    assert!(
        (mean - 1.0).abs() < 0.1 && (std - 0.5).abs() < 0.1,
        "mean {mean}, std {std}"
    );
}

/// A 4-d latent: with z_dim = 1 the same networks end at W1 ≈ 0.11–0.17.
const GAUSSIAN: &str = r#"
seed = 2
steps = 2000
batch_size = 256
objective = "non_saturating"
ema = 0.99
eval_samples = 4000
[data]
name = "mixture1d"
[model]
kind = "mlp"
z_dim = 4
g_hidden = [32, 32]
d_hidden = [32, 32]
[optim]
g_lr = 1e-3
d_lr = 1e-3
beta1 = 0.5
beta2 = 0.999
schedule = "linear"
"#;

#[test]
#[ignore]
fn wgan_with_weight_clipping_trains_500_steps_without_nan() {
    let config = TrainConfig::from_toml(WGAN_CLIP, &[]).unwrap_or_else(|e| panic!("{e}"));
    let untrained = Trainer::new(config).unwrap_or_else(|e| panic!("{e}"));
    let w1_before = untrained
        .evaluate()
        .wasserstein1
        .expect("toy data has a W1");
    // A NaN anywhere stops `train_step` with an error, which `train_from` turns into a panic.
    let (t, per_step) = train_from(untrained);
    let c = 0.01;
    let largest =
        t.d.params()
            .iter()
            .flat_map(|(_, p)| p.value().to_vec())
            .fold(0f32, |m, x| m.max(x.abs()));
    let eval = t.evaluate();
    let m = eval.mixture.expect("ring8 is a mixture");
    eprintln!(
        "WGAN + clipping: {} steps at {:.1} ms/step: largest critic weight {largest}, \
         {}/8 modes, {:.1}% high quality, sliced W1 {w1_before:.4} -> {:.4}",
        t.step(),
        per_step * 1e3,
        m.modes_covered,
        100.0 * m.high_quality_share,
        eval.wasserstein1.unwrap_or(f64::NAN)
    );
    assert!(largest <= c, "critic weight {largest} outside [−{c}, {c}]");
    // The clipped critic still teaches: the samples end at most 60% as far from the data as
    // the untrained generator's.
    let w1 = eval.wasserstein1.expect("toy data has a W1");
    assert!(w1 <= 0.6 * w1_before, "sliced W1 {w1_before:.3} -> {w1:.3}");
}

/// The WGAN paper's settings (c = 0.01, n_critic = 5, batch 64, rate 5e-5), with Adam in
/// place of RMSprop.
const WGAN_CLIP: &str = r#"
seed = 1
steps = 500
batch_size = 64
n_critic = 5
objective = "wasserstein"
penalty = { kind = "weight_clip", c = 0.01 }
[data]
name = "ring8"
[model]
kind = "mlp"
g_hidden = [128, 128, 128]
d_hidden = [128, 128, 128]
[optim]
g_lr = 5e-5
d_lr = 5e-5
beta1 = 0.5
beta2 = 0.9
"#;

/// The shares of samples within 1.0 of the two modes of `Toy::bimodal1d()` (±2).
fn mode_shares(t: &Trainer) -> (f64, f64) {
    let x = t.sample(20_000, 11).to_vec();
    (share_near(&x, -2.0, 1.0), share_near(&x, 2.0, 1.0))
}

/// Trains f-GAN with `objective` on ½N(−2, 0.25²) + ½N(2, 0.25²) from a generator that can
/// represent one (skewed) Gaussian only, started at N(−0.5, 1.5²), which overlaps both modes.
fn fgan_bimodal(objective: &str) -> (Trainer, f64) {
    let config = TrainConfig::from_toml(F_GAN, &[format!("objective={objective}")]).unwrap();
    assert_eq!(config.data, DataConfig::Toy(Toy::bimodal1d()));
    let t = Trainer::new(config).unwrap();
    // G(z) = 1.5·lrelu(z + 3) − 5: linear (slope 1.5) wherever z > −3, i.e. for 99.9% of z.
    for (name, value) in [
        ("0.weight", 1.0),
        ("0.bias", 3.0),
        ("2.weight", 1.5),
        ("2.bias", -5.0),
    ] {
        let (_, p) =
            t.g.params()
                .into_iter()
                .find(|(n, _)| n == name)
                .expect(name);
        p.set(Tensor::full(&p.shape(), value));
    }
    train_from(t)
}

/// KL(P‖Q) is infinite unless Q puts mass near every mode of P (mode covering); KL(Q‖P) is
/// infinite unless Q stays where P has mass (mode seeking). With a generator that can only
/// be unimodal, the KL optimum is the moment-matched N(0, 2.02²), which puts 24% within 1.0
/// of each mode, and the reverse-KL optimum sits on one mode.
///
/// Measured with the default (narrow, centred) initialisation instead, neither shows it:
/// f-GAN's generator only feels the critic where it already has mass, so KL stays on the
/// mode it first reaches too; and with a two-layer MLP generator, reverse KL covers both
/// modes (42% / 57% after 2000 steps), since the generator can be bimodal.
#[test]
#[ignore]
fn f_gan_kl_covers_both_modes_and_reverse_kl_seeks_one() {
    let (kl, per_step) = fgan_bimodal("fgan:kl");
    let (kl_low, kl_high) = mode_shares(&kl);
    let (rkl, _) = fgan_bimodal("fgan:reverse_kl");
    let (rkl_low, rkl_high) = mode_shares(&rkl);
    eprintln!(
        "f-GAN on ±2 ({} steps at {:.2} ms/step): KL puts {:.1}% / {:.1}% near −2 / +2, \
         reverse KL {:.1}% / {:.1}%",
        kl.step(),
        per_step * 1e3,
        100.0 * kl_low,
        100.0 * kl_high,
        100.0 * rkl_low,
        100.0 * rkl_high
    );
    assert!(
        kl_low >= 0.2 && kl_high >= 0.2,
        "KL should cover both modes"
    );
    assert!(
        rkl_low.max(rkl_high) >= 0.8,
        "reverse KL should settle on one mode"
    );
}

const F_GAN: &str = r#"
seed = 1
steps = 3000
batch_size = 256
objective = "fgan:kl"
[data]
name = "mixture1d"
[model]
kind = "mlp"
z_dim = 1
g_hidden = [1]
d_hidden = [32, 32]
leaky = true
[optim]
g_lr = 1e-3
d_lr = 1e-3
beta1 = 0.5
beta2 = 0.999
"#;
