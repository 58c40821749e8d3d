//! The records `gantry reproduce` writes to `results/`, and what is generated from them:
//! the README's results tables and each config header's "Measured" block.
//!
//! A record holds one run of one config with one seed: its last evaluation, the best
//! value of its main metric over the run's evaluations, the feature-network metrics of
//! image runs, and where it ran. A table row or header block summarizes the records of a
//! config as `mean ± s` over the seeds, `s` the sample standard deviation
//! `√(Σ(xᵢ − x̄)²/(n − 1))` (one seed: the value alone).
//!
//! Generated text sits between markers (`<!-- reproduce:full -->` … `<!-- /reproduce:full -->`
//! in README.md, `# <measured>` … `# </measured>` in a config), so rendering replaces it and
//! nothing else; nothing between them is typed by hand. Only the times per run change from
//! one reproduction to the next on the same machine: the metrics are the same bits for the
//! same seed and SIMD path (`tests/reliability_determinism.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry::nn::checkpoint::write_atomic;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::configs::{MEASURED_BEGIN, MEASURED_END};

/// One run of one config with one seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// The standard config's name.
    pub config: String,
    /// The run's seed.
    pub seed: u64,
    /// The shortened run of `gantry reproduce --quick`.
    pub quick: bool,
    /// Generator steps trained.
    pub steps: usize,
    /// The command that reproduces this record.
    pub command: String,
    /// Wall-clock seconds of training (evaluations included, feature metrics not).
    pub wall_s: f64,
    /// Worker threads.
    pub threads: usize,
    /// The CPU's model name.
    pub cpu: String,
    /// The kernels' SIMD path (`avx512`, `avx2`, `neon`, `scalar`).
    pub simd: String,
    /// `git describe --always --dirty` of the source, when run from a checkout.
    pub commit: String,
    /// The last evaluation, as in the run's log (`mixture`, `wasserstein1`, `images`).
    pub last: Value,
    /// The best value of the main metric over the run's evaluations, and its step.
    pub best: Option<Best>,
    /// The feature-network metrics of the last generator (image data), as `gantry eval`.
    pub features: Option<Value>,
}

/// The best value of a run's main metric and the step it was reached at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// The metric (`wasserstein1`, `digits_fd`).
    pub metric: String,
    /// Its best (lowest) value.
    pub value: f64,
    /// The step of that evaluation.
    pub step: usize,
}

/// The best (lowest) main metric among a log's evaluation lines: `wasserstein1` for toy
/// data, the digits FD for digits, else the feature network's FD (`fd_<network>`).
pub fn best_of(evaluations: &[Value]) -> Option<Best> {
    let candidates = evaluations.iter().filter_map(|e| {
        let step = e["step"].as_u64()? as usize;
        let feature_fd = || {
            let net = e["features"]["feature_net"].as_str()?;
            let key = format!("fd_{net}");
            Some((key.clone(), e["features"][&key].as_f64()?))
        };
        let (metric, value) = match (
            e["wasserstein1"].as_f64(),
            e["images"]["digits_fd"].as_f64(),
        ) {
            (Some(w1), _) => ("wasserstein1".to_string(), w1),
            (None, Some(fd)) => ("digits_fd".to_string(), fd),
            (None, None) => feature_fd()?,
        };
        Some(Best {
            metric,
            value,
            step,
        })
    });
    candidates.min_by(|a, b| a.value.total_cmp(&b.value))
}

/// The folder of `quick` or full records and runs: `quick` or `full`.
pub fn kind(quick: bool) -> &'static str {
    if quick {
        "quick"
    } else {
        "full"
    }
}

/// The file of a record in `results`: `quick/` or `full/`, then `<config>-seed<k>.json`.
pub fn record_path(results: &Path, quick: bool, config: &str, seed: u64) -> PathBuf {
    results
        .join(kind(quick))
        .join(format!("{config}-seed{seed}.json"))
}

