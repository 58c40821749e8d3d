//! The `gantry` binary end to end: each test runs the built executable on a tiny config in
//! its own temporary folder and checks what a user would see: the exit code, the files
//! written, and, for bad input, a one-line `error: …` on stderr that names the file and the
//! problem, with nothing half-written left behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::assert_one_line_error;

/// A 2-D toy run small enough to train in a fraction of a second: WGAN-GP (so the double
/// backward path runs too) with one hidden layer of 16 units, batch 16, 4 steps.
const TINY: &str = r#"
name = "tiny"
seed = 3
steps = 4
batch_size = 16
n_critic = 2
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
log_every = 1
eval_every = 2
checkpoint_every = 2
eval_samples = 64

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [16]
d_hidden = [16]
"#;

/// A scratch folder unique to one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        Scratch(common::scratch(&format!("cli-{test}")))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `contents` to `name` in the folder and returns its path.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).expect("write a scratch file");
        path
    }

    /// The tiny config with `[data]` replaced by `data` (a whole table, header included).
    fn config_with_data(&self, name: &str, data: &str) -> PathBuf {
        let text = TINY.replace("[data]\nname = \"ring8\"", data);
        assert_ne!(text, TINY, "the [data] table of TINY moved");
        self.write(name, text)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `gantry` with `args` inside `dir` (so a default `runs/` lands there too).
fn gantry(dir: &Scratch, args: &[&str]) -> Output {
    common::gantry()
        .args(args)
        .current_dir(&dir.0)
        .output()
        .expect("run the gantry binary")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("scratch paths are UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "gantry failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// Whether the folder is absent or empty (no half-written run left behind).
fn assert_no_files(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        let names: Vec<_> = entries
            .map(|e| e.expect("a directory entry").file_name())
            .collect();
        assert!(names.is_empty(), "{} holds {names:?}", dir.display());
    }
}

fn assert_png(path: &Path) {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
}

/// The JSON lines of a run's log: (step lines, evaluation lines).
fn read_log(path: &Path) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line {l:?}: {e}")))
        .collect();
    lines.into_iter().partition(|v| v.get("eval").is_none())
}

fn steps_of(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|v| v["step"].as_u64().expect("a step number"))
        .collect()
}

/// Trains TINY into `dir/name` with extra arguments; returns the run folder.
fn train(dir: &Scratch, name: &str, extra: &[&str]) -> PathBuf {
    let config = dir.write("tiny.toml", TINY);
    let out = dir.path(name);
    let mut args = vec!["train", "--config", s(&config), "--out", s(&out), "--quiet"];
    args.extend_from_slice(extra);
    assert_ok(&gantry(dir, &args));
    out
}

