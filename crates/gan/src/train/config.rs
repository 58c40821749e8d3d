//! The training configuration: one TOML file per standard run (see `configs/`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::DataConfig;
use crate::losses::objective::Objective;
use crate::losses::penalty::Penalty;
use crate::train::models::ModelConfig;
pub use crate::train::optim::{OptimConfig, OptimizerKind, Schedule};

/// Everything that defines a run. Unknown fields are rejected, so a typo is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// A name for the run (used in logs).
    #[serde(default = "default_name")]
    pub name: String,
    /// Seed of the one random generator every draw comes from (weights, data, noise).
    #[serde(default)]
    pub seed: u64,
    /// Generator steps to train for.
    pub steps: usize,
    /// Samples per batch (real and generated).
    pub batch_size: usize,
    /// Critic steps per generator step.
    #[serde(default = "one")]
    pub n_critic: usize,
    /// The GAN objective.
    pub objective: Objective,
    /// The critic regularizer.
    #[serde(default = "no_penalty")]
    pub penalty: Penalty,
    /// The data.
    pub data: DataConfig,
    /// The networks.
    pub model: ModelConfig,
    /// The optimizers, their learning rates (separate for G and D: TTUR) and schedule.
    #[serde(default)]
    pub optim: OptimConfig,
    /// Decay of an exponential moving average of the generator's weights, used for
    /// evaluation and samples (e.g. 0.999); none if absent.
    #[serde(default)]
    pub ema: Option<f64>,
    /// The step from which the moving average averages; before it, it copies the
    /// generator (so early, poor weights do not linger in it). 0: from the start.
    #[serde(default)]
    pub ema_start: usize,
    /// Log a JSON line every this many steps.
    #[serde(default = "ten")]
    pub log_every: usize,
    /// Evaluate (metrics, pictures) every this many steps.
    #[serde(default = "five_hundred")]
    pub eval_every: usize,
    /// Write a checkpoint every this many steps (and at the end).
    #[serde(default = "five_hundred")]
    pub checkpoint_every: usize,
    /// Generated samples per evaluation.
    #[serde(default = "two_thousand")]
    pub eval_samples: usize,
}

fn default_name() -> String {
    "run".into()
}
fn one() -> usize {
    1
}
fn ten() -> usize {
    10
}
fn five_hundred() -> usize {
    500
}
fn two_thousand() -> usize {
    2000
}
fn no_penalty() -> Penalty {
    Penalty::None
}

impl TrainConfig {
    /// Parses TOML after applying `key=value` overrides (dotted keys, TOML values; a bare
    /// word is taken as a string), then validates.
    pub fn from_toml(text: &str, overrides: &[String]) -> Result<Self, String> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| syntax_error(text, &e))?;
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        let config: TrainConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| field_error(&e))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a config file; errors name the file.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_toml(&text, overrides).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The config as TOML (stored in checkpoints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a config always serializes")
    }

    /// Checks every value that would make training meaningless; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("steps", self.steps),
            ("batch_size", self.batch_size),
            ("n_critic", self.n_critic),
            ("log_every", self.log_every),
            ("eval_every", self.eval_every),
            ("checkpoint_every", self.checkpoint_every),
            ("eval_samples", self.eval_samples),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        self.optim.validate(self.steps)?;
        if let Some(e) = self.ema.filter(|e| !(0.0..1.0).contains(e)) {
            return Err(format!("ema must be in [0, 1), got {e}"));
        }
        self.penalty.validate()?;
        if let DataConfig::Toy(t) = &self.data {
            t.validate().map_err(|e| format!("data: {e}"))?;
        }
        Ok(())
    }
}

/// A TOML syntax error on one line, with the line it is on.
fn syntax_error(text: &str, e: &toml::de::Error) -> String {
    let message = one_line(e.message());
    match e.span() {
        // An unclosed array or string is reported at the end of the text, past its last line.
        Some(span) if span.start >= text.trim_end().len() => {
            format!("at the end of the file: {message}")
        }
        Some(span) => {
            let line = text[..span.start].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// `toml`'s messages can span lines ("invalid array\nexpected `]`"); errors are one line.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(": ")
}

/// A deserialization error on one line, led by the field it is about (`penalty.kind: unknown
/// variant …`). `toml` names the field only in its `Display` (a last line "in `penalty.kind`"),
/// not in `message()`.
fn field_error(e: &toml::de::Error) -> String {
    let message = one_line(e.message());
    let text = e.to_string();
    let field = text
        .trim_end()
        .rsplit_once("\nin `")
        .map(|(_, key)| key.trim_end_matches('`'));
    match field {
        Some(key) if !message.starts_with(key) => format!("{key}: {message}"),
        _ => message,
    }
}

/// The most names a `--set` key may chain: config tables nest two deep (`optim.g_lr`). The
/// bound matters: a key of tens of thousands of names built a table so deep that dropping it
/// overflowed the stack and aborted the process.
const MAX_KEY_PARTS: usize = 4;

/// Sets `a.b.c = value` in a TOML table.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), String> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("--set {assignment}: expected key=value"))?;
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.len() > MAX_KEY_PARTS || parts.iter().any(|p| p.is_empty()) {
        let mut shown: String = key.chars().take(40).collect();
        if shown.len() < key.len() {
            shown.push('…');
        }
        return Err(format!(
            "--set {shown}: expected a key of at most {MAX_KEY_PARTS} dot-separated names, \
             like optim.g_lr"
        ));
    }
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut node = table;
    for p in &parts[..parts.len() - 1] {
        node = node
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("--set {assignment}: '{p}' is not a table"))?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}
