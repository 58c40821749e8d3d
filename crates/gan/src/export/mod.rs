//! The way out to PyTorch, and back: a run exported as PyTorch modules, weights and a
//! training script, and networks trained in PyTorch loaded into a run.
//!
//! [`export`] writes, into one directory:
//! - `models.py`: the run's generator and critic as `torch.nn.Sequential`s, or, for a
//!   class-conditional run, as the header's `Generator` `G(z, y)` and `Critic` `D(x, y)`
//!   (conditional batch norm `γ[y]·(x − μ)/√(σ² + ε) + β[y]` or a label embedding
//!   concatenated to `z`; the projection `ψ(φ(x)) + ⟨embed(y), φ(x)⟩` or AC-GAN's class
//!   logits `classifier(φ(x))`). Gantry's parameter names are PyTorch's `state_dict` keys
//!   for the same module tree (children `0`, `1`, …, `embed`, `classifier`, a conditional
//!   batch norm's `bn`, `gain`, `bias`; spectral norm as
//!   `torch.nn.utils.parametrizations.spectral_norm`'s `parametrizations.weight.original`
//!   and `parametrizations.weight.0._u` / `_v`), so the networks load with `strict=True`.
//!   The file is a shared header followed by the template of the run's model kind
//!   (`templates/<kind>.py`): a new kind is one template.
//! - `generator.safetensors`, `critic.safetensors` (and `generator_ema.safetensors`):
//!   every parameter and buffer of each network, keys without the checkpoint's `g.` / `d.`
//!   prefix.
//! - `optimizer.safetensors`: both Adams' state under the checkpoint's names.
//! - `data.safetensors` (the samples `data`, images as `u8` with their `data_scale`, and,
//!   for labelled data, their classes `labels`), `config.toml`, `run.json` (the config,
//!   the step, the sample shape and the class count), `train.py` (gantry's training step
//!   in PyTorch, conditional objective included, single-process or under `torchrun` with
//!   DistributedDataParallel) and a `README.md`.
//!
//! [`init_from`] is the way back: `generator.safetensors` / `critic.safetensors` written
//! by `train.py` (or by this module) loaded into a trainer's networks.

use std::path::{Path, PathBuf};

use gantry_nn::checkpoint::write_atomic;
use gantry_nn::{label_tensor, Checkpoint, Module, Named};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, TensorView};

use crate::data::Data;
use crate::train::models::ModelConfig;
use crate::train::Trainer;

/// The header of every `models.py`: imports, helpers and `load_networks`.
const MODELS_HEADER: &str = include_str!("templates/models_header.py");
/// `generator` and `critic` for `model.kind = "mlp"`.
const MLP: &str = include_str!("templates/mlp.py");
/// `generator` and `critic` for `model.kind = "dcgan"`.
const DCGAN: &str = include_str!("templates/dcgan.py");
/// The training script.
const TRAIN: &str = include_str!("templates/train.py");
/// The README of an export directory.
const README: &str = include_str!("templates/README.md");

/// Samples of a toy distribution written to `data.safetensors` (PyTorch trains on this
/// fixed sample, where gantry draws afresh every batch).
pub const TOY_SAMPLES: usize = 65_536;

/// The generator's file in an export directory and in `train.py`'s output.
pub const GENERATOR_FILE: &str = "generator.safetensors";
/// The critic's file.
pub const CRITIC_FILE: &str = "critic.safetensors";
/// The EMA generator's file.
pub const EMA_FILE: &str = "generator_ema.safetensors";

/// The PyTorch template of a model kind.
fn template(model: &ModelConfig) -> &'static str {
    match model {
        ModelConfig::Mlp { .. } => MLP,
        ModelConfig::Dcgan { .. } => DCGAN,
    }
}

/// `models.py` for a model config: the header, then the kind's template.
pub fn models_py(model: &ModelConfig) -> String {
    format!("{MODELS_HEADER}{}", template(model))
}

/// Writes the export of `trainer` (its current weights, optimizer state and step) into
/// `dir`, creating it; each file is written atomically. Returns the files written.
/// Errors name the file.
pub fn export(trainer: &Trainer, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ck = trainer.checkpoint();
    let config = &trainer.config;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("models.py", models_py(&config.model).into_bytes()),
        ("train.py", TRAIN.as_bytes().to_vec()),
        ("README.md", README.as_bytes().to_vec()),
        ("config.toml", config.to_toml().into_bytes()),
        (GENERATOR_FILE, part(&ck, "g.", unprefixed)?.to_bytes()),
        (CRITIC_FILE, part(&ck, "d.", unprefixed)?.to_bytes()),
        (
            "optimizer.safetensors",
            part(&ck, "opt_", |k| k)?.to_bytes(),
        ),
        ("data.safetensors", data_file(trainer)?),
    ];
    if trainer.g_ema.is_some() {
        files.push((EMA_FILE, part(&ck, "g_ema.", unprefixed)?.to_bytes()));
    }
    let settings = serde_json::json!({
        "format": "gantry-export-1",
        "step": trainer.step(),
        "sample_shape": trainer.data.sample_shape(),
        "num_classes": trainer.data.num_classes(),
        "config": config,
        "config_toml": config.to_toml(),
    });
    let settings = serde_json::to_string_pretty(&settings).expect("the config serializes");
    files.push(("run.json", settings.into_bytes()));
    files
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            write_atomic(&path, &bytes).map_err(|e| e.to_string())?;
            Ok(path)
        })
        .collect()
}