#[test]
fn train_writes_pictures_log_and_checkpoint() {
    let dir = Scratch::new("train");
    let out = train(&dir, "run", &[]);
    for picture in ["samples.png", "critic.png", "losses.png"] {
        assert_png(&out.join(picture));
    }
    assert!(out.join("checkpoint.safetensors").is_file());
    let (steps, evals) = read_log(&out.join("log.jsonl"));
    assert_eq!(steps_of(&steps), [1, 2, 3, 4]);
    assert_eq!(steps_of(&evals), [2, 4]);
    for key in [
        "d_loss",
        "g_loss",
        "penalty",
        "wasserstein",
        "d_grad_norm",
        "g_grad_norm",
    ] {
        assert!(steps[3][key].is_number(), "{key} in {}", steps[3]);
    }
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn resume_continues_and_logs_each_step_once() {
    let dir = Scratch::new("resume");
    let out = train(&dir, "run", &[]);
    train(&dir, "run", &["--resume", "--set", "steps=8"]);
    let (steps, evals) = read_log(&out.join("log.jsonl"));
    assert_eq!(steps_of(&steps), (1..=8).collect::<Vec<_>>());
    assert_eq!(steps_of(&evals), [2, 4, 6, 8]);

    // A resumed run continues exactly: the same losses as a run that never stopped.
    let straight = train(&dir, "straight", &["--set", "steps=8"]);
    let (straight_steps, _) = read_log(&straight.join("log.jsonl"));
    for (a, b) in steps.iter().zip(&straight_steps) {
        for key in ["d_loss", "g_loss", "penalty"] {
            assert_eq!(
                a[key], b[key],
                "{key} at step {} differs after resuming",
                a["step"]
            );
        }
    }
}

#[test]
fn resume_from_a_corrupt_checkpoint_fails_and_keeps_the_run() {
    let dir = Scratch::new("resume-corrupt");
    let out = train(&dir, "run", &[]);
    let checkpoint = out.join("checkpoint.safetensors");
    let bytes = fs::read(&checkpoint).unwrap();
    fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    let log_before = fs::read(out.join("log.jsonl")).unwrap();
    let config = dir.path("tiny.toml");
    let args = [
        "train",
        "--config",
        s(&config),
        "--out",
        s(&out),
        "--resume",
        "--quiet",
        "--set",
        "steps=8",
    ];
    let result = gantry(&dir, &args);
    assert_one_line_error(&result, &["checkpoint.safetensors"]);
    assert_eq!(
        fs::read(out.join("log.jsonl")).unwrap(),
        log_before,
        "the log was rewritten"
    );
}

#[test]
fn resume_with_another_architecture_names_the_checkpoint() {
    let dir = Scratch::new("resume-other");
    let out = train(&dir, "run", &[]);
    let config = dir.path("tiny.toml");
    let result = gantry(
        &dir,
        &[
            "train",
            "--config",
            s(&config),
            "--out",
            s(&out),
            "--resume",
            "--quiet",
            "--set",
            "model.d_hidden=[8]",
        ],
    );
    assert_one_line_error(&result, &["checkpoint.safetensors", "model.d_hidden"]);
}

#[test]
fn sample_draws_a_png_from_a_checkpoint() {
    let dir = Scratch::new("sample");
    let out = train(&dir, "run", &[]);
    let png = dir.path("x.png");
    let checkpoint = out.join("checkpoint.safetensors");
    let args = [
        "sample",
        "--checkpoint",
        s(&checkpoint),
        "--n",
        "50",
        "--out",
        s(&png),
        "--seed",
        "7",
    ];
    assert_ok(&gantry(&dir, &args));
    assert_png(&png);
}

/// `gantry bench` on `workloads` with the given iterations: checks that it succeeded and
/// returns its lines, each parsed as JSON.
fn bench_lines(
    dir: &Scratch,
    workloads: &str,
    iters: &str,
    warmup: &str,
) -> Vec<serde_json::Value> {
    let out = gantry(
        dir,
        &[
            "bench",
            "--workload",
            workloads,
            "--iters",
            iters,
            "--warmup",
            warmup,
        ],
    );
    assert_ok(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn bench_prints_one_json_line() {
    let dir = Scratch::new("bench");
    let lines = bench_lines(&dir, "mlp-ns", "1", "0");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let v = &lines[0];
    assert_eq!(v["workload"], "mlp-ns");
    assert!(v["threads"].as_u64().is_some_and(|t| t >= 1), "{v}");
    assert!(v["ms_per_iter"].as_f64().is_some_and(|ms| ms > 0.0), "{v}");
    assert_eq!(v["n"], 1);
    // The matrix products of one mlp-ns iteration, counted by hand (2·batch·in·out per
    // product, batch 64): G 100-256-512-1024-784 costs g = 128·1 483 776 forward, D
    // 784-512-256-1 costs d = 128·532 736. Critic step: G forward, D on real and fake, and
    // per D pass its weight gradients (d) and the input gradients of its last two layers
    // (128·131 328; the data needs none). Generator step: G and D forward, D's input
    // gradients (d, its weights frozen), G's weight gradients (g) and the input gradients
    // of G's last three layers (128·1 458 176).
    let (g, d) = (128 * 1_483_776u64, 128 * 532_736u64);
    let critic = g + 2 * d + 2 * (d + 128 * 131_328);
    let generator = g + d + d + g + 128 * 1_458_176;
    assert_eq!(v["flop_per_iter"].as_u64(), Some(critic + generator), "{v}");
    let gflops = v["gflops"].as_f64().expect("gflops");
    let ms = v["ms_per_iter"].as_f64().expect("ms");
    assert!(
        (gflops - (critic + generator) as f64 / (ms * 1e6)).abs() < 0.1,
        "{v}"
    );
    assert!(v["sgemm_gflops"].as_f64().is_some_and(|r| r > 0.0), "{v}");
    // The FMA peak: a rate on a vector path, null on the scalar one.
    match v["simd"].as_str() {
        Some("scalar") => assert!(v["fma_gflops"].is_null(), "{v}"),
        _ => assert!(v["fma_gflops"].as_f64().is_some_and(|r| r > 0.0), "{v}"),
    }
}

/// dcgan-wgangp after dcgan-sn-hinge in one process, as `gantry bench` runs them: with the
/// allocator's secondary arenas, each of its steps gave a wholly freed 64 MiB heap back to
/// the OS and faulted it in again (16 600 faults per step, 15–25% of its time).
#[test]
fn bench_steps_reuse_their_memory_after_another_workload() {
    let dir = Scratch::new("bench-faults");
    let lines = bench_lines(&dir, "dcgan-sn-hinge,dcgan-wgangp", "2", "2");
    let names: Vec<_> = lines.iter().map(|v| v["workload"].clone()).collect();
    assert_eq!(names, ["dcgan-sn-hinge", "dcgan-wgangp"], "{lines:?}");
    for v in &lines {
        // A 4 MiB allowance: what a step's one-off growth could add, far below one heap.
        let faults = v["page_faults_per_iter"]
            .as_u64()
            .expect("page_faults_per_iter");
        assert!(faults < 1024, "{v}");
    }
}

#[test]
fn every_subcommand_has_help() {
    let dir = Scratch::new("help");
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["train", "--help"],
        vec!["sample", "--help"],
        vec!["bench", "--help"],
        vec!["help", "train"],
    ] {
        let out = gantry(&dir, &args);
        assert_ok(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("Usage:"), "{args:?}: {stdout}");
    }
    assert!(
        String::from_utf8_lossy(&gantry(&dir, &["train", "--help"]).stdout).contains("--resume")
    );
    assert_no_files(&dir.path("runs"));
}

/// Runs `train` on a bad config and checks the error and that no run folder appeared.
fn assert_train_fails(dir: &Scratch, config: &Path, needles: &[&str]) {
    let out = dir.path("out");
    let result = gantry(
        dir,
        &["train", "--config", s(config), "--out", s(&out), "--quiet"],
    );
    assert_one_line_error(&result, needles);
    assert_no_files(&out);
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = Scratch::new("no-config");
    assert_train_fails(
        &dir,
        &dir.path("absent.toml"),
        &["absent.toml", "No such file"],
    );
}

#[test]
fn corrupt_toml_is_one_line_naming_file_and_place() {
    let dir = Scratch::new("corrupt-toml");
    let config = dir.write("broken.toml", "steps = 4\nbatch_size = [16\n");
    assert_train_fails(
        &dir,
        &config,
        &["broken.toml", "end of the file", "expected `]`"],
    );
    let config = dir.write("broken2.toml", "steps = 4\nbatch_size = 16 16\n[data]\n");
    assert_train_fails(&dir, &config, &["broken2.toml", "line 2"]);
}

#[test]
fn zero_n_critic_is_rejected_naming_the_field() {
    let dir = Scratch::new("n-critic");
    let config = dir.write("zero.toml", TINY.replace("n_critic = 2", "n_critic = 0"));
    assert_train_fails(&dir, &config, &["zero.toml", "n_critic must be at least 1"]);
}

#[test]
fn an_unknown_objective_is_rejected_with_the_choices() {
    let dir = Scratch::new("objective");
    let config = dir.write(
        "typo.toml",
        TINY.replace("\"wasserstein\"", "\"wasserstien\""),
    );
    assert_train_fails(
        &dir,
        &config,
        &["typo.toml", "unknown objective 'wasserstien'", "hinge"],
    );
}

/// The tiny config on an IDX file at `path` (with a DCGAN-free MLP, so only loading matters).
fn idx_config(dir: &Scratch, path: &Path) -> PathBuf {
    let data = format!("[data]\nname = \"idx\"\npath = {:?}", s(path));
    dir.config_with_data("idx.toml", &data)
}

/// An IDX image header (magic, then n, h, w as big-endian u32) followed by `values` bytes.
fn idx_bytes(magic: u32, dims: [u32; 3], values: usize) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.resize(bytes.len() + values, 128);
    bytes
}

#[test]
fn a_missing_idx_file_is_named() {
    let dir = Scratch::new("idx-missing");
    let config = idx_config(&dir, &dir.path("train-images-idx3-ubyte"));
    assert_train_fails(&dir, &config, &["train-images-idx3-ubyte", "No such file"]);
}

#[test]
fn an_idx_file_with_a_wrong_magic_number_is_rejected() {
    let dir = Scratch::new("idx-magic");
    let labels = dir.write("labels-idx1-ubyte", idx_bytes(0x0000_0801, [2, 4, 4], 32));
    let config = idx_config(&dir, &labels);
    assert_train_fails(&dir, &config, &["labels-idx1-ubyte", "magic number"]);
}

#[test]
fn an_idx_file_shorter_than_its_header_says_is_rejected() {
    let dir = Scratch::new("idx-length");
    let short = dir.write("short-idx3-ubyte", idx_bytes(0x0000_0803, [2, 4, 4], 20));
    let config = idx_config(&dir, &short);
    assert_train_fails(&dir, &config, &["short-idx3-ubyte", "32", "20"]);
}

/// Runs `sample` on a bad checkpoint and checks the error and that no PNG appeared.
fn assert_sample_fails(dir: &Scratch, checkpoint: &Path, needles: &[&str]) {
    let png = dir.path("x.png");
    let result = gantry(
        dir,
        &["sample", "--checkpoint", s(checkpoint), "--out", s(&png)],
    );
    assert_one_line_error(&result, needles);
    assert!(!png.exists(), "a PNG was written");
    assert!(!dir.path("x.png.tmp").exists(), "a temporary file was left");
}

#[test]
fn sample_rejects_a_garbage_checkpoint() {
    let dir = Scratch::new("ck-garbage");
    let bytes: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let checkpoint = dir.write("garbage.safetensors", bytes);
    assert_sample_fails(&dir, &checkpoint, &["garbage.safetensors"]);
}

#[test]
fn sample_rejects_a_truncated_checkpoint() {
    let dir = Scratch::new("ck-truncated");
    let out = train(&dir, "run", &[]);
    let bytes = fs::read(out.join("checkpoint.safetensors")).unwrap();
    for (name, keep) in [
        ("head.safetensors", 6),
        ("half.safetensors", bytes.len() / 2),
    ] {
        let checkpoint = dir.write(name, &bytes[..keep]);
        assert_sample_fails(&dir, &checkpoint, &[name]);
    }
}

#[test]
fn sample_names_a_missing_checkpoint() {
    let dir = Scratch::new("ck-missing");
    assert_sample_fails(
        &dir,
        &dir.path("absent.safetensors"),
        &["absent.safetensors", "No such file"],
    );
}

#[test]
fn an_output_folder_inside_a_file_is_named() {
    let dir = Scratch::new("out-in-file");
    let config = dir.write("tiny.toml", TINY);
    let file = dir.write("a-file", "not a folder");
    let out = file.join("sub");
    let result = gantry(
        &dir,
        &["train", "--config", s(&config), "--out", s(&out), "--quiet"],
    );
    assert_one_line_error(&result, &["a-file/sub"]);
    assert_eq!(fs::read(&file).unwrap(), b"not a folder");
}

#[test]
fn an_unknown_bench_workload_lists_the_known_ones() {
    let dir = Scratch::new("bench-unknown");
    let out = gantry(
        &dir,
        &[
            "bench",
            "--workload",
            "nope",
            "--iters",
            "1",
            "--warmup",
            "0",
        ],
    );
    assert_one_line_error(&out, &["unknown workload 'nope'", "mlp-ns"]);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
