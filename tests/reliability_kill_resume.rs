//! Kill -9 at random moments, then `--resume`: the run must end bit-identical to a run that
//! was never interrupted.
//!
//! `gantry train` on a tiny config (WGAN-GP with a spectrally normalized critic, an EMA
//! generator and a linear learning-rate schedule, so every kind of saved state matters) is
//! killed with SIGKILL after a random delay; `gantry train --resume` continues and is
//! killed again, up to 3 times (an episode). After each kill the checkpoint on disk must
//! load and hold finite values at a step no earlier than before. Then a last `--resume`
//! runs to the end, and every tensor of its checkpoint (weights, buffers, optimizer state)
//! must have the same bits as the uninterrupted run's, the metadata (step, RNG position)
//! must agree, the log must hold the same lines (timings aside), and no temporary file may
//! be left. Each delay is uniform over what is left of the run being killed (start-up and
//! pictures included), from a seeded generator, so the kill moments are reproducible up to
//! the machine's speed.
//!
//! The default test kills 3 times (a few seconds). The long test kills 40 times (or
//! `GANTRY_KILLS` times):
//!
//! ```sh
//! cargo test --test reliability_kill_resume many_kills -- --ignored --nocapture
//! GANTRY_KILLS=100 cargo test --release --test reliability_kill_resume many_kills -- --ignored --nocapture
//! ```
//!
//! The same file holds the memory bound of a long run, also observed from outside the
//! process: a 10 000-step run (WGAN-GP, 64x64 MLPs, n_critic 5, a checkpoint every 500
//! steps, an evaluation with pictures every 500) has its resident set size read from
//! `/proc/<pid>/status` (`VmRSS`) every second; after the first 10 % of the samples (which
//! include the first evaluation: plotting's buffers and font are a one-time cost) it must
//! stay flat (max − min < 20 % of min). About 80 s in the test profile:
//!
//! ```sh
//! cargo test --test reliability_kill_resume memory -- --ignored --nocapture
//! ```

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_same_bits, checkpoint_bits, log_lines, log_lines_with_time, scratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CONFIG: &str = r#"
name = "kill-resume"
seed = 11
steps = 60
batch_size = 32
n_critic = 2
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
ema = 0.9
log_every = 1
eval_every = 25
checkpoint_every = 1
eval_samples = 256

[data]
name = "ring8"

[model]
kind = "mlp"
z_dim = 2
g_hidden = [16]
d_hidden = [16]
spectral_norm = true

[optim]
g_lr = 1e-3
d_lr = 1e-3
schedule = "linear"
"#;

/// SIGKILL's number (what `Child::kill` sends on Unix).
const SIGKILL: i32 = 9;

