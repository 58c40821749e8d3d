//! The training step, as Algorithm 1 of the WGAN-GP paper (Gulrajani et al. 2017) writes
//! it: `n_critic` critic updates, then one generator update; then the moving average of the
//! generator, and a check that everything is still finite.
//!
//! Every random draw (initial weights, data batches, noise, interpolation weights) comes
//! from one ChaCha8 generator seeded by `config.seed`; its position is saved in the
//! checkpoint, so a resumed run draws exactly what the uninterrupted run would have.
//! The run loop (logs, evaluations, checkpoints on disk) is in [`crate::train::run`],
//! sample quality in [`crate::train::evaluation`].

use std::time::Instant;

use gantry_autograd::Tape;
use gantry_nn::{
    freeze, gradients, param_list, prefixed, AnyRule, Checkpoint, CheckpointError, Module, Named,
    Optimizer,
};
use gantry_tensor::alloc::{try_vec, AllocError};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Batch, Data};
use crate::losses::classification::cross_entropy;
use crate::metrics::digits_judge::DigitsJudge;
use crate::metrics::FeatureNet;
use crate::train::config::TrainConfig;
use crate::train::error::{finite, TrainError};
use crate::train::models::{Critic, CriticOutput, Generator};

/// What one generator step measured (one JSON line of the log).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepLog {
    /// Generator steps completed.
    pub step: usize,
    /// The critic's loss (last critic step), penalty included.
    pub d_loss: f64,
    /// The generator's loss.
    pub g_loss: f64,
    /// The penalty term (last critic step), if the penalty is a loss term.
    pub penalty: Option<f64>,
    /// `E D(x_r) − E D(x_f)`, the critic's estimate of W1 for Wasserstein objectives.
    pub wasserstein: Option<f64>,
    /// ‖∇ critic loss‖ over all critic parameters (last critic step).
    pub d_grad_norm: f64,
    /// ‖∇ generator loss‖ over all generator parameters.
    pub g_grad_norm: f64,
    /// Seconds since this process started training.
    pub elapsed_s: f64,
}

/// What one critic update measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CriticStats {
    /// The critic's loss, penalty included.
    pub loss: f64,
    /// The penalty term, if the penalty is a loss term.
    pub penalty: Option<f64>,
    /// `E D(x_r) − E D(x_f)`, for Wasserstein objectives.
    pub wasserstein: Option<f64>,
    /// ‖∇ critic loss‖ over all critic parameters.
    pub grad_norm: f64,
    /// Whether every value the optimizer wrote is finite.
    pub update_finite: bool,
}

/// What one generator update measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GeneratorStats {
    /// The generator's loss.
    pub loss: f64,
    /// ‖∇ generator loss‖ over all generator parameters.
    pub grad_norm: f64,
    /// Whether every value the optimizer wrote is finite.
    pub update_finite: bool,
}

/// A GAN being trained.
pub struct Trainer {
    /// The configuration.
    pub config: TrainConfig,
    /// The data.
    pub data: Data,
    /// The generator.
    pub g: Generator,
    /// The critic (discriminator).
    pub d: Critic,
    /// The moving average of the generator, if `config.ema` is set.
    pub g_ema: Option<Generator>,
    /// Whether [`Trainer::restore`] accepts a checkpoint made with another config (`gantry
    /// train --resume --allow-config-change`); false by default.
    pub allow_config_change: bool,
    opt_g: Optimizer<AnyRule>,
    opt_d: Optimizer<AnyRule>,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) step: usize,
    pub(crate) judge: Option<DigitsJudge>,
    /// The feature network of image data, for the image metrics of each evaluation (set
    /// by [`Trainer::run`]).
    pub(crate) feature_net: Option<FeatureNet>,
}

