//! The training loop: n_critic critic steps per generator step, penalties, TTUR, EMA,
//! JSON-lines logs, evaluation, atomic checkpoints with exact resume, and a NaN guard.
//!
//! Every random draw (initial weights, data batches, noise, interpolation weights) comes
//! from one ChaCha8 generator seeded by `config.seed`; its position is saved in the
//! checkpoint, so a resumed run draws exactly what the uninterrupted run would have.
//! Evaluation draws from a separate generator, so how often one evaluates does not change
//! the training trajectory.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use gantry_autograd::Tape;
use gantry_nn::checkpoint::{remove_stale_temporaries, write_atomic};
use gantry_nn::{
    freeze, gradients, param_list, prefixed, Adam, Checkpoint, CheckpointError, Module, Named,
    Optimizer, Param, Sequential,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::digits::{DataError, Digits};
use crate::data::Data;
use crate::data::DataConfig;
use crate::losses::objective::Objective;
use crate::losses::penalty::Penalty;
use crate::metrics::digits_judge::{DigitsJudge, ImageReport};
use crate::metrics::{mixture_report, sliced_wasserstein, wasserstein1_1d, MixtureReport};
use crate::train::config::TrainConfig;

/// The file name of the checkpoint inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// The file name of the cached digits classifier inside a run directory.
pub const JUDGE_FILE: &str = "digits_classifier.safetensors";
/// The file name of the JSON-lines log inside a run directory.
pub const LOG_FILE: &str = "log.jsonl";

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

/// Sample-quality metrics at one step.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    /// Generator steps completed.
    pub step: usize,
    /// Mode coverage and quality, for mixture data.
    pub mixture: Option<MixtureReport>,
    /// Sliced Wasserstein-1 distance to fresh data (2-D data), exact W1 in 1-D.
    pub wasserstein1: Option<f64>,
    /// Digits FD and class coverage, for the bundled digits.
    pub images: Option<ImageReport>,
}

/// Why training stopped early.
#[derive(Debug)]
pub enum TrainError {
    /// The config is invalid (names the field).
    Config(String),
    /// The data could not be loaded (names the file).
    Data(DataError),
    /// A checkpoint could not be written or restored.
    Checkpoint(CheckpointError),
    /// Writing the log or creating the run directory failed.
    Io(PathBuf, std::io::Error),
    /// A loss or parameter became NaN or infinite.
    NonFinite {
        /// The step at which it happened.
        step: usize,
        /// Which value (a loss name or a parameter name).
        what: String,
    },
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Config(e) => write!(f, "invalid config: {e}"),
            TrainError::Data(e) => write!(f, "{e}"),
            TrainError::Checkpoint(e) => write!(f, "{e}"),
            TrainError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            TrainError::NonFinite { step, what } => write!(
                f,
                "training diverged at step {step}: {what} is not finite (NaN or ±inf); \
                 stopped, the last good checkpoint is kept (try a smaller learning rate)"
            ),
        }
    }
}

impl std::error::Error for TrainError {}

/// Something to tell an observer (a progress bar, a plotter) during [`Trainer::run`].
pub enum Event<'a> {
    /// A generator step finished.
    Step(&'a StepLog),
    /// An evaluation finished (the trainer is passed so pictures can be drawn).
    Eval(&'a Evaluation, &'a Trainer),
}