/// Writes `record` to its file under `results` atomically, creating the folder.
pub fn write(results: &Path, record: &Record) -> Result<PathBuf, String> {
    let path = record_path(results, record.quick, &record.config, record.seed);
    let dir = path.parent().expect("a record path has a folder");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = serde_json::to_string_pretty(record).expect("a record serializes") + "\n";
    write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Every record under `results/quick` or `results/full`, grouped by config (in name order,
/// seeds in order). A missing folder has none; a file that does not parse is an error.
pub fn load(results: &Path, quick: bool) -> Result<BTreeMap<String, Vec<Record>>, String> {
    let dir = results.join(kind(quick));
    let mut by_config: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(by_config);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let record: Record =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        by_config
            .entry(record.config.clone())
            .or_default()
            .push(record);
    }
    for records in by_config.values_mut() {
        records.sort_by_key(|r| r.seed);
    }
    Ok(by_config)
}

/// `x̄ ± s` of `values` with `digits` decimals; the value alone for one.
pub fn mean_std(values: &[f64], digits: usize) -> String {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return format!("{mean:.digits$}");
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    format!("{mean:.digits$} ± {:.digits$}", var.sqrt())
}

/// `field` of every record, if all have it.
fn values(records: &[Record], field: impl Fn(&Record) -> Option<f64>) -> Option<Vec<f64>> {
    records.iter().map(field).collect()
}

/// The outcome of a config's records in words: mode coverage and W1 for toy data, the
/// digits FD and classes for digits, the feature metrics (against their real-vs-real
/// floor) for image data.
pub fn outcome(records: &[Record]) -> String {
    let mut parts = Vec::new();
    let last = |pointer: &'static str| move |r: &Record| r.last.pointer(pointer)?.as_f64();
    if let Some(modes) = values(records, last("/mixture/modes_covered")) {
        let n = records[0].last["mixture"]["n_modes"].as_u64().unwrap_or(0);
        parts.push(format!("{} of {n} modes", mean_std(&modes, 1)));
    }
    if let Some(hq) = values(records, last("/mixture/high_quality_share")) {
        let percent: Vec<f64> = hq.iter().map(|v| 100.0 * v).collect();
        parts.push(format!("{} % high-quality", mean_std(&percent, 1)));
    }
    if let Some(w1) = values(records, last("/wasserstein1")) {
        parts.push(format!("W1 {}", mean_std(&w1, 3)));
    }
    if let Some(fd) = values(records, last("/images/digits_fd")) {
        parts.push(format!("digits FD {}", mean_std(&fd, 1)));
    }
    if let Some(classes) = values(records, last("/images/classes_covered")) {
        parts.push(format!("{} of 10 classes", mean_std(&classes, 1)));
    }
    if let Some(features) = feature_outcome(records) {
        parts.push(features);
    }
    parts.join(", ")
}

/// FD (with its floor), precision, recall and, for conditional models, class accuracy,
/// on the features of the records' feature network.
fn feature_outcome(records: &[Record]) -> Option<String> {
    let net = records[0].features.as_ref()?["feature_net"]
        .as_str()?
        .to_string();
    let metric = |name: &str| {
        let key = format!("{name}_{net}");
        values(records, |r| r.features.as_ref()?[&key].as_f64())
    };
    let floor_key = format!("fd_{net}_floor");
    let floor = values(records, |r| r.features.as_ref()?[&floor_key].as_f64())?;
    let mut parts = vec![format!(
        "FD {} (floor {})",
        mean_std(&metric("fd")?, 2),
        mean_std(&floor, 2)
    )];
    for name in ["precision", "recall"] {
        if let Some(v) = metric(name) {
            parts.push(format!("{name} {}", mean_std(&v, 2)));
        }
    }
    if let Some(acc) = metric("class_accuracy") {
        let percent: Vec<f64> = acc.iter().map(|v| 100.0 * v).collect();
        parts.push(format!("class accuracy {} %", mean_std(&percent, 1)));
    }
    Some(format!("{} on {net} features", parts.join(", ")))
}

/// The best value of the main metric, as `mean ± s` over the records with its steps.
fn best(records: &[Record]) -> String {
    let Some(bests) = records
        .iter()
        .map(|r| r.best.clone())
        .collect::<Option<Vec<Best>>>()
    else {
        return "—".into();
    };
    let (label, digits) = match bests[0].metric.as_str() {
        "wasserstein1" => ("W1", 3),
        "digits_fd" => ("digits FD", 1),
        _ => ("FD", 2),
    };
    let v: Vec<f64> = bests.iter().map(|b| b.value).collect();
    let steps: Vec<String> = bests.iter().map(|b| b.step.to_string()).collect();
    format!(
        "{label} {} (step {})",
        mean_std(&v, digits),
        steps.join(", ")
    )
}

/// Seconds per run, to two significant figures (times vary from run to run).
fn seconds(records: &[Record]) -> String {
    let mean = records.iter().map(|r| r.wall_s).sum::<f64>() / records.len() as f64;
    format!("{} s", two_significant(mean))
}

/// `x` to two significant figures, without trailing float noise (`7.1`, `750`).
fn two_significant(x: f64) -> String {
    let exponent = x.abs().max(1e-9).log10().floor() as i32;
    let decimals = (1 - exponent).max(0) as usize;
    let magnitude = 10f64.powi(exponent - 1);
    format!("{:.decimals$}", (x / magnitude).round() * magnitude)
}

/// The seeds of a config's records, as `0, 1, 2`.
fn seeds(records: &[Record]) -> String {
    let s: Vec<String> = records.iter().map(|r| r.seed.to_string()).collect();
    s.join(", ")
}

/// Where the records ran, as `AMD EPYC, avx512, 2 threads` (each distinct one).
fn machines(records: &[Record]) -> String {
    let mut m: Vec<String> = records
        .iter()
        .map(|r| format!("{}, {}, {} threads", r.cpu, r.simd, r.threads))
        .collect();
    m.sort();
    m.dedup();
    m.join("; ")
}

/// The README table of a set of records: one row per config with its command.
pub fn table(by_config: &BTreeMap<String, Vec<Record>>, with_times: bool) -> String {
    let mut out =
        String::from("| config | seeds | steps | last evaluation | best during the run |");
    out += if with_times {
        " time per run | command |\n|---|---|---|---|---|---|---|\n"
    } else {
        " command |\n|---|---|---|---|---|---|\n"
    };
    for (name, records) in by_config {
        let time = if with_times {
            format!(" {} |", seconds(records))
        } else {
            String::new()
        };
        out += &format!(
            "| `{name}` | {} | {} | {} | {} |{time} `{}` |\n",
            seeds(records),
            records[0].steps,
            outcome(records),
            best(records),
            records[0].command
        );
    }
    let all: Vec<Record> = by_config.values().flatten().cloned().collect();
    if !all.is_empty() {
        out += &format!("\nMachine: {}.\n", machines(&all));
    }
    out
}

/// What a config header promises: its line `# Expected: <metric> <op> <value> (…)`, with
/// `<op>` `>=` or `<=` and `<metric>` a key of the last evaluation (`modes_covered`,
/// `high_quality_share`, `wasserstein1`, `classes_covered`, `digits_fd`) or a feature
/// metric (`fd`, `class_accuracy`, `precision`, `recall`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The metric.
    pub metric: String,
    /// `>=` (at least) or `<=` (at most).
    pub at_least: bool,
    /// The bound.
    pub bound: f64,
}

