//! `gantry reproduce`: runs the standard configs, writes one record per (config, seed) to
//! `results/`, and regenerates the README's results tables and the config headers'
//! "Measured" blocks from every record there (see [`crate::results`]).
//!
//! Toy configs run with seeds 0, 1, 2 and image configs with seed 0 unless `--seeds` says
//! otherwise. `--quick` runs [`QUICK`]: three configs shortened to what the default test
//! suite asserts (`crates/gan/tests/learning.rs`) and two image configs after one step (the
//! untrained contrast), in a few minutes on 2 cores.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gantry::gan::data::DataConfig;
use gantry::gan::train::memory::Budget;
use gantry::gan::train::{CHECKPOINT_FILE, LOG_FILE};
use gantry::gan::TrainConfig;
use gantry::tensor::simd;
use serde_json::Value;

use crate::configs::STANDARD;
use crate::results::{self, Record};

/// The quick set: each config with the overrides that shorten it. The 1-step runs are the
/// untrained contrast for the image metrics (digits, Fashion-MNIST).
pub const QUICK: &[(&str, &[&str])] = &[
    ("demo", &["steps=500"]),
    ("fgan-kl", &["steps=1500"]),
    ("digits-sngan-hinge", &["steps=300"]),
    ("digits-dcgan-ns", &["steps=1"]),
    ("fashion-sngan-hinge", &["steps=1"]),
];

/// Generated images the feature metrics of an image run are measured on.
const FEATURE_SAMPLES: usize = 2000;

/// What `gantry reproduce` was asked to do: its command-line options.
#[derive(clap::Args)]
pub struct Options {
    /// Comma-separated config names or patterns (`fgan-*`).
    #[arg(long, default_value = "*")]
    pub configs: String,
    /// Comma-separated seeds (default: 0,1,2 for toy configs, 0 for image configs).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// The quick set: demo, fgan-kl and digits-sngan-hinge shortened, and two image configs
    /// after one step (a few minutes).
    #[arg(long)]
    pub quick: bool,
    /// Overrides every config's steps (for trying the command out).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Where the records are written and read.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// The README to regenerate.
    #[arg(long, default_value = "README.md")]
    pub readme: PathBuf,
    /// The folder of the config files whose headers are regenerated.
    #[arg(long, default_value = "configs")]
    pub configs_dir: PathBuf,
    /// Where the runs train.
    #[arg(long, default_value = "runs/reproduce")]
    pub runs: PathBuf,
    /// Only regenerate the README and headers from the existing records.
    #[arg(long)]
    pub render_only: bool,
    /// With --render-only: change nothing; fail if a file differs from what the records give.
    #[arg(long)]
    pub check: bool,
}

/// Runs what `options` asks for, then regenerates (or checks) the README and headers.
pub fn reproduce(options: &Options, budget: &Budget) -> Result<(), String> {
    if options.check && !options.render_only {
        return Err("--check compares files with the records: use it with --render-only".into());
    }
    if !options.render_only {
        let selected = select(&options.configs, options.quick)?;
        for (name, overrides) in &selected {
            let config = crate::configs::load(Path::new(name), &[])?;
            if let Some(reason) = no_data(&config) {
                println!("{name}: skipped, {reason}");
                continue;
            }
            for seed in seeds_of(&config, options) {
                let record = run(name, overrides, seed, options, budget)?;
                let path = results::write(&options.results, &record)?;
                println!(
                    "{name} seed {seed}: {} ({})",
                    results::outcome(&[record]),
                    path.display()
                );
            }
        }
    }
    render(options)
}

/// The standard configs matching `patterns` (of the quick set with `quick`), each with
/// its overrides; an error if a pattern matches none.
fn select(patterns: &str, quick: bool) -> Result<Vec<(String, Vec<String>)>, String> {
    let pool: Vec<(&str, &[&str])> = if quick {
        QUICK.to_vec()
    } else {
        STANDARD.iter().map(|(name, _)| (*name, &[][..])).collect()
    };
    let mut selected = Vec::new();
    for pattern in patterns.split(',').map(str::trim) {
        let matching: Vec<_> = pool.iter().filter(|(n, _)| matches(pattern, n)).collect();
        if matching.is_empty() {
            let set = if quick {
                "quick set"
            } else {
                "standard configs"
            };
            return Err(format!(
                "--configs: '{pattern}' matches none of the {set} (`gantry configs` lists them)"
            ));
        }
        for (name, overrides) in matching {
            if !selected.iter().any(|(n, _): &(String, _)| n == name) {
                let overrides = overrides.iter().map(|o| o.to_string()).collect();
                selected.push((name.to_string(), overrides));
            }
        }
    }
    Ok(selected)
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && matches(rest, &tail[i..]))
        }
    }
}

/// Why a standard config cannot run here, if it cannot: a folder config whose image folder (a
/// user's, relative to the current directory) does not exist.
fn no_data(config: &TrainConfig) -> Option<String> {
    match &config.data {
        DataConfig::Folder { path, .. } if !path.is_dir() => Some(format!(
            "its image folder {} does not exist (your own images: see its header)",
            path.display()
        )),
        _ => None,
    }
}