/// `gantry train --config <config> --out <out> --quiet [--resume]`, stderr captured.
fn train(config: &Path, out: &Path, resume: bool) -> Command {
    let mut cmd = common::train(config, out);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

/// Runs to completion, asserting success.
fn run_to_end(config: &Path, out: &Path, resume: bool) {
    let output = train(config, out, resume).output().unwrap();
    assert!(
        output.status.success(),
        "gantry train failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Seconds from the start of training to the last step, from a run's log.
fn training_seconds(dir: &Path) -> f64 {
    log_lines_with_time(dir)
        .iter()
        .filter_map(|v| v.get("elapsed_s")?.as_f64())
        .fold(0.0, f64::max)
}

/// Steps of [`CONFIG`].
const STEPS: usize = 60;

/// Kills before an episode's run is let finish: the first kill lands anywhere in the run,
/// the next ones in what is left, the resumed runs' start-up included.
const KILLS_PER_EPISODE: usize = 3;

/// What the kill loop did.
#[derive(Debug, Default)]
struct Tally {
    /// Processes that died of SIGKILL.
    kills: usize,
    /// The checkpoint's step after each kill (0: no checkpoint yet).
    steps_at_kill: Vec<usize>,
    /// Kills that left a save's temporary file behind (killed in the middle of a save).
    mid_save: usize,
    /// Processes that finished before their kill came.
    finished_first: usize,
    /// Interrupted runs (each restarted from scratch, killed, resumed, compared).
    episodes: usize,
}

/// Kills runs until `wanted` processes have died of SIGKILL, in episodes of up to
/// [`KILLS_PER_EPISODE`] kills of one run and its resumptions, comparing each episode's
/// final checkpoint and log with the uninterrupted run's.
fn kill_and_resume(name: &str, wanted: usize) -> Tally {
    let dir = scratch(name);
    let config = dir.join("tiny.toml");
    std::fs::write(&config, CONFIG).unwrap();

    let reference = dir.join("reference");
    let started = Instant::now();
    run_to_end(&config, &reference, false);
    let full_run = started.elapsed();
    let (want_state, want_log) = (checkpoint_bits(&reference), log_lines(&reference));
    assert_eq!(want_state.step, STEPS);
    // Time per step, and for everything else (start-up, the final pictures), so that kill
    // moments can be spread over what is left of each resumed run.
    let training = Duration::from_secs_f64(training_seconds(&reference));
    let per_step = training / STEPS as u32;
    let overhead = full_run.saturating_sub(training);

    let mut rng = ChaCha8Rng::seed_from_u64(0x6B11_1E90);
    let mut tally = Tally::default();
    while tally.kills < wanted {
        tally.episodes += 1;
        let out = dir.join(format!("episode-{}", tally.episodes));
        let mut last_step = 0;
        for _ in 0..KILLS_PER_EPISODE.min(wanted - tally.kills) {
            // Uniform over what is left of this run (start-up and pictures included), so
            // that resumed runs are killed at every stage too, not only the first run.
            let left = overhead + per_step * (STEPS - last_step) as u32;
            let delay = left.mul_f64(rng.gen_range(0.0..1.0));
            // A run killed before its first checkpoint left nothing to resume.
            let resume = out.join("checkpoint.safetensors").exists();
            let mut child = train(&config, &out, resume).spawn().unwrap();
            std::thread::sleep(delay);
            let _ = child.kill(); // SIGKILL; an error means it already exited
            let status = child.wait().unwrap();
            if status.signal() != Some(SIGKILL) {
                assert!(status.success(), "a run failed before its kill: {status}");
                tally.finished_first += 1;
                break;
            }
            tally.kills += 1;
            let temporaries = std::fs::read_dir(&out).map_or(0, |entries| {
                entries
                    .filter(|e| {
                        let name = e.as_ref().unwrap().file_name();
                        name.to_string_lossy().contains(".tmp")
                    })
                    .count()
            });
            tally.mid_save += usize::from(temporaries > 0);
            if out.join("checkpoint.safetensors").exists() {
                let s = checkpoint_bits(&out);
                assert!(
                    s.step >= last_step,
                    "checkpoint went back from {last_step} to {}",
                    s.step
                );
                assert!(
                    s.tensors
                        .values()
                        .all(|t| t.iter().all(|&b| f32::from_bits(b).is_finite())),
                    "a non-finite value in the checkpoint"
                );
                last_step = s.step;
            }
            tally.steps_at_kill.push(last_step);
        }
        let resume = out.join("checkpoint.safetensors").exists();
        run_to_end(&config, &out, resume);
        assert_same_bits(&checkpoint_bits(&out), &want_state);
        assert_eq!(
            log_lines(&out),
            want_log,
            "episode {}: the log differs",
            tally.episodes
        );
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
    println!(
        "{name}: uninterrupted run {:.2} s ({:.2} s of training); {tally:?}",
        full_run.as_secs_f64(),
        training.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    tally
}

#[test]
fn three_kills_then_resume_match_an_uninterrupted_run() {
    let tally = kill_and_resume("kill3", 3);
    assert_eq!(tally.kills, 3);
}

#[test]
#[ignore = "long: cargo test --test reliability_kill_resume -- --ignored --nocapture"]
fn many_kills_then_resume_match_an_uninterrupted_run() {
    let wanted = std::env::var("GANTRY_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let tally = kill_and_resume("kill-many", wanted);
    assert!(tally.kills >= wanted.min(20));
}

const LONG_RUN: &str = r#"
name = "memory"
seed = 2
steps = 10000
batch_size = 64
n_critic = 5
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
log_every = 10
eval_every = 500
checkpoint_every = 500
eval_samples = 500

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [64, 64]
d_hidden = [64, 64]
"#;

/// The resident set size of process `pid` in kB, from `/proc/<pid>/status`.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "long (~80 s): cargo test --test reliability_kill_resume memory -- --ignored --nocapture"]
fn memory_stays_flat_over_a_ten_thousand_step_run() {
    let dir = scratch("memory");
    let config = dir.join("long.toml");
    std::fs::write(&config, LONG_RUN).unwrap();
    let mut child = train(&config, &dir.join("run"), false).spawn().unwrap();
    let started = Instant::now();
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some(kb) = rss_kb(child.id()) {
            samples.push((started.elapsed().as_secs_f64(), kb));
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    assert!(status.success(), "the long run failed: {status}");
    assert!(samples.len() >= 10, "only {} samples", samples.len());
    let warm = &samples[samples.len() / 10..];
    let min = warm.iter().map(|s| s.1).min().unwrap();
    let max = warm.iter().map(|s| s.1).max().unwrap();
    let shown: Vec<String> = samples
        .iter()
        .map(|(t, kb)| format!("{t:.0}s:{kb}"))
        .collect();
    println!("VmRSS samples (kB): {}", shown.join(" "));
    println!(
        "{} samples over {:.0} s; after warm-up ({} samples): min {min} kB, max {max} kB, \
         spread {:.1} %",
        samples.len(),
        started.elapsed().as_secs_f64(),
        warm.len(),
        100.0 * (max - min) as f64 / min as f64
    );
    assert!(
        ((max - min) as f64) < 0.2 * min as f64,
        "RSS grew from {min} kB to {max} kB after warm-up"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