impl Trainer {
    /// Builds the networks and optimizers from a validated config.
    pub fn new(config: TrainConfig) -> Result<Trainer, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        let data = Data::load(&config.data).map_err(TrainError::Data)?;
        Self::with_data(config, data)
    }

    /// Like [`Trainer::new`], with data supplied by the caller (benchmarks, tests).
    pub fn with_data(config: TrainConfig, data: Data) -> Result<Trainer, TrainError> {
        let shape = data.sample_shape();
        config.model.validate(&shape).map_err(TrainError::Config)?;
        let classes = (data.num_classes() > 0).then(|| data.num_classes());
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let (g, d) = (config.model)
            .build(&shape, classes, &mut rng)
            .map_err(TrainError::Config)?;
        let g_ema = config.ema.map(|_| {
            let (copy, _) = config
                .model
                .build(&shape, classes, &mut ChaCha8Rng::seed_from_u64(0))
                .expect("the config built the generator above");
            copy_state(&g, &copy);
            copy
        });
        let o = &config.optim;
        let opt_g = Optimizer::new(g.params(), o.g_lr, o.g_rule());
        let opt_d = Optimizer::new(d.params(), o.d_lr, o.d_rule());
        Ok(Trainer {
            config,
            data,
            g,
            d,
            g_ema,
            allow_config_change: false,
            opt_g,
            opt_d,
            rng,
            step: 0,
            judge: None,
            feature_net: None,
        })
    }

    /// Generator steps completed.
    pub fn step(&self) -> usize {
        self.step
    }

    /// The generator used for samples: the EMA one if there is one.
    pub fn sampler(&self) -> &Generator {
        self.g_ema.as_ref().unwrap_or(&self.g)
    }

    /// `n` samples from the (EMA) generator in eval mode, noise drawn from `seed`; a
    /// conditional generator cycles through the classes (sample `i` is of class `i mod K`).
    ///
    /// # Panics
    /// If the samples' values cannot be allocated ([`Trainer::sample_classes`] returns
    /// the error instead).
    pub fn sample(&self, n: usize, seed: u64) -> Tensor<f32> {
        let labels = self.cycling_labels(n);
        self.sample_classes(n, seed, labels.as_deref())
            .unwrap_or_else(|e| panic!("{n} samples: {e}"))
    }

    /// `n` samples of the given classes (one label per sample, for a conditional
    /// generator; `None` for an unconditional one), noise drawn from `seed`.
    ///
    /// The generator runs on [`SAMPLE_CHUNK`] latents at a time, so its working memory is
    /// one chunk's whatever `n` is; the noise is the same as one draw of `n` latents (in
    /// eval mode each sample depends on its own latent only). The result's buffer is
    /// reserved fallibly: a size that cannot be allocated is an error, not an abort.
    pub fn sample_classes(
        &self,
        n: usize,
        seed: u64,
        labels: Option<&[u32]>,
    ) -> Result<Tensor<f32>, AllocError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut shape = vec![n];
        shape.extend(self.data.sample_shape());
        let mut values = try_vec(n, shape[1..].iter().product())?;
        for start in (0..n).step_by(SAMPLE_CHUNK) {
            let rows = SAMPLE_CHUNK.min(n - start);
            let z = Tensor::randn(&[rows, self.config.model.z_dim()], &mut rng);
            let chunk_labels = labels.map(|l| &l[start..start + rows]);
            values.extend_from_slice(&generate(self.sampler(), &z, chunk_labels).to_vec());
        }
        Ok(Tensor::from_vec(values, &shape))
    }

    /// Labels `i mod K` for `n` samples of a conditional model, else `None`.
    pub fn cycling_labels(&self, n: usize) -> Option<Vec<u32>> {
        self.config.model.conditioning()?;
        let k = self.data.num_classes().max(1) as u32;
        Some((0..n as u32).map(|i| i % k).collect())
    }

    /// One generator step, preceded by `n_critic` critic steps (Algorithm 1 of WGAN-GP).
    ///
    /// Run on a rayon worker (as the CLI does), the pool's other workers spin for the
    /// length of the step instead of sleeping between its parallel kernels
    /// ([`gantry_tensor::workers::keep_awake`]); the results are the same either way.
    pub fn train_step(&mut self, started: Instant) -> Result<StepLog, TrainError> {
        gantry_tensor::workers::keep_awake(|| {
            self.set_learning_rates();
            let mut critic = CriticStats::default();
            let mut updates_finite = true;
            for _ in 0..self.config.n_critic {
                critic = self.critic_step()?;
                updates_finite &= critic.update_finite;
            }
            let generator = self.generator_step()?;
            self.update_ema();
            self.step += 1;
            self.check_finite(updates_finite && generator.update_finite)?;
            Ok(StepLog {
                step: self.step,
                d_loss: critic.loss,
                g_loss: generator.loss,
                penalty: critic.penalty,
                wasserstein: critic.wasserstein,
                d_grad_norm: critic.grad_norm,
                g_grad_norm: generator.grad_norm,
                elapsed_s: started.elapsed().as_secs_f64(),
            })
        })
    }

    /// The learning rates of this step, from the schedule.
    fn set_learning_rates(&mut self) {
        let o = &self.config.optim;
        self.opt_g.groups[0].lr = o.rate(o.g_lr, self.step, self.config.steps);
        self.opt_d.groups[0].lr = o.rate(o.d_lr, self.step, self.config.steps);
    }

    /// A fresh batch of `batch_size` real samples, or the error if it cannot be allocated.
    fn real_batch(&mut self) -> Result<Batch, TrainError> {
        let n = self.config.batch_size;
        self.data
            .batch(n, &mut self.rng)
            .map_err(|error| TrainError::Memory {
                what: format!("a batch of batch_size = {n} samples"),
                error,
            })
    }

    /// One critic update on a fresh real batch and a fresh generated batch: minimize the
    /// objective's critic loss plus the penalty (and, for AC-GAN, the class cross-entropy
    /// on both batches), then apply the penalty's constraint on the weights (WGAN's
    /// clipping). A conditional critic sees each batch with its labels; the penalty's
    /// points are judged with the real batch's labels.
    fn critic_step(&mut self) -> Result<CriticStats, TrainError> {
        let (bs, zdim) = (self.config.batch_size, self.config.model.z_dim());
        let (objective, penalty) = (self.config.objective, self.config.penalty);
        let (d_params, g_params) = (param_list(&self.d), param_list(&self.g));
        let real = self.real_batch()?;
        let z = Tensor::randn(&[bs, zdim], &mut self.rng);
        let fake_labels = self.fake_labels(bs);
        let (yr, yf) = (self.conditioning(&real.labels), fake_labels.as_deref());
        // The tape is dropped before the update, so the optimizer writes the weights in
        // place instead of copying tensors the tape still shares.
        let (stats, grads) = {
            let tape = Tape::new();
            freeze(&tape, &g_params);
            let fake = tape
                .no_grad(|| self.g.forward(&tape, tape.constant(z), yf))
                .value();
            let on_real = self.d.forward(&tape, tape.constant(real.x.clone()), yr);
            let on_fake = self.d.forward(&tape, tape.constant(fake.clone()), yf);
            let (vr, vf) = (on_real.logit, on_fake.logit);
            let critic = |x| self.d.forward(&tape, x, yr).logit;
            let penalty_term = penalty.loss(&tape, &critic, &real.x, &fake, &mut self.rng);
            let mut loss = objective.d_loss(vr, vf);
            if let Some(p) = penalty_term {
                loss = loss + p;
            }
            if let Some(w) = self.config.model.acgan_weight() {
                let ce = class_loss(&on_real, yr) + class_loss(&on_fake, yf);
                loss = loss + ce * w as f32;
            }
            let stats = CriticStats {
                loss: finite(loss.item() as f64, self.step + 1, "d_loss")?,
                penalty: penalty_term.map(|p| p.item() as f64),
                wasserstein: objective
                    .is_wasserstein()
                    .then(|| (vr.value().mean().item() - vf.value().mean().item()) as f64),
                ..CriticStats::default()
            };
            (stats, gradients(&tape, loss, &d_params))
        };
        let update_finite = self.opt_d.step(&grads);
        penalty.constrain(&d_params);
        Ok(CriticStats {
            grad_norm: self.opt_d.grad_norm(),
            update_finite,
            ..stats
        })
    }

    /// One generator update on fresh noise (and, for relativistic objectives, a fresh real
    /// batch): minimize the objective's generator loss through the frozen critic (plus, for
    /// AC-GAN, the class cross-entropy of its samples).
    fn generator_step(&mut self) -> Result<GeneratorStats, TrainError> {
        let (bs, zdim) = (self.config.batch_size, self.config.model.z_dim());
        let objective = self.config.objective;
        let (d_params, g_params) = (param_list(&self.d), param_list(&self.g));
        let z = Tensor::randn(&[bs, zdim], &mut self.rng);
        let fake_labels = self.fake_labels(bs);
        let real = objective
            .is_relativistic()
            .then(|| self.real_batch())
            .transpose()?;
        let yf = fake_labels.as_deref();
        let (loss, grads) = {
            let tape = Tape::new();
            freeze(&tape, &d_params);
            let fake = self.g.forward(&tape, tape.constant(z), yf);
            let on_fake = self.d.forward(&tape, fake, yf);
            let vf = on_fake.logit;
            let vr = real.as_ref().map_or(vf, |r| {
                let yr = self.conditioning(&r.labels);
                self.d.forward(&tape, tape.constant(r.x.clone()), yr).logit
            });
            let mut loss = objective.g_loss(vf, vr);
            if let Some(w) = self.config.model.acgan_weight() {
                loss = loss + class_loss(&on_fake, yf) * w as f32;
            }
            (
                finite(loss.item() as f64, self.step + 1, "g_loss")?,
                gradients(&tape, loss, &g_params),
            )
        };
        let update_finite = self.opt_g.step(&grads);
        Ok(GeneratorStats {
            loss,
            grad_norm: self.opt_g.grad_norm(),
            update_finite,
        })
    }

    /// A real batch's labels, if the model is conditional (an unconditional model gets
    /// none, whatever the data holds).
    fn conditioning<'a>(&self, labels: &'a Option<Vec<u32>>) -> Option<&'a [u32]> {
        self.config.model.conditioning().and(labels.as_deref())
    }

    /// Classes for a generated batch, uniform over the data's classes, if the model is
    /// conditional; nothing is drawn otherwise, so unconditional runs keep their draws.
    fn fake_labels(&mut self, n: usize) -> Option<Vec<u32>> {
        self.config.model.conditioning()?;
        let k = self.data.num_classes() as u32;
        Some((0..n).map(|_| self.rng.gen_range(0..k)).collect())
    }

    /// `θ_ema ← β·θ_ema + (1 − β)·θ` for the generator's parameters, with `β = 0` (a
    /// copy) before step `ema_start`; its buffers (running statistics) are copied.
    fn update_ema(&self) {
        let (Some(ema), Some(beta)) = (&self.g_ema, self.config.ema) else {
            return;
        };
        let beta = if self.step < self.config.ema_start {
            0.0
        } else {
            beta as f32
        };
        for ((_, e), (_, p)) in ema.params().iter().zip(self.g.params()) {
            let p = p.value();
            let mut v = e.borrow_mut();
            let src = p.as_slice().expect("parameters are contiguous");
            v.make_mut()
                .iter_mut()
                .zip(src)
                .for_each(|(a, &b)| *a = beta * *a + (1.0 - beta) * b);
        }
        for ((_, e), (_, b)) in ema.buffers().iter().zip(self.g.buffers()) {
            e.set(b.value());
        }
    }

    /// Everything a checkpoint saves is checked, not only the weights: a gradient above
    /// ~1.8e19 squares to inf in Adam's second moment while the weights stay finite (the
    /// update m/√v becomes 0), and the checkpoint kept as "last good" would hold it.
    /// The optimizers checked what they updated (`updates_finite`); the rest is scanned
    /// here, and only when something is not finite is everything scanned again to name it.
    fn check_finite(&self, updates_finite: bool) -> Result<(), TrainError> {
        let mut rest = [self.g.buffers(), self.d.buffers()].concat();
        if let Some(e) = &self.g_ema {
            rest.extend([e.params(), e.buffers()].concat());
        }
        if updates_finite && rest.iter().all(|(_, t)| t.borrow().all_finite()) {
            return Ok(());
        }
        let Some((name, _)) = self
            .state()
            .into_iter()
            .find(|(_, t)| !t.borrow().all_finite())
        else {
            return Ok(());
        };
        let is_param = prefixed("g", self.g.params())
            .into_iter()
            .chain(prefixed("d", self.d.params()))
            .any(|(n, _)| n == name);
        let kind = if is_param {
            "parameter"
        } else if name.starts_with("opt_") {
            "optimizer state"
        } else if name.starts_with("g_ema.") {
            "EMA generator tensor"
        } else {
            "buffer"
        };
        Err(TrainError::NonFinite {
            step: self.step,
            what: format!("{kind} {name}"),
        })
    }

    /// Everything needed to resume: weights, buffers, optimizer state, step, RNG position
    /// and the config; and, so that sampling needs no data, the shape of one sample
    /// (`sample_shape`, JSON) and the number of classes (`num_classes`).
    pub fn checkpoint(&self) -> Checkpoint {
        let mut ck = Checkpoint::new();
        for (name, p) in self.state() {
            ck.put(&name, &p.value());
        }
        ck.set_meta("step", self.step.to_string());
        ck.set_meta("rng_word_pos", self.rng.get_word_pos().to_string());
        ck.set_meta("config", self.config.to_toml());
        ck.set_meta("format", "gantry-trainer-1");
        let shape = serde_json::to_string(&self.data.sample_shape()).expect("a shape serializes");
        ck.set_meta("sample_shape", shape);
        ck.set_meta("num_classes", self.data.num_classes().to_string());
        ck
    }

    /// Restores a checkpoint made by [`Trainer::checkpoint`] with the same config; on error
    /// nothing has changed. A checkpoint made with another config is an error naming the
    /// fields that differ (unless `allow_config_change`), except for the fields that do not
    /// change what is trained ([`RESUMABLE_CHANGES`]: the length of the run and how often it
    /// logs, evaluates and saves).
    pub fn restore(&mut self, ck: &Checkpoint) -> Result<(), TrainError> {
        let bad = |what: &str| {
            TrainError::Checkpoint(CheckpointError::Format {
                source: format!("metadata '{what}' is missing or invalid"),
            })
        };
        let step: usize = ck
            .meta("step")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("step"))?;
        let pos: u128 = ck
            .meta("rng_word_pos")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("rng_word_pos"))?;
        let saved = ck.meta("config").ok_or_else(|| bad("config"))?;
        if !self.allow_config_change {
            let changed =
                config_changes(saved, &self.config.to_toml()).ok_or_else(|| bad("config"))?;
            if !changed.is_empty() {
                return Err(TrainError::Config(format!(
                    "the checkpoint was made with another {}: {} (resume with \
                     --allow-config-change to continue anyway)",
                    if changed.len() == 1 {
                        "value of"
                    } else {
                        "value of each of"
                    },
                    changed.join(", ")
                )));
            }
        }
        ck.restore(&self.state()).map_err(TrainError::Checkpoint)?;
        self.step = step;
        self.rng.set_word_pos(pos);
        Ok(())
    }

    /// All saved state, with checkpoint names.
    pub(crate) fn state(&self) -> Vec<Named<f32>> {
        let mut s = prefixed("g", [self.g.params(), self.g.buffers()].concat());
        s.extend(prefixed("d", [self.d.params(), self.d.buffers()].concat()));
        if let Some(e) = &self.g_ema {
            s.extend(prefixed("g_ema", [e.params(), e.buffers()].concat()));
        }
        s.extend(prefixed("opt_g", self.opt_g.state()));
        s.extend(prefixed("opt_d", self.opt_d.state()));
        s
    }
}

