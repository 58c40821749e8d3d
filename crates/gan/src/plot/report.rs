//! The pictures of a run: samples over the data, the critic's landscape, loss curves.

use std::path::Path;

use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Data;
use crate::plot::{
    heatmap, image_grid, line_plot, scatter, Bounds, Curve, Field, Labels, PlotError, Series,
    PALETTE,
};
use crate::train::trainer::{critic_values, StepLog, Trainer};

const DATA_GRAY: [u8; 3] = [150, 150, 150];

/// Images per row of a sample grid.
pub const GRID_COLUMNS: usize = 8;

/// Draws a sample picture to `path`: an image grid for images, samples over the data for
/// 2-D data, and the two densities (histograms) for 1-D data.
pub fn plot_samples(data: &Data, samples: &Tensor<f32>, path: &Path) -> Result<(), PlotError> {
    match data.sample_shape().as_slice() {
        [1, _, _] | [3, _, _] => image_grid(samples, GRID_COLUMNS, 4, path),
        [2] => {
            let real = data_beside(data, samples)?;
            let (r, s) = (real.to_vec(), samples.to_vec());
            let series = [
                Series {
                    name: "data",
                    points: &r,
                    color: DATA_GRAY,
                    radius: 2,
                },
                Series {
                    name: "generated",
                    points: &s,
                    color: PALETTE[1],
                    radius: 2,
                },
            ];
            scatter(
                &series,
                bounds_of(&r, &s),
                &Labels {
                    title: "samples",
                    x: "x1",
                    y: "x2",
                },
                path,
            )
        }
        _ => {
            let real = data_beside(data, samples)?;
            let (r, s) = (real.to_vec(), samples.to_vec());
            let lo = r
                .iter()
                .chain(&s)
                .copied()
                .filter(|v| v.is_finite())
                .fold(f32::INFINITY, f32::min);
            let hi = r
                .iter()
                .chain(&s)
                .copied()
                .filter(|v| v.is_finite())
                .fold(f32::NEG_INFINITY, f32::max);
            let curves = [
                Curve {
                    name: "data".into(),
                    points: histogram(&r, lo, hi),
                    color: DATA_GRAY,
                },
                Curve {
                    name: "generated".into(),
                    points: histogram(&s, lo, hi),
                    color: PALETTE[1],
                },
            ];
            line_plot(
                &curves,
                &Labels {
                    title: "density",
                    x: "x",
                    y: "density",
                },
                path,
            )
        }
    }
}

/// As many data points as `samples` has rows, drawn with a fixed seed (the same picture
/// every time), to draw beside the samples.
fn data_beside(data: &Data, samples: &Tensor<f32>) -> Result<Tensor<f32>, PlotError> {
    data.batch(samples.shape()[0], &mut ChaCha8Rng::seed_from_u64(1))
        .map(|batch| batch.x)
        .map_err(|e| PlotError::InvalidInput(format!("data to draw beside the samples: {e}")))
}

/// For 2-D data: the critic's value over the plane as a heat map, data and samples on top.
pub fn plot_critic(trainer: &Trainer, samples: &Tensor<f32>, path: &Path) -> Result<(), PlotError> {
    let real = data_beside(&trainer.data, samples)?;
    let (r, s) = (real.to_vec(), samples.to_vec());
    let bounds = bounds_of(&r, &s);
    let n = 96;
    let grid = Tensor::from_vec(bounds.cell_centers(n, n), &[n * n, 2]);
    let values = critic_values(&trainer.d, &grid).to_vec();
    let field = Field {
        values: &values,
        nx: n,
        ny: n,
        bounds,
        name: "D(x)",
    };
    let overlay = [
        Series {
            name: "data",
            points: &r,
            color: [255, 255, 255],
            radius: 2,
        },
        Series {
            name: "generated",
            points: &s,
            color: PALETTE[3],
            radius: 2,
        },
    ];
    heatmap(
        &field,
        &overlay,
        &Labels {
            title: "critic",
            x: "x1",
            y: "x2",
        },
        path,
    )
}

/// Loss curves (and the Wasserstein estimate, when there is one) against the step.
pub fn plot_losses(history: &[StepLog], path: &Path) -> Result<(), PlotError> {
    let curve = |name: &str, color, f: &dyn Fn(&StepLog) -> Option<f64>| Curve {
        name: name.into(),
        points: history
            .iter()
            .filter_map(|h| Some((h.step as f64, f(h)?)))
            .collect(),
        color,
    };
    let mut curves = vec![
        curve("critic loss", PALETTE[0], &|h| Some(h.d_loss)),
        curve("generator loss", PALETTE[1], &|h| Some(h.g_loss)),
    ];
    if history.iter().any(|h| h.wasserstein.is_some()) {
        curves.push(curve("W1 estimate", PALETTE[2], &|h| h.wasserstein));
    }
    line_plot(
        &curves,
        &Labels {
            title: "losses",
            x: "step",
            y: "",
        },
        path,
    )
}

/// A square view holding the data (and samples that are not far off), with a margin.
fn bounds_of(real: &[f32], samples: &[f32]) -> Bounds {
    let data_extent = real.iter().fold(0f32, |m, v| m.max(v.abs()));
    let extent = samples
        .iter()
        .filter(|v| v.is_finite())
        .fold(data_extent, |m, v| m.max(v.abs().min(2.0 * data_extent)));
    Bounds::square(extent * 1.15 + 0.05)
}

/// A normalized histogram `(bin centre, density)` with 60 bins over `[lo, hi]`.
fn histogram(values: &[f32], lo: f32, hi: f32) -> Vec<(f64, f64)> {
    let bins = 60;
    let width = ((hi - lo) / bins as f32).max(1e-6);
    let mut counts = vec![0usize; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let total = values.len().max(1) as f64 * width as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ((lo + (i as f32 + 0.5) * width) as f64, c as f64 / total))
        .collect()
}
