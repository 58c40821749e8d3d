//! Weight clipping, gradient penalty and spectral normalization: three critics of the same
//! architecture, and the input gradients each ends up with.
//!
//! The math and the sources are in `src/lessons/lipschitz.rs` (Arjovsky et al. 2017;
//! Gulrajani et al. 2017; Miyato et al. 2018).
//!
//! Run: `cargo run --release --example lipschitz`
//! Writes `runs/examples/lipschitz/{gradient_norms,critic_clip,critic_gp,critic_sn}.png`.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use gantry::gan::data::toy::Toy;
use gantry::gan::plot::{heatmap, line_plot, Curve, Field, Labels, Series, PALETTE};
use gantry::lessons::lipschitz::{self, Constraint, CLIP, FIELD_SIDE, LAMBDA};
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let steps = 1000;
    let report = lipschitz::run(steps);
    let out = Path::new("runs/examples/lipschitz");
    std::fs::create_dir_all(out)?;

    println!(
        "Critic 2-64-64-1 (LeakyReLU 0.2), {steps} Adam steps of the Wasserstein critic loss,"
    );
    println!("P = 8 Gaussians on a ring of radius 2, Q = N(0, I) (a fixed bad generator).");
    println!(
        "‖∇ₓD‖ at 2000 points x̂ = εx_r + (1 − ε)x_f; W1 estimate E_P D − E_Q D on fresh samples.\n"
    );
    println!(
        "  {:<18} {:>10} {:>10} {:>10} {:>13}",
        "constraint", "mean ‖∇D‖", "min ‖∇D‖", "max ‖∇D‖", "W1 estimate"
    );
    for c in &report.critics {
        println!(
            "  {:<18} {:>10.4} {:>10.4} {:>10.4} {:>13.4}",
            c.constraint.name(),
            c.mean_norm,
            c.min_norm,
            c.max_norm,
            c.w1_estimate
        );
    }
    println!(
        "\n  weight clipping (c = {CLIP}): gradients far below 1, so the critic measures K·W1 for a\n  \
         small unknown K; gradient penalty (λ = {LAMBDA}): norms near 1 where it samples;\n  \
         spectral norm: every norm ≤ 1 (a hard bound, loose: the product of per-layer bounds)."
    );

    // Histogram of log10 ‖∇D‖: the three live on different scales.
    let logs: Vec<Vec<f64>> = report
        .critics
        .iter()
        .map(|c| c.gradient_norms.iter().map(|n| n.log10()).collect())
        .collect();
    let lo = logs.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let hi = logs
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let curves: Vec<Curve> = report
        .critics
        .iter()
        .zip(&logs)
        .enumerate()
        .map(|(i, (c, l))| Curve {
            name: c.constraint.name().into(),
            points: histogram(l, lo, hi, 80),
            color: PALETTE[i],
        })
        .collect();
    line_plot(
        &curves,
        &Labels {
            title: "distribution of the critic's input-gradient norm",
            x: "log10 ‖∇D‖ at the interpolates   (0 is norm 1)",
            y: "share of points per bin",
        },
        out.join("gradient_norms.png"),
    )?;

    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let real = Toy::ring8().sample(400, &mut rng).to_vec();
    let fake = Tensor::<f32>::randn(&[400, 2], &mut rng).to_vec();
    for c in &report.critics {
        let (file, title) = match c.constraint {
            Constraint::WeightClip => ("critic_clip.png", "weight clipping"),
            Constraint::GradientPenalty => ("critic_gp.png", "gradient penalty"),
            Constraint::SpectralNorm => ("critic_sn.png", "spectral norm"),
        };
        let title = format!("{title}: D(x), W1 estimate {:.3}", c.w1_estimate);
        heatmap(
            &Field {
                values: &c.field,
                nx: FIELD_SIDE,
                ny: FIELD_SIDE,
                bounds: report.bounds,
                name: "critic D(x)",
            },
            &[
                Series {
                    name: "real (ring8)",
                    points: &real,
                    color: [255, 255, 255],
                    radius: 2,
                },
                Series {
                    name: "fake N(0, I)",
                    points: &fake,
                    color: PALETTE[3],
                    radius: 2,
                },
            ],
            &Labels {
                title: &title,
                x: "x1",
                y: "x2",
            },
            out.join(file),
        )?;
    }
    println!(
        "\nwrote {}/gradient_norms.png and critic_{{clip,gp,sn}}.png in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `(bin centre, share of values)` over `bins` equal bins of `[lo, hi]`.
fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64)> {
    let width = ((hi - lo) / bins as f64).max(1e-9);
    let mut counts = vec![0usize; bins];
    for v in values {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            (
                lo + (i as f64 + 0.5) * width,
                n as f64 / values.len() as f64,
            )
        })
        .collect()
}