/// The expectation stated in a config's header, if any.
pub fn expectation(config_text: &str) -> Option<Expectation> {
    let line = config_text
        .lines()
        .map_while(|l| l.strip_prefix('#'))
        .find_map(|l| l.trim().strip_prefix("Expected:"))?;
    let mut words = line.split_whitespace();
    let (metric, op, bound) = (words.next()?, words.next()?, words.next()?);
    let at_least = match op {
        ">=" => true,
        "<=" => false,
        _ => return None,
    };
    Some(Expectation {
        metric: metric.to_string(),
        at_least,
        bound: bound.trim_end_matches(['.', ',']).parse().ok()?,
    })
}

/// `metric` of a record: from its last evaluation, else from its feature metrics.
fn metric_of(record: &Record, metric: &str) -> Option<f64> {
    let last = &record.last;
    [
        &last["mixture"][metric],
        &last[metric],
        &last["images"][metric],
    ]
    .into_iter()
    .find_map(Value::as_f64)
    .or_else(|| {
        let features = record.features.as_ref()?;
        let net = features["feature_net"].as_str()?;
        features[&format!("{metric}_{net}")].as_f64()
    })
}

/// Whether every record meets `e`, in one sentence naming the seeds that do not.
pub fn verdict(records: &[Record], e: &Expectation) -> String {
    let op = if e.at_least { ">=" } else { "<=" };
    let stated = format!("{} {op} {}", e.metric, e.bound);
    let misses: Vec<String> = records
        .iter()
        .filter_map(|r| match metric_of(r, &e.metric) {
            Some(v) if (e.at_least && v >= e.bound) || (!e.at_least && v <= e.bound) => None,
            Some(v) => Some(format!("seed {} gives {v}", r.seed)),
            None => Some(format!("seed {} has no {}", r.seed, e.metric)),
        })
        .collect();
    if misses.is_empty() {
        format!("Meets the expectation ({stated}) with every seed.")
    } else {
        format!(
            "FALLS SHORT of the expectation ({stated}): {}.",
            misses.join(", ")
        )
    }
}