/// The tensors of `ck` whose names start with `prefix`, renamed by `rename`.
fn part(ck: &Checkpoint, prefix: &str, rename: fn(&str) -> &str) -> Result<Checkpoint, String> {
    let mut out = Checkpoint::new();
    for key in ck.keys().into_iter().filter(|k| k.starts_with(prefix)) {
        let t = ck.get::<f32>(key, None).map_err(|e| e.to_string())?;
        out.put(rename(key), &t);
    }
    Ok(out)
}

/// A network's name without its checkpoint prefix (`g.0.weight` → `0.weight`).
fn unprefixed(key: &str) -> &str {
    key.split_once('.').map_or(key, |(_, rest)| rest)
}

/// The training data as safetensors bytes. An image set keeps its pixels: `data` is `u8`
/// `[n, c, h, w]` and `data_scale` the `f32` `[1]` that maps them to gantry's values,
/// `x = data · data_scale − 1` (`data_scale = 2/max_value`); so the file and the memory
/// that builds it hold the set at its own size, not four times that. Other data is `f32`
/// `data`: the samples, or [`TOY_SAMPLES`] draws of a toy distribution (from the run's
/// seed). A labelled set also has `labels` `[n]`, the class `k` of each sample as the `f32`
/// value `k` (as [`label_tensor`] writes labels).
fn data_file(trainer: &Trainer) -> Result<Vec<u8>, String> {
    let set = match &trainer.data {
        Data::Samples(x) => return Ok(tensor_file(x)),
        Data::Toy(toy) => {
            let mut rng = ChaCha8Rng::seed_from_u64(trainer.config.seed);
            return Ok(tensor_file(&toy.sample(TOY_SAMPLES, &mut rng)));
        }
        Data::Images { set, .. } => set,
    };
    let scale = (2.0 / set.max_value as f32).to_le_bytes();
    let labels: Option<Vec<u8>> = set.labels.as_ref().map(|l| {
        label_tensor::<f32>(l)
            .to_vec()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    });
    let mut tensors = vec![
        ("data", view(Dtype::U8, set.shape.to_vec(), &set.pixels)?),
        ("data_scale", view(Dtype::F32, vec![1], &scale)?),
    ];
    if let Some(labels) = &labels {
        tensors.push(("labels", view(Dtype::F32, vec![set.len()], labels)?));
    }
    safetensors::serialize(tensors, &None).map_err(|e| format!("export: {e:?}"))
}

/// A safetensors view of `bytes` (little-endian values of `dtype`) as a tensor of `shape`.
fn view(dtype: Dtype, shape: Vec<usize>, bytes: &[u8]) -> Result<TensorView<'_>, String> {
    TensorView::new(dtype, shape, bytes).map_err(|e| format!("export: {e:?}"))
}

/// A file holding `x` as the `f32` tensor `data`.
fn tensor_file(x: &Tensor<f32>) -> Vec<u8> {
    let mut out = Checkpoint::new();
    out.put("data", x);
    out.to_bytes()
}

/// Loads networks from safetensors files into `trainer`, each file named for its network:
/// `generator*.safetensors` → the generator, `critic*.safetensors` → the critic,
/// `generator_ema*.safetensors` → the EMA generator. A directory stands for the files of
/// those names in it. Every key must be present with the right shape, and none extra
/// (PyTorch's `strict=True`). Without an EMA file, the EMA generator (if any) starts as a
/// copy of the loaded generator. Errors name the file.
pub fn init_from(trainer: &Trainer, paths: &[PathBuf]) -> Result<(), String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let present = [GENERATOR_FILE, CRITIC_FILE, EMA_FILE]
                .map(|f| path.join(f))
                .into_iter()
                .filter(|p| p.exists());
            files.extend(present);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(format!(
            "--init-from: no {GENERATOR_FILE}, {CRITIC_FILE} or {EMA_FILE} in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut ema_loaded = false;
    let mut generator = None;
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target: &dyn Module<f32> = if name.starts_with("generator_ema") {
            ema_loaded = true;
            trainer.g_ema.as_ref().ok_or_else(|| {
                format!(
                    "{}: this run keeps no EMA generator (set ema in the config)",
                    file.display()
                )
            })?
        } else if name.starts_with("generator") {
            generator = Some(file);
            &trainer.g
        } else if name.starts_with("critic") {
            &trainer.d
        } else {
            return Err(format!(
                "--init-from {}: the file name must start with generator, generator_ema or critic (it names the network)",
                file.display()
            ));
        };
        load_into(target, file)?;
    }
    if let (Some(file), Some(ema), false) = (generator, &trainer.g_ema, ema_loaded) {
        load_into(ema, file)?;
    }
    Ok(())
}

/// Every parameter and buffer of `net` from `file`, strictly.
fn load_into(net: &dyn Module<f32>, file: &Path) -> Result<(), String> {
    let ck = Checkpoint::load(file).map_err(|e| e.to_string())?;
    let state: Vec<Named<f32>> = [net.params(), net.buffers()].concat();
    ck.restore(&state)
        .map_err(|e| format!("{}: {e}", file.display()))
}