/// Latents the generator runs on at a time when sampling: its working memory is then that
/// of 128 samples (about 128 MB for a 64x64 RGB DCGAN, whose transposed convolutions'
/// columns take about 1 MB per sample), whatever the number of samples.
pub const SAMPLE_CHUNK: usize = 128;

/// The config fields a resumed run may change freely.
pub const RESUMABLE_CHANGES: [&str; 6] = [
    "name",
    "steps",
    "log_every",
    "eval_every",
    "checkpoint_every",
    "eval_samples",
];

/// The dotted names of the fields in which two configs (as TOML) differ, apart from
/// [`RESUMABLE_CHANGES`]; `None` if either is not TOML.
fn config_changes(saved: &str, current: &str) -> Option<Vec<String>> {
    let (a, b): (toml::Table, toml::Table) = (saved.parse().ok()?, current.parse().ok()?);
    let mut changed = Vec::new();
    differing_keys("", &a, &b, &mut changed);
    changed.retain(|k| !RESUMABLE_CHANGES.contains(&k.as_str()));
    Some(changed)
}

/// Appends to `out` the keys (prefixed) whose values differ between `a` and `b`, recursing
/// into tables present in both.
fn differing_keys(prefix: &str, a: &toml::Table, b: &toml::Table, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let name = format!("{prefix}{k}");
        match (a.get(k), b.get(k)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                differing_keys(&format!("{name}."), x, y, out)
            }
            (x, y) if x != y => out.push(name),
            _ => {}
        }
    }
}

