//! Memory a run will need, checked before anything is allocated.
//!
//! A size from a user (a batch of 10¹², networks a million units wide) would otherwise reach
//! an allocation that the allocator cannot serve, and Rust aborts the process with a
//! backtrace. Here the bytes a request needs are computed first, in checked arithmetic (a
//! count that overflows 64 bits is refused too), and compared with a [`Budget`]: the memory
//! the system has available, or a limit the user set.
//!
//! Every estimate is a **lower bound**: it counts only tensors that certainly exist at the
//! same moment (4-byte `f32` values), never caches, allocator slack or plots. So a refusal
//! means the request cannot fit, while a request that passes may still need more than the
//! estimate. For a network with layer widths `w₀ → w₁ → … → w_k`:
//!
//! - parameters `P = Σᵢ (wᵢ·wᵢ₊₁ + wᵢ₊₁)` (weights and biases), held four times during
//!   training: the weights, their gradients and Adam's two moments;
//! - a training step of batch `B` records every layer output for the backward pass:
//!   `B·Σᵢ₌₁ wᵢ` values for the generator, twice that for the critic (real and generated
//!   batch), plus the batch itself and its noise;
//! - sampling `n` points runs the generator without recording: the noise and the widest
//!   layer output exist together, `n·(w₀ + maxᵢ wᵢ)` values.

use crate::train::config::TrainConfig;
use crate::train::models::ModelConfig;
use crate::train::trainer::SAMPLE_CHUNK;

/// Bytes of one value (`f32`).
const VALUE_BYTES: u64 = 4;

/// Copies of every parameter during training: weights, gradients, Adam's first and second
/// moments.
const TRAINING_COPIES: u64 = 4;

/// How much memory a process may use, and where that figure comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The bytes available.
    pub bytes: u64,
    /// Where `bytes` comes from, as shown in messages (`MemAvailable in /proc/meminfo`).
    pub source: String,
}

impl Budget {
    /// A limit the user set (`--max-memory`, `GANTRY_MAX_MEMORY`), named by `source`.
    pub fn limit(bytes: u64, source: &str) -> Budget {
        Budget {
            bytes,
            source: source.to_string(),
        }
    }

    /// The memory the kernel says can be allocated without swapping (`MemAvailable` in
    /// `/proc/meminfo`); `None` where there is no such file (not Linux).
    pub fn available() -> Option<Budget> {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kib: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()?;
        Some(Budget {
            bytes: kib.saturating_mul(1024),
            source: "MemAvailable in /proc/meminfo".into(),
        })
    }

    /// Refuses `needed` bytes (`None`: the count overflowed) if they exceed the budget; the
    /// message names `what` asked for them.
    pub fn check(&self, what: &str, needed: Option<u64>) -> Result<(), String> {
        match needed {
            Some(bytes) if bytes <= self.bytes => Ok(()),
            Some(bytes) => Err(format!(
                "{what} would need at least {} ({bytes} bytes), more than the {} ({} bytes) available ({})",
                human(bytes),
                human(self.bytes),
                self.bytes,
                self.source
            )),
            None => Err(format!(
                "{what} would need more than 2^64 bytes (the size overflows), more than the {} available ({})",
                human(self.bytes),
                self.source
            )),
        }
    }

    /// Checks every size in a training config: the networks, one training step and one
    /// evaluation, each together with the networks' parameters it runs beside. The error
    /// names the option to change.
    pub fn check_run(&self, config: &TrainConfig, sample_shape: &[usize]) -> Result<(), String> {
        let shapes = NetworkShapes::of(&config.model, sample_shape);
        let networks = shapes.training_state();
        self.check(&network_options(&config.model), networks)?;
        let step = shapes.step(config.batch_size, sample_shape);
        self.check(
            &format!("batch_size = {}", config.batch_size),
            add(networks, step),
        )?;
        let eval = sampling_bytes(
            &config.model,
            sample_shape,
            config.eval_samples,
            SAMPLE_CHUNK,
            1,
        );
        self.check(
            &format!("eval_samples = {}", config.eval_samples),
            add(networks, eval),
        )
    }
}

/// Parses a byte count: a whole number with an optional unit `K`, `M`, `G`, `T` (powers of
/// 1024, with or without a trailing `B` or `iB`), e.g. `512M`, `4GiB`, `1000000`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("'{text}' is not a byte count (e.g. 512M, 4G)")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("'{text}' is not a byte count (e.g. 512M, 4G)"))
}