/// A GAN being trained.
pub struct Trainer {
    /// The configuration.
    pub config: TrainConfig,
    /// The data.
    pub data: Data,
    /// The generator.
    pub g: Sequential,
    /// The critic (discriminator).
    pub d: Sequential,
    /// The moving average of the generator, if `config.ema` is set.
    pub g_ema: Option<Sequential>,
    opt_g: Optimizer<Adam>,
    opt_d: Optimizer<Adam>,
    rng: ChaCha8Rng,
    step: usize,
    judge: Option<DigitsJudge>,
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
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let (g, d) = config.model.build(&shape, &mut rng);
        let g_ema = config.ema.map(|_| {
            let (copy, _) = config
                .model
                .build(&shape, &mut ChaCha8Rng::seed_from_u64(0));
            copy_state(&g, &copy);
            copy
        });
        let o = &config.optim;
        let opt_g = Optimizer::new(g.params(), o.g_lr, Adam::betas(o.beta1, o.beta2));
        let opt_d = Optimizer::new(d.params(), o.d_lr, Adam::betas(o.beta1, o.beta2));
        Ok(Trainer {
            config,
            data,
            g,
            d,
            g_ema,
            opt_g,
            opt_d,
            rng,
            step: 0,
            judge: None,
        })
    }

    /// Generator steps completed.
    pub fn step(&self) -> usize {
        self.step
    }

    /// The generator used for samples: the EMA one if there is one.
    pub fn sampler(&self) -> &Sequential {
        self.g_ema.as_ref().unwrap_or(&self.g)
    }

    /// `n` samples from the (EMA) generator in eval mode, noise drawn from `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Tensor<f32> {
        let z = Tensor::randn(
            &[n, self.config.model.z_dim()],
            &mut ChaCha8Rng::seed_from_u64(seed),
        );
        generate(self.sampler(), &z)
    }

    /// One generator step, preceded by `n_critic` critic steps.
    ///
    /// Run on a rayon worker (as the CLI does), the pool's other workers spin for the
    /// length of the step instead of sleeping between its parallel kernels
    /// ([`gantry_tensor::workers::keep_awake`]); the results are the same either way.
    pub fn train_step(&mut self, started: Instant) -> Result<StepLog, TrainError> {
        gantry_tensor::workers::keep_awake(|| self.step_once(started))
    }

    /// [`Trainer::train_step`]'s work.
    fn step_once(&mut self, started: Instant) -> Result<StepLog, TrainError> {
        let (bs, zdim) = (self.config.batch_size, self.config.model.z_dim());
        let objective = self.config.objective;
        let penalty = self.config.penalty;
        let (d_params, g_params) = (param_list(&self.d), param_list(&self.g));
        let next = self.step + 1;
        let o = &self.config.optim;
        self.opt_g.groups[0].lr = o.schedule.rate(o.g_lr, self.step, self.config.steps);
        self.opt_d.groups[0].lr = o.schedule.rate(o.d_lr, self.step, self.config.steps);
        let mut last = (0.0, None, None, 0.0);
        let mut updates_finite = true;
        for _ in 0..self.config.n_critic {
            let real = self.data.batch(bs, &mut self.rng).x;
            let z = Tensor::randn(&[bs, zdim], &mut self.rng);
            let grads = {
                let tape = Tape::new();
                freeze(&tape, &g_params);
                let fake = tape
                    .no_grad(|| self.g.forward(&tape, tape.constant(z)))
                    .value();
                let (vr, vf) = (
                    self.d.forward(&tape, tape.constant(real.clone())),
                    self.d.forward(&tape, tape.constant(fake.clone())),
                );
                let mut loss = objective.d_loss(vr, vf);
                let critic = |x| self.d.forward(&tape, x);
                let pen = penalty.loss(&tape, &critic, &real, &fake, &mut self.rng);
                if let Some(p) = pen {
                    loss = loss + p;
                }
                let w = objective
                    .is_wasserstein()
                    .then(|| (vr.value().mean().item() - vf.value().mean().item()) as f64);
                last = (
                    finite(loss.item() as f64, next, "d_loss")?,
                    pen.map(|p| p.item() as f64),
                    w,
                    0.0,
                );
                gradients(&tape, loss, &d_params)
            };
            updates_finite &= self.opt_d.step(&grads);
            last.3 = self.opt_d.grad_norm();
            if let Penalty::WeightClip { c } = penalty {
                clip(&d_params, c as f32);
            }
        }
        let z = Tensor::randn(&[bs, zdim], &mut self.rng);
        let real = matches!(objective, Objective::Relativistic)
            .then(|| self.data.batch(bs, &mut self.rng).x);
        let (g_loss, grads) = {
            let tape = Tape::new();
            freeze(&tape, &d_params);
            let fake = self.g.forward(&tape, tape.constant(z));
            let vf = self.d.forward(&tape, fake);
            let vr = real.map_or(vf, |r| self.d.forward(&tape, tape.constant(r)));
            let loss = objective.g_loss(vf, vr);
            (
                finite(loss.item() as f64, next, "g_loss")?,
                gradients(&tape, loss, &g_params),
            )
        };
        updates_finite &= self.opt_g.step(&grads);
        let g_grad_norm = self.opt_g.grad_norm();
        if let (Some(ema), Some(beta)) = (&self.g_ema, self.config.ema) {
            ema_update(ema, &self.g, beta as f32);
        }
        self.step = next;
        // Everything a checkpoint saves is checked, not only the weights: a gradient above
        // ~1.8e19 squares to inf in Adam's second moment while the weights stay finite (the
        // update m/√v becomes 0), and the checkpoint kept as "last good" would hold it.
        // The optimizers checked what they updated; the rest is scanned here, and only when
        // something is not finite is everything scanned again to name it.
        let mut rest = [self.g.buffers(), self.d.buffers()].concat();
        if let Some(e) = &self.g_ema {
            rest.extend([e.params(), e.buffers()].concat());
        }
        let rest_finite = rest.iter().all(|(_, t)| t.borrow().all_finite());
        let all_finite = updates_finite && rest_finite;
        if let Some((name, _)) = (!all_finite)
            .then(|| self.state())
            .and_then(|s| s.into_iter().find(|(_, t)| !t.borrow().all_finite()))
        {
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
            return Err(TrainError::NonFinite {
                step: next,
                what: format!("{kind} {name}"),
            });
        }
        let (d_loss, penalty, wasserstein, d_grad_norm) = last;
        let elapsed_s = started.elapsed().as_secs_f64();
        Ok(StepLog {
            step: next,
            d_loss,
            g_loss,
            penalty,
            wasserstein,
            d_grad_norm,
            g_grad_norm,
            elapsed_s,
        })
    }

    /// Measures sample quality with `config.eval_samples` samples (fixed noise).
    pub fn evaluate(&self) -> Evaluation {
        let n = self.config.eval_samples;
        let samples = self.sample(n, self.config.seed ^ 0x5EED_E7A1);
        let mut eval = Evaluation {
            step: self.step,
            ..Default::default()
        };
        if let Data::Toy(toy) = &self.data {
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ 0xDA7A);
            let data = toy.sample(n, &mut rng);
            // Point masses (σ = 0, a valid toy) have no 3σ ball to count samples in.
            if toy.is_mixture() && toy.std() > 0.0 {
                eval.mixture = Some(mixture_report(&samples, &toy.modes(), toy.std()));
            }
            eval.wasserstein1 = Some(if toy.dim() == 1 {
                let to64 =
                    |t: &Tensor<f32>| t.to_vec().iter().map(|&x| x as f64).collect::<Vec<_>>();
                wasserstein1_1d(&to64(&samples), &to64(&data))
            } else {
                sliced_wasserstein(&samples, &data, 256, &mut rng)
            });
        }
        if let (Some(judge), Some(real)) = (&self.judge, self.data.images()) {
            eval.images = Some(judge.report(&samples, &real.to_tensor()));
        }
        eval
    }

    /// Everything needed to resume: weights, buffers, optimizer state, step, RNG position
    /// and the config.
    pub fn checkpoint(&self) -> Checkpoint {
        let mut ck = Checkpoint::new();
        for (name, p) in self.state() {
            ck.put(&name, &p.value());
        }
        ck.set_meta("step", self.step.to_string());
        ck.set_meta("rng_word_pos", self.rng.get_word_pos().to_string());
        ck.set_meta("config", self.config.to_toml());
        ck.set_meta("format", "gantry-trainer-1");
        ck
    }

    /// Restores a checkpoint made by [`Trainer::checkpoint`] with the same config; on error
    /// nothing has changed.
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
        ck.restore(&self.state()).map_err(TrainError::Checkpoint)?;
        self.step = step;
        self.rng.set_word_pos(pos);
        Ok(())
    }

    /// All saved state, with checkpoint names.
    fn state(&self) -> Vec<Named<f32>> {
        let mut s = prefixed("g", [self.g.params(), self.g.buffers()].concat());
        s.extend(prefixed("d", [self.d.params(), self.d.buffers()].concat()));
        if let Some(e) = &self.g_ema {
            s.extend(prefixed("g_ema", [e.params(), e.buffers()].concat()));
        }
        s.extend(prefixed("opt_g", self.opt_g.state()));
        s.extend(prefixed("opt_d", self.opt_d.state()));
        s
    }

    /// Trains until `config.steps`, writing `log.jsonl` and `checkpoint.safetensors` into
    /// `dir` and telling `observer` about every step and evaluation. With `resume`, starts
    /// from `dir`'s checkpoint (if any) and keeps the log up to it.
    pub fn run(
        &mut self,
        dir: &Path,
        resume: bool,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Option<Evaluation>, TrainError> {
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| TrainError::Io(p, e)
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let ck_path = dir.join(CHECKPOINT_FILE);
        let log_path = dir.join(LOG_FILE);
        // A process killed while saving leaves its temporary file behind.
        for saved in [&ck_path, &log_path, &dir.join(JUDGE_FILE)] {
            remove_stale_temporaries(saved);
        }
        if resume && ck_path.exists() {
            let ck = Checkpoint::load(&ck_path).map_err(TrainError::Checkpoint)?;
            self.restore(&ck)?;
        }
        if self.config.data == DataConfig::Digits && self.judge.is_none() {
            let digits = Digits::load().map_err(TrainError::Data)?;
            let path = dir.join(JUDGE_FILE);
            self.judge =
                Some(DigitsJudge::load_or_train(&path, &digits).map_err(TrainError::Checkpoint)?);
        }
        let mut log = if resume {
            // Replaced atomically: truncating in place, a kill before the kept lines were
            // written back would lose the log of every step before the checkpoint.
            let kept = read_log_until(&log_path, self.step);
            write_atomic(&log_path, kept.as_bytes()).map_err(|e| match e {
                CheckpointError::Io { path, source } => TrainError::Io(path, source),
                other => TrainError::Checkpoint(other),
            })?;
            OpenOptions::new()
                .append(true)
                .open(&log_path)
                .map_err(io(&log_path))?
        } else {
            File::create(&log_path).map_err(io(&log_path))?
        };
        let started = Instant::now();
        let mut last_eval = None;
        while self.step < self.config.steps {
            let entry = self.train_step(started)?;
            observer(Event::Step(&entry));
            let step = entry.step;
            let last = step == self.config.steps;
            if step % self.config.log_every == 0 || last {
                writeln!(
                    log,
                    "{}",
                    serde_json::to_string(&entry).expect("serializable")
                )
                .map_err(io(&log_path))?;
            }
            if step % self.config.eval_every == 0 || last {
                let eval = self.evaluate();
                let line = serde_json::json!({ "step": step, "eval": eval });
                writeln!(log, "{line}").map_err(io(&log_path))?;
                observer(Event::Eval(&eval, self));
                last_eval = Some(eval);
            }
            if step % self.config.checkpoint_every == 0 || last {
                log.flush().map_err(io(&log_path))?;
                self.checkpoint()
                    .save(&ck_path)
                    .map_err(TrainError::Checkpoint)?;
            }
        }
        Ok(last_eval)
    }
}

