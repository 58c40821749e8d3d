//! The lessons of `src/lessons/`, run small: each asserts the key number its example prints.
//! And `docs/GUIDE.md` names only files that exist.

use std::f64::consts::LN_2;
use std::path::Path;

use gantry::gan::Divergence;
use gantry::lessons::fgan_divergences::{self, STARTS};
use gantry::lessons::lipschitz::{self, Constraint};
use gantry::lessons::{dcgan_digits, js_vs_wasserstein, toy_wgan_gp};

#[test]
fn js_is_log_2_for_disjoint_supports_while_w1_is_the_distance() {
    let report = js_vs_wasserstein::run(21);
    for row in &report.distances {
        let theta = row.theta.abs();
        if theta > 1e-9 {
            assert!((row.js_points - LN_2).abs() < 1e-12, "{row:?}");
        } else {
            assert!(row.js_points.abs() < 1e-12, "{row:?}");
        }
        if theta >= 1.0 {
            // 5σ apart or more: the discretized Gaussians barely overlap.
            assert!((row.js_gaussians - LN_2).abs() < 1e-6, "{row:?}");
        }
        assert!((row.w1 - theta).abs() < 0.02, "{row:?}");
    }
    let near = report
        .distances
        .iter()
        .find(|r| (r.theta - 0.2).abs() < 1e-9)
        .expect("θ = 0.2 is on the sweep");
    assert!(near.js_gaussians < 0.5, "overlapping Gaussians: {near:?}");
}

#[test]
fn the_saturating_loss_loses_its_gradient_and_the_wasserstein_one_does_not() {
    let report = js_vs_wasserstein::run(8);
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    for r in report.by_distance.iter().chain(&report.by_sharpness) {
        let a = r.sharpness;
        // The tape's derivatives of the library's losses against the closed forms.
        let sat = a * sigmoid(-a * r.theta / 2.0);
        let ns = a * sigmoid(a * r.theta / 2.0);
        assert!(
            (r.saturating - sat).abs() <= 1e-9 * sat.max(1e-300),
            "{r:?}"
        );
        assert!((r.non_saturating - ns).abs() <= 1e-9 * ns, "{r:?}");
        assert_eq!(r.wasserstein, 1.0, "{r:?}");
        assert!(r.minimax_value <= 0.0, "V ≤ 2·JS − log 4 = 0: {r:?}");
    }
    let far = report.by_distance.last().expect("rows");
    assert_eq!(far.theta, 4.0);
    assert!(far.saturating < 1e-6, "{far:?}");
    let sharp = report.by_sharpness.last().expect("rows");
    assert!(sharp.saturating < 1e-15 && sharp.non_saturating > 0.99 * sharp.sharpness);
}

#[test]
fn forward_kl_covers_both_modes_and_reverse_kl_seeks_one() {
    let steps = 400;
    let forward = fgan_divergences::fit(Divergence::Kl, STARTS[0], steps);
    // Moment matching: μ = 0, σ ≈ √4.25 ≈ 2.06 (2.07 on the grid truncated at ±7).
    assert!(forward.mu.abs() < 0.5 && forward.sigma > 1.5, "{forward:?}");
    assert!((forward.sigma - 2.07).abs() < 0.05, "{forward:?}");
    let reverse = fgan_divergences::fit(Divergence::ReverseKl, STARTS[0], steps);
    assert!(reverse.mu.abs() > 1.5 && reverse.sigma < 0.8, "{reverse:?}");
    // One mode of P holds half its mass: KL(Q ‖ P) ≈ log 2.
    assert!((reverse.value - LN_2).abs() < 0.01, "{reverse:?}");
    for fit in [&forward, &reverse] {
        assert!(fit.tape_error < 1e-9, "{fit:?}");
        assert!(
            (fit.variational_bound - fit.value).abs() < 1e-9,
            "Fenchel–Young at T = f′(p/q): {fit:?}"
        );
    }
}

#[test]
fn clipping_starves_the_critic_gp_keeps_norms_near_1_and_sn_below_1() {
    let report = lipschitz::run(150);
    let get = |c: Constraint| {
        report
            .critics
            .iter()
            .find(|r| r.constraint == c)
            .expect("all three critics")
    };
    let (clip, gp, sn) = (
        get(Constraint::WeightClip),
        get(Constraint::GradientPenalty),
        get(Constraint::SpectralNorm),
    );
    assert!(sn.max_norm <= 1.0 + 1e-3, "SN: {}", sn.max_norm);
    assert!((0.5..=1.5).contains(&gp.mean_norm), "GP: {}", gp.mean_norm);
    assert!(clip.max_norm < 0.1, "clipping: {}", clip.max_norm);
    assert!(
        clip.w1_estimate < gp.w1_estimate,
        "clip {} vs GP {}",
        clip.w1_estimate,
        gp.w1_estimate
    );
    assert_eq!(clip.field.len(), lipschitz::FIELD_SIDE.pow(2));
}

#[test]
fn a_short_wgan_gp_run_moves_the_generator_toward_the_ring() {
    let mut config = toy_wgan_gp::config(80);
    config.batch_size = 128;
    config.eval_samples = 500;
    // Judge the generator itself: an average over 80 steps still remembers its start.
    config.ema = None;
    let mut seen = 0;
    let report = toy_wgan_gp::run(config, 2, &mut |_, _| seen += 1).expect("trains");
    assert_eq!(seen, 3);
    let steps: Vec<usize> = report.snapshots.iter().map(|s| s.step).collect();
    assert_eq!(steps, [0, 40, 80]);
    let (first, last) = (&report.snapshots[0], &report.snapshots[2]);
    assert!(
        last.w1 < 0.9 * first.w1,
        "sliced W1 {} → {}",
        first.w1,
        last.w1
    );
    assert!(last.critic_estimate.is_some_and(f64::is_finite));
}

#[test]
fn the_dcgan_digits_pipeline_runs_and_is_judged() {
    let report = dcgan_digits::run(dcgan_digits::config(3)).expect("trains");
    assert_eq!(report.samples.shape(), &[64, 1, 8, 8]);
    for fd in [
        report.fd_real,
        report.before.digits_fd,
        report.after.digits_fd,
    ] {
        assert!(fd.is_finite() && fd >= 0.0, "{fd}");
    }
    assert!(report.fd_real < report.before.digits_fd);
    assert!(report.judge_accuracy > 0.9);
}

/// Every `crates/…`, `src/…`, `examples/…`, `tests/…` or `docs/…` path in backticks in the
/// guide exists (a `:` suffix such as `file.rs:fn_name` is ignored).
#[test]
fn every_path_in_the_guide_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("docs/GUIDE.md")).expect("docs/GUIDE.md");
    let prefixes = ["crates/", "src/", "examples/", "tests/", "docs/"];
    let paths: Vec<&str> = guide
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| prefixes.iter().any(|p| s.starts_with(p)))
        .map(|s| s.split([':', ' ']).next().unwrap_or(s))
        .collect();
    assert!(paths.len() >= 30, "only {} paths found", paths.len());
    let missing: Vec<&&str> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "GUIDE.md names missing paths: {missing:?}"
    );
    for example in [
        "double_backward",
        "spectral_norm",
        "js_vs_wasserstein",
        "fgan_divergences",
        "toy_wgan_gp",
        "lipschitz",
        "dcgan_digits",
    ] {
        assert!(
            guide.contains(&format!("cargo run --release --example {example}")),
            "GUIDE.md does not say how to run {example}"
        );
    }
}