/// The seeds to run a standard config with: `--seeds`, else 0, 1, 2 for toy data and 0 for images
/// (quick: 0).
fn seeds_of(config: &TrainConfig, options: &Options) -> Vec<u64> {
    if let Some(seeds) = &options.seeds {
        return seeds.clone();
    }
    let toy = matches!(config.data, DataConfig::Toy(_));
    if toy && !options.quick {
        vec![0, 1, 2]
    } else {
        vec![0]
    }
}

/// Trains `name` with `seed` into a fresh folder and measures it.
fn run(
    name: &str,
    overrides: &[String],
    seed: u64,
    options: &Options,
    budget: &Budget,
) -> Result<Record, String> {
    let mut overrides = overrides.to_vec();
    overrides.push(format!("seed={seed}"));
    if let Some(steps) = options.steps {
        overrides.push(format!("steps={steps}"));
    }
    let config = crate::configs::load(Path::new(name), &overrides)?;
    let out = options
        .runs
        .join(results::kind(options.quick))
        .join(format!("{name}-seed{seed}"));
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let (steps, ema) = (config.steps, config.ema.is_some());
    let images = !matches!(config.data, DataConfig::Toy(_));
    let started = Instant::now();
    let last = crate::run::train_with(config, &out, (false, false), &[], true, budget)?;
    let wall_s = started.elapsed().as_secs_f64();
    let features = match images {
        true => Some(Value::Object(crate::eval::measure(
            &out.join(CHECKPOINT_FILE),
            (FEATURE_SAMPLES, seed),
            ema,
            &options.runs,
            budget,
        )?)),
        false => None,
    };
    Ok(Record {
        config: name.to_string(),
        seed,
        quick: options.quick,
        steps,
        command: command(name, options),
        wall_s,
        threads: rayon::current_num_threads(),
        cpu: cpu_model(),
        simd: simd::path().name().to_string(),
        commit: commit(),
        last: serde_json::to_value(&last).expect("an evaluation serializes"),
        best: results::best_of(&evaluations(&out.join(LOG_FILE))),
        features,
    })
}

/// The command that reproduces `name`'s records as `options` ran them.
fn command(name: &str, options: &Options) -> String {
    let mut c = format!("gantry reproduce --configs {name}");
    if let Some(seeds) = &options.seeds {
        let s: Vec<String> = seeds.iter().map(u64::to_string).collect();
        c += &format!(" --seeds {}", s.join(","));
    }
    if options.quick {
        c += " --quick";
    }
    if let Some(steps) = options.steps {
        c += &format!(" --steps {steps}");
    }
    c
}

/// The evaluation lines of a run's log.
fn evaluations(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("eval").cloned())
        .collect()
}

/// The CPU's model name from `/proc/cpuinfo` (`unknown CPU` elsewhere).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `git describe --always --dirty` in the current directory, or `unknown`.
fn commit() -> String {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Regenerates the README's tables and every config header from the records, or with
/// `check` compares them and fails naming the files that differ.
fn render(options: &Options) -> Result<(), String> {
    let mut outputs: Vec<(PathBuf, String, String)> = Vec::new();
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let readme = read(&options.readme)?;
    let rendered = results::render_readme(&readme, &options.results)
        .map_err(|e| format!("{}: {e}", options.readme.display()))?;
    outputs.push((options.readme.clone(), readme, rendered));
    let full = results::load(&options.results, false)?;
    for (name, _) in STANDARD {
        let path = options.configs_dir.join(format!("{name}.toml"));
        let text = read(&path)?;
        let rendered = results::render_header(&text, name, full.get(*name).map(Vec::as_slice))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        outputs.push((path, text, rendered));
    }
    let changed: Vec<&(PathBuf, String, String)> =
        outputs.iter().filter(|(_, old, new)| old != new).collect();
    if options.check {
        if let Some((first, _, _)) = changed.first() {
            return Err(format!(
                "{} (and {} more) differ from what {} gives: run `gantry reproduce --render-only`",
                first.display(),
                changed.len() - 1,
                options.results.display()
            ));
        }
        println!(
            "README and config headers agree with {}",
            options.results.display()
        );
        return Ok(());
    }
    for (path, _, new) in &changed {
        gantry::nn::checkpoint::write_atomic(path, new.as_bytes()).map_err(|e| e.to_string())?;
        println!("regenerated {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names() {
        assert!(matches("fgan-*", "fgan-kl"));
        assert!(matches("*", "demo"));
        assert!(matches("ring8-*-hinge", "ring8-sn-hinge"));
        assert!(matches("demo", "demo"));
        assert!(!matches("demo", "demo2"));
        assert!(!matches("fgan-*", "ring8-wgangp"));
        assert!(!matches("*-gan", "fgan-kl"));
    }

    #[test]
    fn selection_keeps_order_and_refuses_unknown_patterns() {
        let names: Vec<String> = select("fgan-kl,fgan-*", false)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names[0], "fgan-kl");
        assert_eq!(names.len(), 8);
        assert!(select("nothing*", false)
            .unwrap_err()
            .contains("'nothing*'"));
        let quick = select("*", true).unwrap();
        assert_eq!(
            quick[0],
            ("demo".to_string(), vec!["steps=500".to_string()])
        );
        assert!(select("ring8-wgangp", true).is_err());
    }
}
