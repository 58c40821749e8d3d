//! Helpers shared by the integration tests: scratch directories, running the `gantry`
//! binary, one-line errors, checkpoints as bits and peak memory of a child process.
//!
//! Each test file includes this module with `mod common;` and uses the part it needs.
// Every test file is its own crate and uses a subset, so the rest is unused there.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gantry::nn::Checkpoint;

/// A fresh, empty directory (mode 0o755) under cargo's scratch space for integration tests,
/// unique to `name` and this test process. A leftover of an earlier run is removed first,
/// read-only or not.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("reliability-{name}-{}", std::process::id()));
    if dir.exists() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The `gantry` binary built for this test run.
pub fn gantry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
}

/// `gantry train --quiet --config <config> --out <out>`.
pub fn train(config: &Path, out: &Path) -> Command {
    let mut cmd = gantry();
    cmd.args(["train", "--quiet", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out);
    cmd
}

/// Writes `per_class` RGB PNGs of `size`x`size` pixels into each of `classes` class folders
/// under `dir` (`class0/`, `class1/`, …): class `k`'s images are diagonal stripes of one
/// hue, shifted per image, so the classes differ in colour.
pub fn png_folder(dir: &Path, classes: usize, per_class: usize, size: u32) {
    for k in 0..classes {
        let class = dir.join(format!("class{k}"));
        std::fs::create_dir_all(&class).unwrap();
        for i in 0..per_class {
            let image = image::RgbImage::from_fn(size, size, |x, y| {
                let on = (x + y + i as u32) % 6 < 3;
                let level = if on { 230 } else { 30 };
                let mut rgb = [30u8; 3];
                rgb[k % 3] = level;
                image::Rgb(rgb)
            });
            image.save(class.join(format!("{i}.png"))).unwrap();
        }
    }
}

/// Asserts that a command succeeded, showing its stderr if not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit status {:?}; stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A failure the way a user should see it: exit status 1 (not a panic's 101, not a signal)
/// and exactly one line on stderr, `error: …`, containing every one of `needles`. Returns
/// the line.
pub fn assert_one_line_error(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit status 1; stderr:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "the error does not mention {needle:?}: {err}"
        );
    }
    lines[0].to_string()
}

/// A checkpoint's state: every tensor as raw bits, the step and the RNG position.
#[derive(Debug, PartialEq)]
pub struct CheckpointBits {
    /// Each tensor's values as `f32` bit patterns, by name.
    pub tensors: BTreeMap<String, Vec<u32>>,
    /// The `step` metadata.
    pub step: usize,
    /// The `rng_word_pos` metadata.
    pub rng_word_pos: String,
}

/// The state of `dir/checkpoint.safetensors`.
pub fn checkpoint_bits(dir: &Path) -> CheckpointBits {
    let path = dir.join("checkpoint.safetensors");
    let ck = Checkpoint::load(&path)
        .unwrap_or_else(|e| panic!("{}: does not load: {e}", path.display()));
    let tensors = ck
        .keys()
        .into_iter()
        .map(|k| {
            let t = ck.get::<f32>(k, None).unwrap();
            (
                k.to_string(),
                t.to_vec().iter().map(|x| x.to_bits()).collect(),
            )
        })
        .collect();
    CheckpointBits {
        tensors,
        step: ck.meta("step").unwrap().parse().unwrap(),
        rng_word_pos: ck.meta("rng_word_pos").unwrap().to_string(),
    }
}

/// Asserts two states are the same bits, naming the first thing that differs.
pub fn assert_same_bits(a: &CheckpointBits, b: &CheckpointBits) {
    assert_eq!(a.step, b.step, "step");
    assert_eq!(a.rng_word_pos, b.rng_word_pos, "RNG position");
    assert_eq!(
        a.tensors.keys().collect::<Vec<_>>(),
        b.tensors.keys().collect::<Vec<_>>(),
        "tensor names"
    );
    for (key, bits) in &a.tensors {
        assert!(bits == &b.tensors[key], "tensor {key} differs");
    }
}

/// The JSON lines of `dir/log.jsonl`, as written (timings included).
pub fn log_lines_with_time(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The JSON lines of `dir/log.jsonl` with the wall-clock field `elapsed_s` removed.
pub fn log_lines(dir: &Path) -> Vec<serde_json::Value> {
    let mut lines = log_lines_with_time(dir);
    for v in &mut lines {
        if let Some(o) = v.as_object_mut() {
            o.remove("elapsed_s");
        }
    }
    lines
}

/// Runs `cmd` to completion, capturing its output, and returns it with the child's peak
/// resident set size in KiB (`ru_maxrss` of this one child, from `wait4`, the figure
/// `/usr/bin/time -v` prints as "Maximum resident set size").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which also gives its rusage
pub fn output_and_peak_rss_kib(cmd: &mut Command) -> (Output, u64) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{ExitStatus, Stdio};

    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child's messages are far below a pipe's capacity, so it never blocks on them.
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it and the status for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout,
        stderr,
    };
    (output, usage.ru_maxrss as u64)
}
