//! Sizes that cannot fit are refused before anything is allocated.
//!
//! Each hostile case (a batch of 10¹², networks a billion units wide, sizes whose byte count
//! overflows 64 bits, `sample --n 10¹¹`, a `--max-memory` below what a config needs) must
//! end with exit status 1 and one line naming the option, the bytes needed and the memory
//! available, and the refused process must stay small: its peak resident set size
//! (`ru_maxrss` from `wait4`) under 100 MB. Run with `--nocapture` to see each case's
//! message and peak RSS (the table in README's "Reliability" section):
//!
//! ```sh
//! cargo test --release --test reliability_sizes -- --nocapture --test-threads 1
//! ```
//!
//! The estimates are lower bounds, so a config that fits must not be refused: a run given
//! exactly its own measured peak RSS as `--max-memory` still runs. And `sample --n 10⁶`
//! draws its scatter in chunks, within bounded memory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{assert_one_line_error, output_and_peak_rss_kib, scratch};

/// A tiny WGAN-GP run on ring8 (16-wide MLPs, 2 steps).
const TINY: &str = r#"
name = "sizes"
seed = 1
steps = 2
batch_size = 16
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 1.0 }
eval_samples = 64

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [16]
d_hidden = [16]
"#;

/// The largest peak RSS a refused process may reach.
const REFUSED_PEAK_KIB: u64 = 100 * 1024;

/// Runs `cmd`, asserts a one-line error containing `needles` and a small peak RSS, prints
/// the case as a table row; returns the message.
fn refused(case: &str, cmd: &mut Command, needles: &[&str]) -> String {
    let (output, peak_kib) = output_and_peak_rss_kib(cmd);
    let line = assert_one_line_error(&output, needles);
    println!(
        "| {case} | `{line}` | {} | {:.1} MB |",
        output.status.code().unwrap(),
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib < REFUSED_PEAK_KIB,
        "{case}: the refused process reached {peak_kib} KiB"
    );
    line
}

/// `gantry train` on [`TINY`] (written into `dir`) with `--set` overrides.
fn train_with(dir: &Path, overrides: &[&str]) -> Command {
    let config = dir.join("tiny.toml");
    std::fs::write(&config, TINY).unwrap();
    let mut cmd = common::train(&config, &dir.join("run"));
    for o in overrides {
        cmd.args(["--set", o]);
    }
    cmd
}

/// Trains [`TINY`] into `dir/run` and returns the checkpoint's path.
fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let output = train_with(dir, &[]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    dir.join("run/checkpoint.safetensors")
}

/// Asserts nothing was written for a refused run.
fn assert_no_run(dir: &Path) {
    assert!(
        !dir.join("run").exists(),
        "a refused run created its directory"
    );
}

