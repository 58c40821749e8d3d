//! `gantry demo`, `gantry train` and `gantry sample`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gantry::gan::plot::report::{plot_critic, plot_losses, plot_samples};
use gantry::gan::train::{read_step_log, Evaluation, StepLog, CHECKPOINT_FILE, LOG_FILE};
use gantry::gan::{Event, TrainConfig, TrainError, Trainer};
use gantry::nn::Checkpoint;

use crate::progress::Progress;

/// The demo's config: WGAN-GP on ring8 with the standard toy networks.
const DEMO_CONFIG: &str = include_str!("../../../configs/demo.toml");

/// Seed of the noise behind the pictures (fixed, so pictures of one run are comparable).
const PICTURE_SEED: u64 = 12345;

pub fn demo(out: &Path, quiet: bool) -> Result<(), String> {
    let config =
        TrainConfig::from_toml(DEMO_CONFIG, &[]).map_err(|e| format!("the demo config: {e}"))?;
    println!(
        "gantry demo: WGAN-GP on 8 Gaussians on a ring ({} generator steps, {} critic steps each, batch {})",
        config.steps, config.n_critic, config.batch_size
    );
    train_with(config, out, (false, false), quiet)
}

pub fn train(
    path: &Path,
    overrides: &[String],
    out: Option<PathBuf>,
    resume: (bool, bool),
    quiet: bool,
) -> Result<(), String> {
    let config = crate::configs::load(path, overrides)?;
    let out = out.unwrap_or_else(|| Path::new("runs").join(&config.name));
    train_with(config, &out, resume, quiet)
}

/// Trains `config` into `out`; `resume` is (`--resume`, `--allow-config-change`).
fn train_with(
    config: TrainConfig,
    out: &Path,
    (resume, allow_config_change): (bool, bool),
    quiet: bool,
) -> Result<(), String> {
    let steps = config.steps;
    let mut trainer = Trainer::new(config).map_err(|e| e.to_string())?;
    trainer.allow_config_change = allow_config_change;
    let started = Instant::now();
    let progress = Progress::new(steps, 0, quiet);
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
    Ok(())
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

pub fn sample(checkpoint: &Path, n: usize, out: &Path, seed: u64) -> Result<(), String> {
    if n == 0 {
        return Err("--n must be at least 1".into());
    }
    let ck = Checkpoint::load(checkpoint).map_err(|e| e.to_string())?;
    let text = ck.meta("config").ok_or_else(|| {
        format!(
            "{}: not a gantry training checkpoint (no config inside)",
            checkpoint.display()
        )
    })?;
    let config =
        TrainConfig::from_toml(text, &[]).map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let mut trainer = Trainer::new(config).map_err(|e| e.to_string())?;
    trainer
        .restore(&ck)
        .map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let samples = trainer.sample(n, seed);
    plot_samples(&trainer.data, &samples, out).map_err(|e| e.to_string())?;
    println!("wrote {n} samples to {}", out.display());
    Ok(())
}
