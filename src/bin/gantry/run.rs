//! `gantry demo`, `gantry train` and `gantry sample`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gantry::gan::data::{Data, DataConfig, ImageSet};
use gantry::gan::export::init_from as init_networks;
use gantry::gan::plot::report::{plot_critic, plot_losses, plot_samples, GRID_COLUMNS};
use gantry::gan::train::memory::{parse_bytes, sampling_bytes, Budget};
use gantry::gan::train::run_lock::RunLock;
use gantry::gan::train::trainer::SAMPLE_CHUNK;
use gantry::gan::train::{read_step_log, Evaluation, StepLog, CHECKPOINT_FILE, LOG_FILE};
use gantry::gan::{Event, TrainConfig, TrainError, Trainer};
use gantry::nn::Checkpoint;

use crate::progress::Progress;

/// The demo's config: WGAN-GP on ring8 with the standard toy networks.
const DEMO_CONFIG: &str = include_str!("../../../configs/demo.toml");

/// Seed of the noise behind the pictures (fixed, so pictures of one run are comparable).
const PICTURE_SEED: u64 = 12345;

/// The memory a command may use: `--max-memory`, else `GANTRY_MAX_MEMORY`, else what the
/// system has available (no limit where that is unknown: then only sizes that overflow
/// are refused).
pub fn budget(max_memory: Option<&str>) -> Result<Budget, String> {
    let env = std::env::var("GANTRY_MAX_MEMORY").ok();
    let set = max_memory
        .map(|v| ("--max-memory", v))
        .or(env.as_deref().map(|v| ("GANTRY_MAX_MEMORY", v)));
    match set {
        Some((name, value)) => {
            let bytes = parse_bytes(value).map_err(|e| format!("{name}: {e}"))?;
            Ok(Budget::limit(bytes, name))
        }
        None => {
            Ok(Budget::available().unwrap_or_else(|| Budget::limit(u64::MAX, "no limit known")))
        }
    }
}

pub fn demo(out: &Path, quiet: bool, budget: &Budget) -> Result<(), String> {
    let config =
        TrainConfig::from_toml(DEMO_CONFIG, &[]).map_err(|e| format!("the demo config: {e}"))?;
    println!(
        "gantry demo: WGAN-GP on 8 Gaussians on a ring ({} generator steps, {} critic steps each, batch {})",
        config.steps, config.n_critic, config.batch_size
    );
    train_with(config, out, (false, false), &[], quiet, budget).map(|_| ())
}

pub fn train(
    path: &Path,
    overrides: &[String],
    out: Option<PathBuf>,
    resume: (bool, bool),
    init_from: &[PathBuf],
    quiet: bool,
    budget: &Budget,
) -> Result<(), String> {
    let config = crate::configs::load(path, overrides)?;
    let out = out.unwrap_or_else(|| Path::new("runs").join(&config.name));
    train_with(config, &out, resume, init_from, quiet, budget).map(|_| ())
}

/// Trains `config` into `out`. Before anything is allocated or written the sizes are checked
/// against `budget`; then the directory is locked for the life of the process, so a second
/// run into it fails at once. `resume` is (`--resume`, `--allow-config-change`). Returns
/// the last evaluation.
pub fn train_with(
    config: TrainConfig,
    out: &Path,
    (resume, allow_config_change): (bool, bool),
    init_from: &[PathBuf],
    quiet: bool,
    budget: &Budget,
) -> Result<Option<Evaluation>, String> {
    let data = Data::load(&config.data).map_err(|e| TrainError::Data(e).to_string())?;
    let shape = data.sample_shape();
    config
        .model
        .validate(&shape)
        .map_err(|e| TrainError::Config(e).to_string())?;
    budget.check_run(&config, &shape)?;
    let nothing_to_resume = || {
        format!(
            "nothing to resume in {}; drop --resume to start a new run",
            out.display()
        )
    };
    if resume && !out.is_dir() {
        return Err(nothing_to_resume());
    }
    let _lock = RunLock::acquire(out)?;
    let checkpoint = out.join(CHECKPOINT_FILE);
    let start = if resume {
        if !checkpoint.exists() {
            return Err(nothing_to_resume());
        }
        resumed_step(&checkpoint, config.steps)
    } else {
        0
    };
    let steps = config.steps;
    let mut trainer = Trainer::with_data(config, data).map_err(|e| e.to_string())?;
    trainer.allow_config_change = allow_config_change;
    if !init_from.is_empty() {
        init_networks(&trainer, init_from)?;
    }
    let started = Instant::now();
    let progress = Progress::new(steps, start, quiet);
    let mut last: Option<StepLog> = None;
    let mut picture_error = None;
    let result = trainer.run(out, resume, &mut |event| match event {
        Event::Step(s) => {
            progress.step(s);
            last = Some(s.clone());
        }
        Event::Eval(e, t) => {
            progress.eval(e, last.as_ref());
            if let Err(err) = pictures(t, out) {
                picture_error.get_or_insert(err);
            }
        }
    });
    progress.finish();
    let eval = result.map_err(|e| resume_error(e, resume, out))?;
    if let Some(err) = picture_error {
        return Err(err);
    }
    plot_losses(&read_step_log(&out.join(LOG_FILE)), &out.join("losses.png"))
        .map_err(|e| e.to_string())?;
    summary(eval.as_ref(), started, out);
    Ok(eval)
}

