//! The NaN/Inf guard: a run made to diverge (learning rates of 10^4 to 10^6 with Adam, no
//! penalty, a checkpoint every step) must stop with exit status ≠ 0 and one line
//! `error: training diverged at step N: <loss or tensor> is not finite …`, and leave the
//! checkpoint of the last good step on disk: it loads, every tensor in it (weights, buffers,
//! optimizer state) is finite, and its step is N − 1. Resuming from it diverges again at
//! the same step, with the same message, and does not touch the checkpoint.
//!
//! The configs diverge deterministically (one seed, one RNG); each names a different thing:
//! a loss, or Adam's second moment, which overflows (a gradient above ~1.8e19 squares to
//! inf) while the weights are still finite.
//!
//! ```sh
//! cargo test --test reliability_nan_guard
//! ```

mod common;

use std::path::Path;

use common::scratch;
use gantry::nn::Checkpoint;

/// A tiny MLP GAN on ring8 with the given objective and learning rate (both networks).
fn diverging_config(objective: &str, lr: &str) -> String {
    format!(
        r#"
name = "diverge"
seed = 3
steps = 40
batch_size = 32
objective = "{objective}"
checkpoint_every = 1
log_every = 1
eval_samples = 64

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [16]
d_hidden = [16]

[optim]
g_lr = {lr}
d_lr = {lr}
"#
    )
}

/// Runs `gantry train`, expecting failure; returns the one line it printed on stderr.
fn train_expecting_divergence(config: &Path, out: &Path, resume: bool) -> String {
    let mut cmd = common::train(config, out);
    if resume {
        cmd.arg("--resume");
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "the run did not diverge; stderr: {stderr}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "an error exit, not a crash: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {stderr}");
    lines[0].to_string()
}

/// `N` and what was named, from `error: training diverged at step N: WHAT is not finite …`.
fn parse_divergence(line: &str) -> (usize, String) {
    let rest = line
        .strip_prefix("error: training diverged at step ")
        .unwrap_or_else(|| panic!("unexpected message: {line}"));
    let (step, rest) = rest.split_once(": ").expect("a step, then what diverged");
    let (what, _) = rest
        .split_once(" is not finite")
        .unwrap_or_else(|| panic!("the message does not say what is not finite: {line}"));
    (step.parse().expect("a step number"), what.to_string())
}

/// Checks the last good checkpoint: loads, all finite, step `n − 1`; returns its bytes.
fn check_kept_checkpoint(out: &Path, n: usize) -> Vec<u8> {
    let path = out.join("checkpoint.safetensors");
    let ck = Checkpoint::load(&path).expect("the last good checkpoint loads");
    let step: usize = ck.meta("step").unwrap().parse().unwrap();
    assert!(
        step < n,
        "checkpoint step {step} is not before the divergence at {n}"
    );
    assert_eq!(step, n - 1, "checkpoint_every = 1 keeps the step before");
    for key in ck.keys() {
        let t = ck.get::<f32>(key, None).unwrap();
        assert!(
            t.all_finite(),
            "the kept checkpoint holds a non-finite {key}"
        );
    }
    std::fs::read(path).unwrap()
}

fn diverges_cleanly(name: &str, objective: &str, lr: &str, names: impl Fn(&str) -> bool) {
    let dir = scratch(name);
    let config = dir.join("diverge.toml");
    std::fs::write(&config, diverging_config(objective, lr)).unwrap();
    let out = dir.join("out");

    let line = train_expecting_divergence(&config, &out, false);
    let (n, what) = parse_divergence(&line);
    assert!(names(&what), "unexpected culprit in: {line}");
    assert!(
        n >= 2,
        "diverged at step {n}: no good checkpoint to keep ({line})"
    );
    let kept = check_kept_checkpoint(&out, n);
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    for l in log.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let step = v["step"].as_u64().unwrap() as usize;
        assert!(step < n, "a log line for step {step} after the divergence");
    }
    let leftovers = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0, "temporary files left behind");

    // Resuming from the kept checkpoint meets the same divergence, deterministically.
    let again = train_expecting_divergence(&config, &out, true);
    assert_eq!(again, line, "resuming diverges differently");
    assert_eq!(
        std::fs::read(out.join("checkpoint.safetensors")).unwrap(),
        kept,
        "the failed resume changed the checkpoint"
    );
    println!("{objective} at lr {lr}: {line}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_loss_overflowing_stops_the_run_with_the_last_good_checkpoint_kept() {
    diverges_cleanly("nan-loss", "least_squares", "3e4", |what| {
        what == "d_loss" || what == "g_loss"
    });
}

#[test]
fn adam_state_overflowing_stops_the_run_with_the_last_good_checkpoint_kept() {
    // The weights are still finite here; before the guard checked the optimizer state, this
    // run went on, and its "last good" checkpoint held inf in `exp_avg_sq`. At such rates the
    // run is chaotic after its first step (a change of rounding in a kernel moved 8e5 from
    // diverging at step 4 to not diverging at all), so the rate is one that overflows within
    // three steps.
    diverges_cleanly("nan-adam", "wasserstein", "1e6", |what| {
        what.starts_with("optimizer state opt_") && what.ends_with(".exp_avg_sq")
    });
}