/// Runs a generator in eval mode without recording, then back to training mode.
pub fn generate(g: &Generator, z: &Tensor<f32>, labels: Option<&[u32]>) -> Tensor<f32> {
    g.set_training(false);
    let tape = Tape::new();
    let out = tape
        .no_grad(|| g.forward(&tape, tape.constant(z.clone()), labels))
        .value();
    g.set_training(true);
    out
}

/// The critic's value on a batch (eval mode, nothing recorded).
pub fn critic_values(d: &Critic, x: &Tensor<f32>) -> Tensor<f32> {
    d.set_training(false);
    let tape = Tape::new();
    let out = tape
        .no_grad(|| d.forward(&tape, tape.constant(x.clone()), None).logit)
        .value();
    d.set_training(true);
    out
}

/// AC-GAN's class cross-entropy of a critic output against the labels its batch was
/// given (both present whenever the model has an AC-GAN critic).
fn class_loss<'t>(out: &CriticOutput<'t>, labels: Option<&[u32]>) -> gantry_autograd::Var<'t, f32> {
    let logits = out
        .class_logits
        .expect("an AC-GAN critic gives class logits");
    cross_entropy(logits, labels.expect("an AC-GAN model is conditional"))
}

/// Copies every parameter and buffer of `from` into `to` (same architecture).
fn copy_state(from: &Generator, to: &Generator) {
    let all = |m: &Generator| [m.params(), m.buffers()].concat();
    for ((_, a), (_, b)) in all(from).iter().zip(all(to)) {
        b.set(a.value());
    }
}