/// A config header's generated block (without the markers), from its full records and the
/// header's expectation.
pub fn header_block(records: &[Record], expected: Option<&Expectation>) -> String {
    let mut lines = vec![
        format!(
            "Measured by `{}` (seeds {}; {}):",
            records[0].command,
            seeds(records),
            machines(records)
        ),
        format!("at step {}: {}.", records[0].steps, outcome(records)),
        format!(
            "Best during the run: {}; {} per run.",
            best(records),
            seconds(records)
        ),
    ];
    if let Some(e) = expected {
        lines.push(verdict(records, e));
    }
    lines.iter().map(|l| format!("# {l}\n")).collect()
}

/// `text` with what lies between the lines `begin` and `end` replaced by `body`; an error
/// if the markers are missing or out of order.
pub fn splice(text: &str, begin: &str, end: &str, body: &str) -> Result<String, String> {
    let start = text
        .find(begin)
        .ok_or_else(|| format!("no `{begin}` marker"))?;
    let inner = start + begin.len();
    let stop = inner
        + text[inner..]
            .find(end)
            .ok_or_else(|| format!("no `{end}` marker after `{begin}`"))?;
    Ok(format!("{}\n{body}{}", &text[..inner], &text[stop..]))
}

/// The README's markers around the table of `quick` or full records.
pub fn readme_markers(quick: bool) -> (&'static str, &'static str) {
    if quick {
        ("<!-- reproduce:quick -->", "<!-- /reproduce:quick -->")
    } else {
        ("<!-- reproduce:full -->", "<!-- /reproduce:full -->")
    }
}

/// The README with both tables regenerated from `results`.
pub fn render_readme(readme: &str, results: &Path) -> Result<String, String> {
    let mut text = readme.to_string();
    for quick in [true, false] {
        let (begin, end) = readme_markers(quick);
        let by_config = load(results, quick)?;
        let body = if by_config.is_empty() {
            format!(
                "No records yet: run `gantry reproduce{}`.\n",
                if quick { " --quick" } else { "" }
            )
        } else {
            table(&by_config, !quick)
        };
        text = splice(&text, begin, end, &body)?;
    }
    Ok(text)
}