/// Bytes needed to draw `n` samples in chunks of `chunk` and keep them all, `copies` times
/// over (a scatter plot also holds as many real points, and each set again as a list).
pub fn sampling_bytes(
    model: &ModelConfig,
    sample_shape: &[usize],
    n: usize,
    chunk: usize,
    copies: u64,
) -> Option<u64> {
    let shapes = NetworkShapes::of(model, sample_shape);
    let per_sample = sample_shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))?;
    let kept = bytes(values(&[n as u64, per_sample, copies]))?;
    add(Some(kept), shapes.sampling(chunk.min(n)))
}

/// The options that set the networks' sizes, as named in messages.
fn network_options(model: &ModelConfig) -> String {
    match model {
        ModelConfig::Mlp {
            z_dim,
            g_hidden,
            d_hidden,
            ..
        } => format!(
            "the networks (model.z_dim = {z_dim}, model.g_hidden = {g_hidden:?}, model.d_hidden = {d_hidden:?})"
        ),
        ModelConfig::Dcgan {
            z_dim, channels, ..
        } => format!("the networks (model.z_dim = {z_dim}, model.channels = {channels})"),
    }
}

/// What the memory of a generator and a critic depends on (counts of values, `None` on
/// overflow).
struct NetworkShapes {
    /// `w₀`: the noise per sample.
    z_dim: u64,
    /// Parameters of both networks.
    params: Option<u64>,
    /// Layer outputs of the generator per sample, summed.
    g_outputs: Option<u64>,
    /// The generator's widest layer output per sample.
    g_widest: Option<u64>,
    /// Layer outputs of the critic per sample, summed.
    d_outputs: Option<u64>,
}

impl NetworkShapes {
    /// The shapes of the networks [`ModelConfig::build`] makes for samples of `sample_shape`
    /// (validated by [`ModelConfig::validate`]).
    fn of(model: &ModelConfig, sample_shape: &[usize]) -> NetworkShapes {
        match model {
            ModelConfig::Mlp {
                z_dim,
                g_hidden,
                d_hidden,
                ..
            } => {
                let dim = sample_shape[0] as u64;
                let chain = |first: u64, hidden: &[usize], last: u64| {
                    let mut w = vec![first];
                    w.extend(hidden.iter().map(|&h| h as u64));
                    w.push(last);
                    w
                };
                let g = chain(*z_dim as u64, g_hidden, dim);
                let d = chain(dim, d_hidden, 1);
                NetworkShapes {
                    z_dim: *z_dim as u64,
                    params: add(linear_params(&g), linear_params(&d)),
                    g_outputs: sum(&g[1..]),
                    g_widest: g[1..].iter().copied().max(),
                    d_outputs: sum(&d[1..]),
                }
            }
            ModelConfig::Dcgan {
                z_dim, channels, ..
            } => {
                let (z, c, s) = (*z_dim as u64, *channels as u64, sample_shape[1] as u64);
                let b = s / 4;
                // Layer outputs per sample: G's linear (2c·b²), first transposed
                // convolution (c·(2b)²), image (s²); D's convolutions (c·(2b)², 2c·b²), score.
                let g_linear = values(&[2, c, b, b]);
                let g_conv = values(&[c, 2 * b, 2 * b]);
                let image = values(&[s, s]);
                let d_conv1 = values(&[c, 2 * b, 2 * b]);
                let d_conv2 = values(&[2, c, b, b]);
                // Weights and biases: G z→2c·b², 2c→c (k 4×4), c→1; D 1→c, c→2c (k 4×4),
                // 2c·b²→1.
                let kernel = |i: u64, o: u64| add(values(&[i, o, 16]), Some(o));
                let params = [
                    add(mul(Some(z), g_linear), g_linear),
                    kernel(2 * c, c),
                    kernel(c, 1),
                    kernel(1, c),
                    kernel(c, 2 * c),
                    add(d_conv2, Some(1)),
                ];
                NetworkShapes {
                    z_dim: z,
                    params: params.into_iter().try_fold(0u64, |a, p| a.checked_add(p?)),
                    g_outputs: add(add(g_linear, g_conv), image),
                    g_widest: [g_linear, g_conv, image]
                        .into_iter()
                        .try_fold(0u64, |m, v| Some(m.max(v?))),
                    d_outputs: add(add(d_conv1, d_conv2), Some(1)),
                }
            }
        }
    }