/// The step a resumed run continues from, printed; 0 when the checkpoint does not load
/// (the trainer then reports why, naming the file).
fn resumed_step(checkpoint: &Path, steps: usize) -> usize {
    let step = Checkpoint::load(checkpoint)
        .ok()
        .and_then(|ck| ck.meta("step")?.parse().ok());
    if let Some(step) = step {
        println!(
            "resuming from step {step} of {steps} ({})",
            checkpoint.display()
        );
    }
    step.unwrap_or(0)
}

/// The message of a training error. Restoring a checkpoint on `--resume` fails with errors
/// that do not carry the file's path (a tensor of the wrong shape: the run folder holds a
/// run of another config); those get it.
fn resume_error(e: TrainError, resume: bool, out: &Path) -> String {
    let checkpoint = out.join(CHECKPOINT_FILE);
    let message = e.to_string();
    let unnamed = !message.contains(&*checkpoint.to_string_lossy());
    match e {
        TrainError::Checkpoint(_) | TrainError::Config(_) if resume && unnamed => {
            format!("{}: {message}", checkpoint.display())
        }
        _ => message,
    }
}

/// samples.png (and critic.png for 2-D data) from the current generator and critic.
fn pictures(t: &Trainer, out: &Path) -> Result<(), String> {
    let two_d = t.data.sample_shape() == [2];
    let n = if t.data.sample_shape().len() == 3 {
        64
    } else {
        1000
    };
    let samples = t.sample(n, PICTURE_SEED);
    plot_samples(&t.data, &samples, &out.join("samples.png")).map_err(|e| e.to_string())?;
    if two_d {
        plot_critic(t, &samples, &out.join("critic.png")).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn summary(eval: Option<&Evaluation>, started: Instant, out: &Path) {
    println!(
        "done in {:.1} s; results in {}/",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    if let Some(e) = eval {
        if let Some(m) = &e.mixture {
            println!("  modes covered:         {}/{}", m.modes_covered, m.n_modes);
            println!(
                "  high-quality samples:  {:.1}%",
                100.0 * m.high_quality_share
            );
            println!("  KL(modes || uniform):  {:.4}", m.kl_to_uniform);
        }
        if let Some(w) = e.wasserstein1 {
            println!("  Wasserstein-1 to data: {w:.4} (sliced in 2-D, exact in 1-D)");
        }
        if let Some(i) = &e.images {
            println!("  digits FD:             {:.4}", i.digits_fd);
            println!(
                "  classes covered:       {}/10 {:?}",
                i.classes_covered, i.class_histogram
            );
        }
        if let Some(f) = &e.features {
            let net = f["feature_net"].as_str().unwrap_or("?");
            let metric = |name: &str| f[&format!("{name}_{net}")].as_f64().unwrap_or(f64::NAN);
            let floor = |name: &str| {
                f[&format!("{name}_{net}_floor")]
                    .as_f64()
                    .unwrap_or(f64::NAN)
            };
            println!("  on {net} features (real-vs-real floor in brackets):");
            for name in ["fd", "kid", "precision", "recall", "density", "coverage"] {
                println!("    {name:10} {:10.4} ({:.4})", metric(name), floor(name));
            }
        }
    }
    let files = [
        "samples.png",
        "critic.png",
        "losses.png",
        LOG_FILE,
        CHECKPOINT_FILE,
    ];
    let present: Vec<&str> = files.into_iter().filter(|f| out.join(f).exists()).collect();
    println!("  files: {}", present.join(", "));
}

pub fn sample(
    checkpoint: &Path,
    n: usize,
    out: &Path,
    seed: u64,
    class: Option<u32>,
    budget: &Budget,
) -> Result<(), String> {
    if n == 0 {
        return Err("--n must be at least 1".into());
    }
    let (ck, config, data) = load_for_sampling(checkpoint)?;
    let shape = data.sample_shape();
    // A scatter plot holds as many real points as samples, and each set again as a list.
    let copies = if shape == [2] { 4 } else { 1 };
    budget.check(
        &format!("--n {n}"),
        sampling_bytes(&config.model, &shape, n, SAMPLE_CHUNK, copies),
    )?;
    let mut trainer = Trainer::with_data(config, data).map_err(|e| e.to_string())?;
    trainer
        .restore(&ck)
        .map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let labels = match class {
        None => trainer
            .cycling_labels(n.div_ceil(GRID_COLUMNS))
            .map(|classes| row_labels(&classes, n)),
        Some(k) if trainer.config.model.conditioning().is_none() => {
            return Err(format!(
                "--class {k}: {} holds an unconditional model (no [model.conditional])",
                checkpoint.display()
            ))
        }
        Some(k) if k as usize >= trainer.data.num_classes() => {
            return Err(format!(
                "--class {k}: the model knows classes 0..{}",
                trainer.data.num_classes()
            ))
        }
        Some(k) => Some(vec![k; n]),
    };
    let samples = trainer
        .sample_classes(n, seed, labels.as_deref())
        .map_err(|e| format!("--n {n}: {e}"))?;
    plot_samples(&trainer.data, &samples, out).map_err(|e| e.to_string())?;
    println!("wrote {n} samples to {}", out.display());
    Ok(())
}

/// The labels of `n` samples drawn into a grid of [`GRID_COLUMNS`] columns, row `r` all of
/// class `row_classes[r]`.
fn row_labels(row_classes: &[u32], n: usize) -> Vec<u32> {
    (0..n).map(|i| row_classes[i / GRID_COLUMNS]).collect()
}

/// A gantry training checkpoint and the config stored in it; errors name the file.
pub fn load_checkpoint(path: &Path) -> Result<(Checkpoint, TrainConfig), String> {
    let ck = Checkpoint::load(path).map_err(|e| e.to_string())?;
    let text = ck.meta("config").ok_or_else(|| {
        format!(
            "{}: not a gantry training checkpoint (no config inside)",
            path.display()
        )
    })?;
    let config =
        TrainConfig::from_toml(text, &[]).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((ck, config))
}

/// A checkpoint, its config and the data its generator needs (the recorded image shape, or
/// the data itself for toy runs and checkpoints without the record).
pub fn load_for_sampling(checkpoint: &Path) -> Result<(Checkpoint, TrainConfig, Data), String> {
    let (ck, config) = load_checkpoint(checkpoint)?;
    let data = match shape_of_images(&ck, &config) {
        Some(data) => data,
        None => Data::load(&config.data).map_err(|e| TrainError::Data(e).to_string())?,
    };
    Ok((ck, config, data))
}

/// For a run on images, the image shape and class count the checkpoint records, as data
/// with no images: sampling then needs neither the data nor its path (toy data, cheap to
/// make, is drawn beside 2-D samples; a checkpoint without the record loads the data).
fn shape_of_images(ck: &Checkpoint, config: &TrainConfig) -> Option<Data> {
    if matches!(config.data, DataConfig::Toy(_)) {
        return None;
    }
    let shape: Vec<usize> = serde_json::from_str(ck.meta("sample_shape")?).ok()?;
    let classes: usize = ck.meta("num_classes")?.parse().ok()?;
    let [c, h, w] = shape[..] else {
        return None;
    };
    Some(Data::Images {
        set: ImageSet::shape_only([c, h, w], classes),
        flip: false,
        description: format!("{} (shape from the checkpoint)", config.data.name()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grid_row_is_one_class() {
        let labels = row_labels(&[0, 1, 2], 20);
        assert_eq!(labels[..8], [0; 8]);
        assert_eq!(labels[8..16], [1; 8]);
        assert_eq!(labels[16..], [2; 4]);
    }
}
