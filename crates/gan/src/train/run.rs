//! A run on disk: the loop that trains to `config.steps`, writing the JSON-lines log, the
//! evaluations and atomic checkpoints into a run directory, and resuming from it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use gantry_nn::checkpoint::{remove_stale_temporaries, write_atomic};
use gantry_nn::{Checkpoint, CheckpointError};

use crate::data::digits::Digits;
use crate::data::DataConfig;
use crate::metrics::digits_judge::DigitsJudge;
use crate::metrics::FeatureNet;
use crate::train::evaluation::Evaluation;
use crate::train::trainer::{StepLog, Trainer};
use crate::train::TrainError;

/// The file name of the checkpoint inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// The file name of the cached digits classifier inside a run directory.
pub const JUDGE_FILE: &str = "digits_classifier.safetensors";
/// The file name of the JSON-lines log inside a run directory.
pub const LOG_FILE: &str = "log.jsonl";

/// Something to tell an observer (a progress bar, a plotter) during [`Trainer::run`].
pub enum Event<'a> {
    /// A generator step finished.
    Step(&'a StepLog),
    /// An evaluation finished (the trainer is passed so pictures can be drawn).
    Eval(&'a Evaluation, &'a Trainer),
}

impl Trainer {
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
        if let (Some(images), None) = (self.data.images(), &self.feature_net) {
            let net = FeatureNet::load_or_train(dir, self.config.data.name(), images)
                .map_err(TrainError::Checkpoint)?;
            self.feature_net = Some(net);
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
