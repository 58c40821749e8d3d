//! JS is `log 2` for any two disjoint distributions, W1 grows with their distance, and the
//! saturating generator loss loses its gradient against a good discriminator.
//!
//! The math and the sources are in `src/lessons/js_vs_wasserstein.rs`
//! (Arjovsky, Chintala & Bottou 2017, Example 1; Arjovsky & Bottou 2017, Theorems 2.4, 2.6).
//!
//! Run: `cargo run --release --example js_vs_wasserstein`
//! Writes `runs/examples/js_vs_wasserstein/{divergences,gradients}.png`.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use gantry::gan::plot::{line_plot, Curve, Labels, PALETTE};
use gantry::lessons::js_vs_wasserstein::{self, GradientRow, SHARPNESS, SIGMA};

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let report = js_vs_wasserstein::run(161);
    let out = Path::new("runs/examples/js_vs_wasserstein");
    std::fs::create_dir_all(out)?;

    println!("1. Distances between P = δ₀ (or N(0, {SIGMA}²)) and Q_θ = δ_θ (or N(θ, {SIGMA}²))");
    println!("   log 2 = {:.6}\n", std::f64::consts::LN_2);
    println!(
        "   {:>6}  {:>14}  {:>16}  {:>12}",
        "θ", "JS(δ₀, δ_θ)", "JS(Gaussians)", "W1(Gaussians)"
    );
    for row in report
        .distances
        .iter()
        .filter(|r| [0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0].contains(&round2(r.theta)))
    {
        println!(
            "   {:>6.2}  {:>14.6}  {:>16.6}  {:>12.4}",
            row.theta, row.js_points, row.js_gaussians, row.w1
        );
    }
    println!("   JS saturates at log 2 once the supports separate; W1 = |θ| keeps growing.\n");

    println!("2. ∂/∂θ of the generator loss, generator δ_θ, real δ₀, frozen D(x) = σ(a(θ/2 − x))");
    println!("   (Wasserstein: the optimal 1-Lipschitz critic f(x) = −|x|)\n");
    println!("   sharpness a = {SHARPNESS}, varying the distance θ:");
    print_gradients(&report.by_distance);
    println!("\n   distance θ = 1, varying the sharpness a (a → ∞ is the optimal D):");
    print_gradients(&report.by_sharpness);
    println!(
        "\n   The saturating gradient vanishes as D improves or as G gets worse; the\n   \
         non-saturating one scales with D's sharpness; the Wasserstein one is 1 throughout."
    );

    let curve = |name: &str, color, f: &dyn Fn(&js_vs_wasserstein::DistanceRow) -> f64| Curve {
        name: name.into(),
        points: report.distances.iter().map(|r| (r.theta, f(r))).collect(),
        color,
    };
    line_plot(
        &[
            curve("JS(δ₀, δ_θ)", PALETTE[3], &|r| r.js_points),
            curve("JS of N(0, 0.1²), N(θ, 0.1²)", PALETTE[1], &|r| {
                r.js_gaussians
            }),
            curve("W1 of the Gaussians", PALETTE[0], &|r| r.w1),
        ],
        &Labels {
            title: "JS saturates at log 2, W1 = |θ|",
            x: "θ (distance between the distributions)",
            y: "nats / distance",
        },
        out.join("divergences.png"),
    )?;
    let log_curve = |name: &str, color, f: &dyn Fn(&GradientRow) -> f64| Curve {
        name: name.into(),
        points: report
            .gradient_curve
            .iter()
            .map(|r| (r.theta, f(r).abs().log10()))
            .collect(),
        color,
    };
    line_plot(
        &[
            log_curve("saturating log(1 − D)", PALETTE[3], &|r| r.saturating),
            log_curve("non-saturating −log D", PALETTE[1], &|r| r.non_saturating),
            log_curve("Wasserstein −f, f = −|x|", PALETTE[0], &|r| {
                r.wasserstein
            }),
        ],
        &Labels {
            title: "gradient reaching the generator (D sharpness a = 10)",
            x: "θ (generator's distance from the data)",
            y: "log10 |∂ loss / ∂θ|",
        },
        out.join("gradients.png"),
    )?;
    println!(
        "\nwrote {}/divergences.png and gradients.png in {:.2} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_gradients(rows: &[GradientRow]) {
    println!(
        "   {:>5}  {:>6}  {:>11}  {:>13}  {:>15}  {:>12}",
        "θ", "a", "V(D, G)", "saturating", "non-saturating", "Wasserstein"
    );
    for r in rows {
        println!(
            "   {:>5.2}  {:>6.0}  {:>11.2e}  {:>13.3e}  {:>15.3e}  {:>12.3}",
            r.theta, r.sharpness, r.minimax_value, r.saturating, r.non_saturating, r.wasserstein
        );
    }
}

/// `x` rounded to two decimals (to pick table rows out of the sweep).
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
