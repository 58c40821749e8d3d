//! `gantry eval` end to end: the metrics of a checkpoint as one JSON line on stdout and,
//! with `--out`, the same line in a file written atomically; refusals are one line with
//! exit status 1 and leave an existing `--out` file as it was.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, assert_success, gantry, scratch, train};

/// A shipped config by name.
fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{name}.toml"))
}

/// Trains `config` for 2 steps into `dir` and returns its checkpoint.
fn two_steps(name: &str, dir: &Path) -> PathBuf {
    let out = train(&config(name), dir)
        .args(["--set", "steps=2"])
        .output()
        .unwrap();
    assert_success(&out);
    dir.join("checkpoint.safetensors")
}

/// `gantry eval --checkpoint <ck> --n 300 <extra…>`.
fn eval(ck: &Path, extra: &[&str]) -> std::process::Output {
    gantry()
        .args(["eval", "--n", "300", "--checkpoint"])
        .arg(ck)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn eval_prints_every_metric_and_writes_the_same_line_to_out() {
    let dir = scratch("eval-out");
    let ck = two_steps("digits-sngan-hinge", &dir);
    let file = dir.join("metrics.json");
    let out = eval(&ck, &["--out", file.to_str().unwrap()]);
    assert_success(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    // Keys are `<metric>_<feature net>`, and `…_floor` for real against real.
    let metric = |key: &str| {
        let key = match key.strip_suffix("_floor") {
            Some(name) => format!("{name}_digits-classifier_floor"),
            None => format!("{key}_digits-classifier"),
        };
        line[&key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {line}"))
    };
    assert_eq!(line["n"], 300);
    assert_eq!(line["n_generated"], 300);
    assert_eq!(line["n_real"], 1797);
    // Two steps from initialization: far from the data, where real against real (the
    // floor) is close.
    assert!(metric("fd") > 20.0 * metric("fd_floor"), "{line}");
    assert!(metric("kid") > 20.0 * metric("kid_floor"), "{line}");
    assert!(metric("precision_floor") > 0.8, "{line}");
    assert!(metric("recall") < metric("recall_floor"), "{line}");
    let histogram = line["class_histogram_digits-classifier"]
        .as_array()
        .unwrap();
    assert_eq!(histogram.len(), 10);
    let total: u64 = histogram.iter().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 300);

    // The same seed gives the same line; another seed other samples.
    let again = eval(&ck, &[]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), stdout);
    let other = eval(&ck, &["--seed", "1"]);
    let other: serde_json::Value =
        serde_json::from_str(String::from_utf8(other.stdout).unwrap().trim()).unwrap();
    assert_ne!(other["fd_digits-classifier"], line["fd_digits-classifier"]);
}

#[test]
fn a_refused_eval_leaves_the_out_file_as_it_was() {
    let dir = scratch("eval-refused");
    let ck = two_steps("digits-sngan-hinge", &dir);
    let file = dir.join("metrics.json");
    std::fs::write(&file, "earlier\n").unwrap();
    let out = eval(&ck, &["--ema", "--out", file.to_str().unwrap()]);
    assert_one_line_error(&out, &["--ema", "no moving-average generator"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier\n");

    // No samples, or more than memory holds: refused before anything is measured.
    let out = gantry()
        .args(["eval", "--n", "0", "--checkpoint"])
        .arg(&ck)
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--n must be at least 1"]);
    let out = gantry()
        .args(["eval", "--n", "100000000000", "--checkpoint"])
        .arg(&ck)
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--n", "would need at least"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier\n");

    let missing = dir.join("no-such-dir").join("metrics.json");
    let out = eval(&ck, &["--out", missing.to_str().unwrap()]);
    assert_one_line_error(&out, &["no-such-dir"]);
    assert!(!missing.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn eval_of_a_toy_run_is_refused_in_one_line() {
    let dir = scratch("eval-toy");
    let ck = two_steps("ring8-wgangp", &dir);
    let out = eval(&ck, &["--out", dir.join("m.json").to_str().unwrap()]);
    assert_one_line_error(&out, &["toy data", "gantry eval measures image models"]);
    assert!(!dir.join("m.json").exists());
}

#[test]
fn training_on_images_logs_the_feature_metrics_at_each_evaluation() {
    let dir = scratch("eval-during-training");
    let out = train(&config("digits-sngan-hinge"), &dir)
        .args([
            "--set",
            "steps=4",
            "--set",
            "eval_every=2",
            "--set",
            "eval_samples=200",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let evaluations: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v.get("eval").cloned())
        .collect();
    assert_eq!(evaluations.len(), 2);
    for e in &evaluations {
        let features = &e["features"];
        assert_eq!(features["feature_net"], "digits-classifier", "{e}");
        assert_eq!(features["n_generated"], 200, "{e}");
        let fd = features["fd_digits-classifier"].as_f64().unwrap();
        let floor = features["fd_digits-classifier_floor"].as_f64().unwrap();
        assert!(
            fd > 10.0 * floor,
            "a barely trained generator: {fd} vs floor {floor}"
        );
    }
    // The same network as `gantry eval` uses: trained once, cached in the run folder.
    let cached = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("digits-classifier-")
        })
        .count();
    assert_eq!(cached, 1);
}
