//! `gantry eval`: every image metric of a checkpoint's generator, as one JSON line.
//!
//! The trainer is rebuilt from the config stored in the checkpoint, `n` images are drawn,
//! and a [`FeatureNet`] for the training data (loaded from, or trained into, the
//! checkpoint's folder) measures them against the real images (see
//! `gantry_gan::metrics::image_metrics`).

use std::path::Path;

use gantry::gan::data::digits::Digits;
use gantry::gan::data::idx::{load_idx_images, load_idx_labels};
use gantry::gan::data::source::DataConfig;
use gantry::gan::data::ImageSet;
use gantry::gan::metrics::FeatureNet;
use gantry::gan::train::trainer::generate;
use gantry::gan::{TrainConfig, Trainer};
use gantry::nn::{Checkpoint, Sequential};
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Latents per generator forward pass.
const GENERATE_BATCH: usize = 250;

/// Prints the metrics of `n` samples (noise from `seed`) of the checkpoint's generator, or
/// of its moving average with `ema`.
pub fn eval(checkpoint: &Path, n: usize, ema: bool, seed: u64) -> Result<(), String> {
    if n == 0 {
        return Err("--n must be at least 1".into());
    }
    let shown = checkpoint.display();
    let ck = Checkpoint::load(checkpoint).map_err(|e| e.to_string())?;
    let text = ck
        .meta("config")
        .ok_or_else(|| format!("{shown}: not a gantry training checkpoint (no config inside)"))?;
    let config = TrainConfig::from_toml(text, &[]).map_err(|e| format!("{shown}: {e}"))?;
    let (dataset, real) = real_images(&config.data).map_err(|e| format!("{shown}: {e}"))?;
    check_memory(n, &real)?;
    let mut trainer = Trainer::new(config).map_err(|e| e.to_string())?;
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
    let samples = generate_in_batches(generator, &z);
    let cache = checkpoint.parent().unwrap_or(Path::new("."));
    let net = FeatureNet::load_or_train(cache, &dataset, &real).map_err(|e| e.to_string())?;
    let mut line = net.evaluate(&samples, None, &real).to_json();
    line.insert("checkpoint".into(), shown.to_string().into());
    line.insert("step".into(), trainer.step().into());
    line.insert("ema".into(), ema.into());
    line.insert("seed".into(), seed.into());
    println!("{}", serde_json::Value::Object(line));
    Ok(())
}

/// The generator's images for the rows of `z`, [`GENERATE_BATCH`] at a time: one forward
/// pass over 10 000 latents would hold every layer's activations at once (gigabytes).
fn generate_in_batches(generator: &Sequential, z: &Tensor<f32>) -> Tensor<f32> {
    let n = z.shape()[0];
    let batches: Vec<Tensor<f32>> = (0..n)
        .step_by(GENERATE_BATCH)
        .map(|start| {
            generate(
                generator,
                &z.narrow(0, start, GENERATE_BATCH.min(n - start)),
            )
        })
        .collect();
    let mut shape = batches[0].shape().to_vec();
    shape[0] = n;
    Tensor::from_vec(batches.iter().flat_map(|b| b.to_vec()).collect(), &shape)
}

/// The real images of the data a checkpoint was trained on, with a name for the feature
/// network: the bundled digits (labelled), or an IDX images file, labelled when the file
/// beside it named with `labels-idx1` for `images-idx3` exists (the MNIST naming).
fn real_images(data: &DataConfig) -> Result<(String, ImageSet), String> {
    match data {
        DataConfig::Toy(toy) => Err(format!(
            "trained on toy data ({toy:?}); gantry eval measures image models (digits, IDX files)"
        )),
        DataConfig::Digits => {
            let digits = Digits::load().map_err(|e| e.to_string())?;
            let labels = digits.labels.iter().map(|&l| u32::from(l)).collect();
            Ok((
                "digits".into(),
                to_image_set(&digits.images, 16, Some((labels, Digits::CLASSES))),
            ))
        }
        DataConfig::Idx { path } => {
            let images = load_idx_images(path).map_err(|e| e.to_string())?;
            let name = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let labels_path = path.with_file_name(name.replace("images-idx3", "labels-idx1"));
            let labels = if name.contains("images-idx3") && labels_path.is_file() {
                let labels = load_idx_labels(&labels_path).map_err(|e| e.to_string())?;
                if labels.len() != images.shape()[0] {
                    return Err(format!(
                        "{} holds {} labels for {} images",
                        labels_path.display(),
                        labels.len(),
                        images.shape()[0]
                    ));
                }
                let classes = labels.iter().max().map_or(0, |&m| usize::from(m) + 1);
                Some((labels.into_iter().map(u32::from).collect(), classes))
            } else {
                None
            };
            let stem = path
                .parent()
                .and_then(|p| p.file_name())
                .map_or("idx".into(), |f| f.to_string_lossy().into_owned());
            Ok((stem, to_image_set(&images, 255, labels)))
        }
    }
}

/// Back from `f32` in [−1, 1] to the `u8` pixels they were made of (`2p/max − 1`).
fn to_image_set(
    images: &Tensor<f32>,
    max_value: u8,
    labels: Option<(Vec<u32>, usize)>,
) -> ImageSet {
    let scale = f32::from(max_value) / 2.0;
    let pixels = images
        .to_vec()
        .into_iter()
        .map(|x| ((x + 1.0) * scale).round().clamp(0.0, f32::from(max_value)) as u8)
        .collect();
    let s = images.shape();
    let (labels, num_classes) = labels.map_or((None, 0), |(l, c)| (Some(l), c));
    ImageSet {
        pixels,
        shape: [s[0], s[1], s[2], s[3]],
        max_value,
        labels,
        num_classes,
    }
}

/// Refuses an `n` whose samples and features would not fit in the memory available now
/// (`MemAvailable` of /proc/meminfo; no check where that cannot be read).
fn check_memory(n: usize, real: &ImageSet) -> Result<(), String> {
    // The samples as f32, their features as f64 (at most 128 wide), a copy of each.
    let per_sample = 4 * real.image_len() + 2 * 8 * 128;
    let needed = (n as u128) * (per_sample as u128) * 2;
    let Some(available) = available_memory() else {
        return Ok(());
    };
    if needed > available as u128 {
        return Err(format!(
            "--n {n} needs about {:.1} GB for the samples and their features, more than the {:.1} GB available",
            needed as f64 / 1e9,
            available as f64 / 1e9
        ));
    }
    Ok(())
}

fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