/// The step lines of a run's log (evaluation lines skipped), for loss curves.
pub fn read_step_log(path: &Path) -> Vec<StepLog> {
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

/// The lines of an existing log whose `step` is at most `step` (so a resumed run's log
/// reads as if it had never stopped).
fn read_log_until(path: &Path, step: usize) -> String {
    let Ok(f) = File::open(path) else {
        return String::new();
    };
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|l| {
            let v: Option<serde_json::Value> = serde_json::from_str(l).ok();
            v.and_then(|v| v.get("step")?.as_u64())
                .is_some_and(|s| s as usize <= step)
        })
        .map(|l| l + "\n")
        .collect()
}

/// Runs a generator in eval mode without recording, then back to training mode.
pub fn generate(g: &Sequential, z: &Tensor<f32>) -> Tensor<f32> {
    g.set_training(false);
    let tape = Tape::new();
    let out = tape
        .no_grad(|| g.forward(&tape, tape.constant(z.clone())))
        .value();
    g.set_training(true);
    out
}

/// The critic's value on a batch (eval mode, nothing recorded).
pub fn critic_values(d: &Sequential, x: &Tensor<f32>) -> Tensor<f32> {
    d.set_training(false);
    let tape = Tape::new();
    let out = tape
        .no_grad(|| d.forward(&tape, tape.constant(x.clone())))
        .value();
    d.set_training(true);
    out
}

