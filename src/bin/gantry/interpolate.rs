//! `gantry interpolate`: an image grid whose rows walk through latent space, each from one
//! random latent to another along the great circle (`gantry_gan::train::interpolation`).
//! A class-conditional model keeps one class per row: row r shows class r mod K. With
//! `--across-classes` each row keeps one latent instead and walks from class r mod K to
//! class r + 1 mod K through the class tables (`interpolation::class_mixtures`).

use std::path::Path;

use gantry::gan::plot::image_grid;
use gantry::gan::train::interpolation::{class_paths, generate_mixed, interpolation_rows};
use gantry::gan::train::trainer::generate;
use gantry::gan::Trainer;
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::run::load_for_sampling;

/// The most rows, and steps per row, of a grid.
const MAX_SIDE: usize = 64;

/// Draws `rows` interpolations of `steps` images each (latents from `seed`) from the
/// checkpoint's (EMA) generator into the PNG `out`: between latents, or between classes
/// at a fixed latent (`across_classes`).
pub fn interpolate(
    checkpoint: &Path,
    out: &Path,
    (rows, steps): (usize, usize),
    seed: u64,
    across_classes: bool,
) -> Result<(), String> {
    if !(1..=MAX_SIDE).contains(&rows) {
        return Err(format!("--rows must be in 1..={MAX_SIDE}, got {rows}"));
    }
    if !(2..=MAX_SIDE).contains(&steps) {
        return Err(format!("--steps must be in 2..={MAX_SIDE}, got {steps}"));
    }
    let (ck, config, data) = load_for_sampling(checkpoint)?;
    if data.images().is_none() {
        return Err(format!(
            "{}: trained on toy data ({}); gantry interpolate draws image grids",
            checkpoint.display(),
            config.data.name()
        ));
    }
    let mut trainer = Trainer::with_data(config, data).map_err(|e| e.to_string())?;
    trainer
        .restore(&ck)
        .map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let z_dim = trainer.config.model.z_dim();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let starts = Tensor::randn(&[rows, z_dim], &mut rng);
    let images = if across_classes {
        let g = trainer.sampler();
        let k = g.num_classes.ok_or_else(|| {
            format!(
                "{}: --across-classes needs a class-conditional model",
                checkpoint.display()
            )
        })? as u32;
        let ends: Vec<(u32, u32)> = (0..rows as u32).map(|r| (r % k, (r + 1) % k)).collect();
        let mixtures = class_paths(&ends, steps, k as usize);
        let shape = trainer.data.sample_shape();
        let row_of_each: Vec<u32> = (0..rows * steps).map(|i| (i / steps) as u32).collect();
        let z = starts.index_rows(&row_of_each);
        generate_mixed(&trainer.config.model, &shape, g, &z, &mixtures)?
    } else {
        let ends = Tensor::randn(&[rows, z_dim], &mut rng);
        let z = interpolation_rows(&starts, &ends, steps);
        let labels = trainer.cycling_labels(rows).map(|classes| {
            (0..rows * steps)
                .map(|i| classes[i / steps])
                .collect::<Vec<_>>()
        });
        generate(trainer.sampler(), &z, labels.as_deref())
    };
    image_grid(&images, steps, 4, out).map_err(|e| e.to_string())?;
    let between = if across_classes { "classes" } else { "latents" };
    println!(
        "wrote {rows} interpolations between {between} of {steps} steps to {}",
        out.display()
    );
    Ok(())
}