    /// Bytes of the parameters in training: [`TRAINING_COPIES`] copies of each.
    fn training_state(&self) -> Option<u64> {
        bytes(mul(self.params, Some(TRAINING_COPIES)))
    }

    /// Bytes one training step records with batch `b`: the real batch and the noise, the
    /// generator's layer outputs, the critic's on the real and the generated batch.
    fn step(&self, b: usize, sample_shape: &[usize]) -> Option<u64> {
        let per_sample = sample_shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
        let inputs = add(per_sample, Some(self.z_dim));
        let recorded = add(add(inputs, self.g_outputs), mul(self.d_outputs, Some(2)));
        bytes(mul(recorded, Some(b as u64)))
    }

    /// Bytes of `n` samples drawn at once without recording: the noise and the widest
    /// layer output.
    fn sampling(&self, n: usize) -> Option<u64> {
        let per_sample = add(Some(self.z_dim), self.g_widest);
        bytes(mul(per_sample, Some(n as u64)))
    }
}

/// Weights and biases of linear layers `w₀ → w₁ → … → w_k`.
fn linear_params(widths: &[u64]) -> Option<u64> {
    widths.windows(2).try_fold(0u64, |acc, w| {
        acc.checked_add(w[0].checked_mul(w[1])?)?.checked_add(w[1])
    })
}

/// The product of `factors`, `None` on overflow.
fn values(factors: &[u64]) -> Option<u64> {
    factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f))
}

/// The sum of `terms`, `None` on overflow.
fn sum(terms: &[u64]) -> Option<u64> {
    terms.iter().try_fold(0u64, |acc, &t| acc.checked_add(t))
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a?.checked_add(b?)
}

fn mul(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a?.checked_mul(b?)
}

/// Bytes of `count` `f32` values.
fn bytes(count: Option<u64>) -> Option<u64> {
    mul(count, Some(VALUE_BYTES))
}

/// A byte count for people: `7.3 TiB`, `512.0 MiB`, `900 B`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_parse_with_binary_units() {
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert_eq!(parse_bytes("512M"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_bytes("4GiB"), Ok(4 << 30));
        assert_eq!(parse_bytes("2 kb"), Ok(2048));
        assert!(parse_bytes("12Q").is_err());
        assert!(parse_bytes("").is_err());
        assert!(parse_bytes("99999999999T").is_err(), "overflow");
    }

    #[test]
    fn mlp_parameters_are_counted_layer_by_layer() {
        let model = ModelConfig::Mlp {
            z_dim: 2,
            g_hidden: vec![3],
            d_hidden: vec![5, 7],
            leaky: false,
            tanh_output: false,
            spectral_norm: false,
        };
        let s = NetworkShapes::of(&model, &[2]);
        // G: 2·3+3 + 3·2+2 = 17; D: 2·5+5 + 5·7+7 + 7·1+1 = 65.
        assert_eq!(s.params, Some(17 + 65));
        assert_eq!(s.g_outputs, Some(3 + 2));
        assert_eq!(s.d_outputs, Some(5 + 7 + 1));
        assert_eq!(s.training_state(), Some(82 * 4 * 4));
        // Batch 10: (2 + 2 + 5 + 2·13) values per sample.
        assert_eq!(s.step(10, &[2]), Some(10 * 35 * 4));
    }

    #[test]
    fn sizes_that_overflow_are_refused_not_wrapped() {
        let model = ModelConfig::Mlp {
            z_dim: 2,
            g_hidden: vec![1 << 40, 1 << 40],
            d_hidden: vec![8],
            leaky: false,
            tanh_output: false,
            spectral_norm: false,
        };
        let s = NetworkShapes::of(&model, &[2]);
        assert_eq!(s.params, None);
        let budget = Budget::limit(u64::MAX, "a test");
        let err = budget
            .check("the networks", s.training_state())
            .unwrap_err();
        assert!(err.contains("overflows"), "{err}");
    }

    #[test]
    fn a_request_over_budget_names_what_asked_and_both_sizes() {
        let budget = Budget::limit(1 << 20, "--max-memory");
        assert_eq!(budget.check("batch_size = 8", Some(1 << 20)), Ok(()));
        let err = budget.check("batch_size = 9", Some(3 << 20)).unwrap_err();
        assert_eq!(
            err,
            "batch_size = 9 would need at least 3.0 MiB (3145728 bytes), more than the 1.0 MiB \
             (1048576 bytes) available (--max-memory)"
        );
    }
}