fn finite(v: f64, step: usize, what: &str) -> Result<f64, TrainError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(TrainError::NonFinite {
            step,
            what: what.to_string(),
        })
    }
}

/// WGAN's weight clipping: every parameter into `[−c, c]`.
fn clip(params: &[Param<f32>], c: f32) {
    for p in params {
        let mut v = p.borrow_mut();
        v.make_mut().iter_mut().for_each(|x| *x = x.clamp(-c, c));
    }
}

/// `θ_ema ← β·θ_ema + (1 − β)·θ` for parameters; buffers (running statistics) copied.
fn ema_update(ema: &Sequential, g: &Sequential, beta: f32) {
    for ((_, e), (_, p)) in ema.params().iter().zip(g.params()) {
        let p = p.value();
        let mut v = e.borrow_mut();
        let src = p.as_slice().expect("parameters are contiguous");
        v.make_mut()
            .iter_mut()
            .zip(src)
            .for_each(|(a, &b)| *a = beta * *a + (1.0 - beta) * b);
    }
    for ((_, e), (_, b)) in ema.buffers().iter().zip(g.buffers()) {
        e.set(b.value());
    }
}

/// Copies every parameter and buffer of `from` into `to` (same architecture).
fn copy_state(from: &Sequential, to: &Sequential) {
    let all = |m: &Sequential| [m.params(), m.buffers()].concat();
    for ((_, a), (_, b)) in all(from).iter().zip(all(to)) {
        b.set(a.value());
    }
}