/// A config file with its header block regenerated from `records` (none: the block says
/// how to measure it).
pub fn render_header(
    config_text: &str,
    name: &str,
    records: Option<&[Record]>,
) -> Result<String, String> {
    let body = match records {
        Some(records) => header_block(records, expectation(config_text).as_ref()),
        None => format!("# Not measured yet (`gantry reproduce --configs {name}`).\n"),
    };
    splice(config_text, MEASURED_BEGIN, MEASURED_END, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_standard_deviation() {
        // Mean 2, squared deviations 1 + 0 + 1 over n − 1 = 2: s = 1.
        assert_eq!(mean_std(&[1.0, 2.0, 3.0], 2), "2.00 ± 1.00");
        assert_eq!(mean_std(&[0.125], 3), "0.125");
        // Mean 5, deviations ±3: s = √(18/1) = 4.243.
        assert_eq!(mean_std(&[2.0, 8.0], 3), "5.000 ± 4.243");
    }

    #[test]
    fn times_keep_two_significant_figures() {
        assert_eq!(two_significant(7.1234), "7.1");
        assert_eq!(two_significant(0.0456), "0.046");
        assert_eq!(two_significant(747.2), "750");
        assert_eq!(two_significant(12.49), "12");
    }

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let text = "a\n<!-- x -->\nold\nlines\n<!-- /x -->\nb\n";
        assert_eq!(
            splice(text, "<!-- x -->", "<!-- /x -->", "new\n").unwrap(),
            "a\n<!-- x -->\nnew\n<!-- /x -->\nb\n"
        );
        assert!(splice("a\n", "<!-- x -->", "<!-- /x -->", "")
            .unwrap_err()
            .contains("no `<!-- x -->` marker"));
        assert!(splice("<!-- /x --> <!-- x -->", "<!-- x -->", "<!-- /x -->", "").is_err());
    }

    fn record(seed: u64, modes: u64) -> Record {
        Record {
            config: "c".into(),
            seed,
            quick: false,
            steps: 10,
            command: "gantry reproduce --configs c".into(),
            wall_s: 1.0,
            threads: 2,
            cpu: "cpu".into(),
            simd: "scalar".into(),
            commit: "abc".into(),
            last: serde_json::json!({"mixture": {"modes_covered": modes, "n_modes": 8}}),
            best: None,
            features: Some(serde_json::json!({"feature_net": "n", "class_accuracy_n": 0.9})),
        }
    }

    #[test]
    fn expectations_are_read_from_the_header_and_checked_per_seed() {
        let text = "# A config.\n# Expected: modes_covered >= 8 (all of them).\nname = 1\n";
        let e = expectation(text).unwrap();
        assert_eq!(
            (e.metric.as_str(), e.at_least, e.bound),
            ("modes_covered", true, 8.0)
        );
        let records = [record(0, 8), record(1, 7)];
        assert_eq!(
            verdict(&records, &e),
            "FALLS SHORT of the expectation (modes_covered >= 8): seed 1 gives 7."
        );
        assert!(verdict(&records[..1], &e).starts_with("Meets"));
        let at_most = expectation("# Expected: modes_covered <= 7.\n").unwrap();
        assert!(verdict(&records[1..], &at_most).starts_with("Meets"));
        let features = expectation("# Expected: class_accuracy >= 0.8\n").unwrap();
        assert!(verdict(&records, &features).starts_with("Meets"));
        assert_eq!(expectation("# Expected: all of them.\n"), None);
        assert_eq!(
            expectation("name = 1\n# Expected: x >= 1\n"),
            None,
            "header only"
        );
    }

    #[test]
    fn the_best_is_the_lowest_main_metric() {
        let evals: Vec<Value> = serde_json::from_str(
            r#"[{"step": 500, "wasserstein1": 0.3},
                {"step": 1000, "wasserstein1": 0.1},
                {"step": 1500, "wasserstein1": 0.2}]"#,
        )
        .unwrap();
        let best = best_of(&evals).unwrap();
        assert_eq!(
            (best.metric.as_str(), best.value, best.step),
            ("wasserstein1", 0.1, 1000)
        );
        let digits: Vec<Value> = serde_json::from_str(
            r#"[{"step": 2, "wasserstein1": null, "images": {"digits_fd": 40.0}},
                {"step": 4, "wasserstein1": null, "images": {"digits_fd": 30.0}}]"#,
        )
        .unwrap();
        assert_eq!(best_of(&digits).unwrap().step, 4);
        let images: Vec<Value> = serde_json::from_str(
            r#"[{"step": 5, "features": {"feature_net": "n", "fd_n": 9.0}},
                {"step": 10, "features": {"feature_net": "n", "fd_n": 7.0}},
                {"step": 15, "features": {"feature_net": "n", "fd_n": 8.0}}]"#,
        )
        .unwrap();
        let best = best_of(&images).unwrap();
        assert_eq!(
            (best.metric.as_str(), best.value, best.step),
            ("fd_n", 7.0, 10)
        );
    }
}