#[test]
fn training_sizes_that_cannot_fit_are_one_line_errors() {
    let dir = scratch("sizes-train");
    let cases: [(&str, &[&str], &[&str]); 7] = [
        (
            "batch_size = 10^12",
            &["batch_size=1000000000000"],
            &[
                "batch_size = 1000000000000 would need at least",
                "available",
            ],
        ),
        (
            "eval_samples = 10^12",
            &["eval_samples=1000000000000"],
            &[
                "eval_samples = 1000000000000 would need at least",
                "available",
            ],
        ),
        (
            "g_hidden = [10^9, 10^9]",
            &["model.g_hidden=[1000000000, 1000000000]"],
            &[
                "model.g_hidden = [1000000000, 1000000000]",
                "would need at least",
            ],
        ),
        (
            "z_dim = 10^12",
            &["model.z_dim=1000000000000"],
            &["model.z_dim = 1000000000000", "would need at least"],
        ),
        (
            "d_hidden = [4·10^18, 4·10^18] (overflow)",
            &["model.d_hidden=[4000000000000000000, 4000000000000000000]"],
            &["model.d_hidden", "would need more than 2^64 bytes"],
        ),
        (
            "batch_size = 9·10^18 (overflow)",
            &["batch_size=9000000000000000000"],
            &["batch_size = 9000000000000000000 would need more than 2^64 bytes"],
        ),
        (
            "dcgan channels = 10^6",
            &[
                "data.name=digits",
                "model={kind = \"dcgan\", channels = 1000000}",
            ],
            &["model.channels = 1000000", "would need at least"],
        ),
    ];
    for (case, overrides, needles) in cases {
        refused(case, &mut train_with(&dir, overrides), needles);
        assert_no_run(&dir);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_memory_limit_refuses_what_would_otherwise_fit() {
    let dir = scratch("sizes-limit");
    let mut cmd = train_with(&dir, &["batch_size=100000", "model.g_hidden=[512]"]);
    cmd.args(["--max-memory", "64M"]);
    refused(
        "batch_size = 10^5 with --max-memory 64M",
        &mut cmd,
        &["batch_size = 100000", "64.0 MiB", "(--max-memory)"],
    );
    let mut cmd = train_with(&dir, &["batch_size=100000", "model.g_hidden=[512]"]);
    cmd.env("GANTRY_MAX_MEMORY", "64M");
    refused(
        "the same with GANTRY_MAX_MEMORY=64M",
        &mut cmd,
        &["batch_size = 100000", "(GANTRY_MAX_MEMORY)"],
    );
    let mut cmd = train_with(&dir, &[]);
    cmd.env("GANTRY_MAX_MEMORY", "lots");
    refused(
        "GANTRY_MAX_MEMORY=lots",
        &mut cmd,
        &["GANTRY_MAX_MEMORY: 'lots' is not a byte count"],
    );
    assert_no_run(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sample_counts_that_cannot_fit_are_refused_and_large_ones_drawn_in_chunks() {
    let dir = scratch("sizes-sample");
    let checkpoint = tiny_checkpoint(&dir);
    let png = dir.join("samples.png");
    let sample = |n: &str| {
        let mut cmd = common::gantry();
        cmd.args(["sample", "--n", n, "--checkpoint"])
            .arg(&checkpoint)
            .arg("--out")
            .arg(&png);
        cmd
    };
    refused(
        "sample --n 10^11",
        &mut sample("100000000000"),
        &["--n 100000000000 would need at least", "available"],
    );
    assert!(!png.exists(), "a refused sample wrote its picture");

    let (output, peak_kib): (Output, u64) = output_and_peak_rss_kib(&mut sample("1000000"));
    assert!(output.status.success(), "{output:?}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    println!(
        "sample --n 10^6 (2-D scatter): exit 0, peak RSS {:.1} MB",
        peak_kib as f64 / 1024.0
    );
    // 10⁶ points are 8 MB per copy; one draw at once with the tiny generator's 16-wide
    // layer would add 64 MB more. The bound leaves room for the plot's buffers.
    assert!(peak_kib < 400 * 1024, "peak RSS {peak_kib} KiB");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The estimate is a lower bound: a run whose `--max-memory` is its own measured peak RSS
/// is not refused. (256-wide networks and batches of 4096, so the step's tensors, not the
/// process's fixed memory, make most of the peak.)
#[test]
fn a_run_fits_in_its_own_peak_memory() {
    let dir = scratch("sizes-fit");
    let overrides = [
        "batch_size=4096",
        "model.g_hidden=[256, 256]",
        "model.d_hidden=[256, 256]",
        "eval_samples=2000",
    ];
    let (output, peak_kib) = output_and_peak_rss_kib(&mut train_with(&dir, &overrides));
    assert!(output.status.success(), "{output:?}");
    let limit = format!("{}K", peak_kib);
    let mut cmd = train_with(&dir, &overrides);
    cmd.args(["--max-memory", &limit]);
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "refused within its own peak of {peak_kib} KiB: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
