//! `gantry eval`: every image metric of a checkpoint's generator, as one JSON line.
//!
//! The trainer is rebuilt from the config stored in the checkpoint (its data loaded as for
//! training), `n` images are drawn, and a [`FeatureNet`] for the training data (loaded
//! from, or trained into, the checkpoint's folder) measures them against the real images
//! (see `gantry_gan::metrics::image_metrics`).

use std::path::Path;

use gantry::gan::metrics::FeatureNet;
use gantry::gan::train::memory::Budget;
use gantry::gan::train::models::Generator;
use gantry::gan::train::trainer::generate;
use gantry::gan::Trainer;
use gantry::nn::checkpoint::write_atomic;
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Latents per generator forward pass.
const GENERATE_BATCH: usize = 250;

/// Prints the metrics of `n` samples (noise from `seed`) of the checkpoint's generator, or
/// of its moving average with `ema`, and writes them to `out` atomically when given.
pub fn eval(
    checkpoint: &Path,
    n: usize,
    ema: bool,
    seed: u64,
    out: Option<&Path>,
    budget: &Budget,
) -> Result<(), String> {
    if let Some(dir) = out.and_then(Path::parent) {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            return Err(format!("--out: {} is not a directory", dir.display()));
        }
    }
    let cache = checkpoint.parent().unwrap_or(Path::new("."));
    let metrics = measure(checkpoint, (n, seed), ema, cache, budget)?;
    let line = serde_json::Value::Object(metrics).to_string();
    if let Some(out) = out {
        write_atomic(out, format!("{line}\n").as_bytes()).map_err(|e| e.to_string())?;
    }
    println!("{line}");
    Ok(())
}

/// Every image metric of `n` samples (noise from `seed`) of the checkpoint's generator, or
/// of its moving average with `ema`, with the settings that produced them. A conditional
/// generator draws its classes in turn. The feature network is loaded from, or trained
/// into, the folder `cache`.
pub fn measure(
    checkpoint: &Path,
    (n, seed): (usize, u64),
    ema: bool,
    cache: &Path,
    budget: &Budget,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    if n == 0 {
        return Err("--n must be at least 1".into());
    }
    let shown = checkpoint.display();
    let (ck, config) = crate::run::load_checkpoint(checkpoint)?;
    let dataset = config.data.name();
    let mut trainer = Trainer::new(config).map_err(|e| e.to_string())?;
    let Some(real) = trainer.data.images().cloned() else {
        return Err(format!(
            "{shown}: trained on toy data ({dataset}); gantry eval measures image models"
        ));
    };
    // The samples as f32, their features as f64 (at most 128 wide), a copy of each.
    let per_sample = 4 * real.image_len() as u64 + 2 * 8 * 128;
    budget.check("--n", (n as u64).checked_mul(2 * per_sample))?;
    trainer.restore(&ck).map_err(|e| format!("{shown}: {e}"))?;
    let generator = match (&trainer.g_ema, ema) {
        (Some(g_ema), true) => g_ema,
        (None, true) => {
            return Err(format!(
                "--ema: {shown} has no moving-average generator (config ema is not set)"
            ))
        }
        (_, false) => &trainer.g,
    };
    let z = Tensor::randn(
        &[n, trainer.config.model.z_dim()],
        &mut ChaCha8Rng::seed_from_u64(seed),
    );
    let labels = trainer.cycling_labels(n);
    let samples = generate_in_batches(generator, &z, labels.as_deref());
    let net = FeatureNet::load_or_train(cache, dataset, &real).map_err(|e| e.to_string())?;
    let mut line = net.evaluate(&samples, labels.as_deref(), &real).to_json();
    line.insert("checkpoint".into(), shown.to_string().into());
    line.insert("n".into(), n.into());
    line.insert("ema".into(), ema.into());
    line.insert("seed".into(), seed.into());
    Ok(line)
}

/// The generator's images for the rows of `z` (with their labels), [`GENERATE_BATCH`] at a
/// time: one forward pass over 10 000 latents would hold every layer's activations at once
/// (gigabytes).
fn generate_in_batches(
    generator: &Generator,
    z: &Tensor<f32>,
    labels: Option<&[u32]>,
) -> Tensor<f32> {
    let n = z.shape()[0];
    let batches: Vec<Tensor<f32>> = (0..n)
        .step_by(GENERATE_BATCH)
        .map(|start| {
            let rows = GENERATE_BATCH.min(n - start);
            generate(
                generator,
                &z.narrow(0, start, rows),
                labels.map(|l| &l[start..start + rows]),
            )
        })
        .collect();
    let mut shape = batches[0].shape().to_vec();
    shape[0] = n;
    Tensor::from_vec(batches.iter().flat_map(|b| b.to_vec()).collect(), &shape)
}
