//! Checks of the metrics against values derived independently: shifts, hand-computed CDF
//! areas, the quantile form of W₁, E|cos θ| = 2/π, and mode histograms built by hand.

use std::f64::consts::{LN_2, PI};

use gantry_gan::data::toy::Toy;
use gantry_gan::metrics::{
    mixture_report, sliced_wasserstein, wasserstein1_1d, MixtureProtocol, MixtureReport,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn normal_sample(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// `∫₀¹ |F_a⁻¹(s) − F_b⁻¹(s)| ds`: both quantile functions are step functions with steps at
/// multiples of 1/n and 1/m, so the integral is exact on the merged steps.
fn w1_by_quantiles(a: &[f64], b: &[f64]) -> f64 {
    let (a, b) = (sorted(a), sorted(b));
    let (n, m) = (a.len(), b.len());
    let mut steps: Vec<f64> = (0..=n).map(|i| i as f64 / n as f64).collect();
    steps.extend((0..=m).map(|k| k as f64 / m as f64));
    steps.sort_by(f64::total_cmp);
    steps
        .windows(2)
        .map(|w| {
            let s = 0.5 * (w[0] + w[1]);
            let qa = a[((s * n as f64) as usize).min(n - 1)];
            let qb = b[((s * m as f64) as usize).min(m - 1)];
            (qa - qb).abs() * (w[1] - w[0])
        })
        .sum()
}

#[test]
fn w1_of_a_shift_is_the_shift() {
    let mut r = rng(1);
    let a = normal_sample(500, &mut r);
    for delta in [0.0, 0.25, 3.0, -7.5] {
        // Shifted and reversed, so the pairing must come from sorting.
        let b: Vec<f64> = a.iter().rev().map(|x| x + delta).collect();
        let w = wasserstein1_1d(&a, &b);
        assert!((w - f64::abs(delta)).abs() < 1e-12, "δ = {delta}: {w}");
        // Unequal sizes: every value of the shifted sample three times.
        let b3: Vec<f64> = b.iter().flat_map(|&x| [x, x, x]).collect();
        let w = wasserstein1_1d(&a, &b3);
        assert!(
            (w - f64::abs(delta)).abs() < 1e-12,
            "δ = {delta}, sizes 500 and 1500: {w}"
        );
    }
}

#[test]
fn w1_matches_the_sorted_pairing_for_equal_sizes() {
    let mut r = rng(2);
    for n in [1, 2, 7, 100, 1000] {
        let a = normal_sample(n, &mut r);
        let b: Vec<f64> = normal_sample(n, &mut r)
            .iter()
            .map(|x| 2.0 * x + 0.3)
            .collect();
        let paired: f64 = sorted(&a)
            .iter()
            .zip(sorted(&b))
            .map(|(x, y)| (x - y).abs())
            .sum::<f64>()
            / n as f64;
        let w = wasserstein1_1d(&a, &b);
        assert!(
            (w - paired).abs() < 1e-12 * paired.max(1.0),
            "n = {n}: {w} vs {paired}"
        );
        assert_eq!(w, wasserstein1_1d(&b, &a));
    }
}

#[test]
fn w1_matches_the_quantile_integral_for_unequal_sizes() {
    let mut r = rng(3);
    for (n, m) in [(1, 2), (2, 3), (5, 8), (97, 300), (1000, 37)] {
        let a = normal_sample(n, &mut r);
        let b: Vec<f64> = normal_sample(m, &mut r).iter().map(|x| x - 0.5).collect();
        let expected = w1_by_quantiles(&a, &b);
        let w = wasserstein1_1d(&a, &b);
        assert!(
            (w - expected).abs() < 1e-12,
            "{n} vs {m}: {w} vs {expected}"
        );
    }
}

#[test]
fn w1_small_cases_by_hand() {
    // F_a − F_b is ½ − ⅓ on [0, ½) and ½ − ⅔ on [½, 1): area ⅙·½ + ⅙·½ = ⅙.
    assert!((wasserstein1_1d(&[0.0, 1.0], &[0.0, 0.5, 1.0]) - 1.0 / 6.0).abs() < 1e-15);
    assert_eq!(wasserstein1_1d(&[2.0], &[-1.5]), 3.5);
    assert_eq!(wasserstein1_1d(&[0.0], &[-1.0, 1.0]), 1.0);
    assert_eq!(wasserstein1_1d(&[1.0, 1.0, 1.0], &[1.0]), 0.0);
    assert!(wasserstein1_1d(&[0.0, f64::NAN], &[1.0]).is_nan());
}

#[test]
fn w1_grows_with_the_distance_between_disjoint_supports() {
    // Where the Jensen–Shannon divergence is stuck at log 2 (tests/divergence.rs), W₁ is the
    // distance itself.
    let a: Vec<f64> = (0..20).map(|i| i as f64 * 0.05).collect();
    for distance in [1.0, 10.0, 100.0, 1000.0] {
        let b: Vec<f64> = a.iter().map(|x| x + distance).collect();
        assert!((wasserstein1_1d(&a, &b) - distance).abs() < 1e-9 * distance);
    }
}

#[test]
#[should_panic(expected = "wasserstein1_1d: both samples need at least one value, got 0 and 2")]
fn w1_of_an_empty_sample_panics_clearly() {
    wasserstein1_1d(&[], &[1.0, 2.0]);
}

/// An `[n, d]` Gaussian cloud and the same cloud shifted by `delta`.
fn shifted_clouds(n: usize, delta: &[f64], r: &mut ChaCha8Rng) -> (Tensor<f64>, Tensor<f64>) {
    let d = delta.len();
    let a = normal_sample(n * d, r);
    let b: Vec<f64> = a
        .iter()
        .enumerate()
        .map(|(i, x)| x + delta[i % d])
        .collect();
    (Tensor::from_vec(a, &[n, d]), Tensor::from_vec(b, &[n, d]))
}

#[test]
fn sliced_w1_of_a_shift_is_its_length_times_the_mean_absolute_cosine() {
    // Every projection of a cloud shifted by δ is shifted by δ·θ, so SW₁ = ‖δ‖·E|θ₁|, which is
    // 2/π in 2-D and ½ in 3-D (Archimedes: θ₁ is uniform on [−1, 1] on the 2-sphere).
    let projections = 4000;
    for (delta, mean_abs_cos, sd_abs_cos) in [
        (vec![3.0, 0.0], 2.0 / PI, (0.5 - 4.0 / (PI * PI)).sqrt()),
        (vec![1.2, -1.6], 2.0 / PI, (0.5 - 4.0 / (PI * PI)).sqrt()),
        (vec![0.0, 2.0, 0.0], 0.5, (1.0f64 / 3.0 - 0.25).sqrt()),
    ] {
        let norm = delta.iter().map(|x| x * x).sum::<f64>().sqrt();
        let (a, b) = shifted_clouds(200, &delta, &mut rng(4));
        let sw = sliced_wasserstein(&a, &b, projections, &mut rng(5));
        let expected = norm * mean_abs_cos;
        let tolerance = 4.0 * norm * sd_abs_cos / (projections as f64).sqrt();
        assert!(
            (sw - expected).abs() < tolerance,
            "δ = {delta:?}: {sw} vs {expected}"
        );
    }
}

#[test]
fn sliced_w1_works_on_f32_clouds_of_different_sizes() {
    let toy = Toy::ring8();
    let a = toy.sample(400, &mut rng(6));
    // The second cloud: 1,000 other ring8 samples moved 1.5 along x.
    let moved: Vec<f32> = toy
        .sample(1000, &mut rng(7))
        .to_vec()
        .chunks_exact(2)
        .flat_map(|p| [p[0] + 1.5, p[1]])
        .collect();
    let b = Tensor::from_vec(moved, &[1000, 2]);
    let far = sliced_wasserstein(&a, &b, 2000, &mut rng(8));
    let near = sliced_wasserstein(&a, &toy.sample(1000, &mut rng(9)), 2000, &mut rng(8));
    assert!((far - 1.5 * 2.0 / PI).abs() < 0.08, "{far}");
    assert!(near < 0.1, "two samples of one distribution: {near}");
}

#[test]
fn sliced_w1_in_one_dimension_is_w1() {
    let mut r = rng(10);
    let a = normal_sample(300, &mut r);
    let b: Vec<f64> = normal_sample(120, &mut r)
        .iter()
        .map(|x| 0.5 * x + 1.0)
        .collect();
    let sw = sliced_wasserstein(
        &Tensor::from_vec(a.clone(), &[300, 1]),
        &Tensor::from_vec(b.clone(), &[120, 1]),
        5,
        &mut r,
    );
    assert!((sw - wasserstein1_1d(&a, &b)).abs() < 1e-12);
}

#[test]
fn sliced_w1_is_deterministic_given_the_rng() {
    let mut r = rng(11);
    let a = Tensor::<f64>::randn(&[50, 3], &mut r);
    let b = Tensor::<f64>::randn(&[60, 3], &mut r);
    let first = sliced_wasserstein(&a, &b, 50, &mut rng(12));
    assert_eq!(first, sliced_wasserstein(&a, &b, 50, &mut rng(12)));
    assert_ne!(first, sliced_wasserstein(&a, &b, 50, &mut rng(13)));
}

#[test]
#[should_panic(expected = "sliced_wasserstein: clouds must have shapes [n, d] and [m, d]")]
fn sliced_w1_of_mismatched_dimensions_panics_clearly() {
    let a = Tensor::<f32>::zeros(&[4, 2]);
    let b = Tensor::<f32>::zeros(&[4, 3]);
    sliced_wasserstein(&a, &b, 10, &mut rng(0));
}

#[test]
fn ring8_samples_cover_all_eight_modes() {
    let toy = Toy::ring8();
    let samples = toy.sample(5000, &mut rng(20));
    let report = mixture_report(&samples, &toy.modes(), toy.std());
    assert_eq!(report.n_samples, 5000);
    assert_eq!(report.n_modes, 8);
    assert_eq!(report.modes_covered, 8);
    // Expected share within 3σ in 2-D: 1 − e^(−4.5) = 0.9889.
    let expected = 1.0 - (-4.5f64).exp();
    assert!(
        (report.high_quality_share - expected).abs() < 0.01,
        "{report:?}"
    );
    // A multinomial histogram of ~5,000 draws over 8 bins is off uniform by about
    // (K − 1)/(2n) = 7e-4 nats.
    assert!(report.kl_to_uniform < 0.005, "{report:?}");
    assert_eq!(report.high_quality_per_mode.len(), 8);
    assert_eq!(
        report.high_quality_per_mode.iter().sum::<usize>() as f64,
        report.high_quality_share * 5000.0
    );
}

#[test]
fn grid25_and_wgan_gp_scaled_samples_cover_all_modes() {
    for toy in [
        Toy::grid25(),
        Toy::grid25().scaled(gantry_gan::data::toy::WGAN_GP_GRID25_SCALE),
        Toy::ring8().scaled(gantry_gan::data::toy::WGAN_GP_RING8_SCALE),
    ] {
        let report = mixture_report(&toy.sample(10_000, &mut rng(21)), &toy.modes(), toy.std());
        assert_eq!(report.modes_covered, report.n_modes, "{toy:?}");
        assert!(report.high_quality_share > 0.97, "{report:?}");
    }
}

#[test]
fn a_generator_on_three_modes_covers_three_of_eight() {
    let toy = Toy::ring8();
    let modes = toy.modes();
    let mut r = rng(22);
    let points: Vec<f64> = (0..3000)
        .flat_map(|i| {
            let m = &modes[i % 3];
            let z: [f64; 2] = [StandardNormal.sample(&mut r), StandardNormal.sample(&mut r)];
            [m[0] + 0.02 * z[0], m[1] + 0.02 * z[1]]
        })
        .collect();
    let report = mixture_report(&Tensor::from_vec(points, &[3000, 2]), &modes, 0.02);
    assert_eq!(report.modes_covered, 3);
    assert!(report.high_quality_share > 0.97);
    // The histogram is about uniform over 3 of 8 modes: KL = log(8/3).
    assert!(
        (report.kl_to_uniform - (8.0f64 / 3.0).ln()).abs() < 0.01,
        "{report:?}"
    );
}

#[test]
fn uniform_noise_is_rarely_high_quality() {
    let toy = Toy::ring8();
    let noise = Tensor::<f32>::rand_uniform(&[5000, 2], -3.0, 3.0, &mut rng(23));
    let report = mixture_report(&noise, &toy.modes(), toy.std());
    // 8 discs of radius 0.06 cover 8·π·0.06²/36 = 0.25% of the square.
    assert!(report.high_quality_share < 0.01, "{report:?}");
    assert_eq!(report.modes_covered, 0);
}

#[test]
fn kl_to_uniform_of_exact_histograms() {
    let modes = Toy::ring8().modes();
    let at_modes = |counts: &[usize]| -> MixtureReport {
        let points: Vec<f64> = counts
            .iter()
            .enumerate()
            .flat_map(|(k, &c)| {
                let mode = &modes[k];
                (0..c).flat_map(move |_| mode.iter().copied())
            })
            .collect();
        let n = points.len() / 2;
        mixture_report(&Tensor::from_vec(points, &[n, 2]), &modes, 0.02)
    };
    let uniform = at_modes(&[10; 8]);
    assert_eq!(uniform.kl_to_uniform, 0.0);
    assert_eq!(uniform.high_quality_per_mode, vec![10; 8]);
    let one = at_modes(&[0, 0, 0, 40, 0, 0, 0, 0]);
    assert!((one.kl_to_uniform - 8f64.ln()).abs() < 1e-15);
    assert_eq!(one.modes_covered, 1);
    // Two modes equally: KL = log(8/2) = 2·log 2.
    let two = at_modes(&[5, 0, 0, 0, 0, 5, 0, 0]);
    assert!((two.kl_to_uniform - 2.0 * LN_2).abs() < 1e-15);
}

#[test]
fn coverage_needs_one_percent_of_the_samples() {
    let modes = Toy::ring8().modes();
    // 995 samples at mode 0, 5 (0.5%) at mode 1, then 980 and 20 (2%).
    for (minor, covered) in [(5usize, 1usize), (20, 2)] {
        let points: Vec<f64> = (0..1000)
            .flat_map(|i| modes[usize::from(i < minor)].clone())
            .collect();
        let report = mixture_report(&Tensor::from_vec(points, &[1000, 2]), &modes, 0.02);
        assert_eq!(report.modes_covered, covered, "{minor} samples on mode 1");
        assert_eq!(report.high_quality_share, 1.0);
    }
    // A stricter protocol: 5% of the samples.
    let strict = MixtureProtocol {
        radius_in_stds: 3.0,
        min_mode_share: 0.05,
    };
    let toy = Toy::ring8();
    let report = strict.report(&toy.sample(2000, &mut rng(24)), &toy.modes(), toy.std());
    assert_eq!(report.modes_covered, 8);
}

#[test]
fn far_or_non_finite_samples_are_never_high_quality() {
    let modes = Toy::ring8().modes();
    let samples = Tensor::from_vec(
        vec![10.0f32, 10.0, f32::NAN, 0.0, f32::INFINITY, 2.0],
        &[3, 2],
    );
    let report = mixture_report(&samples, &modes, 0.02);
    assert_eq!(report.high_quality_share, 0.0);
    assert_eq!(report.modes_covered, 0);
    // No high-quality sample: the value of total collapse.
    assert!((report.kl_to_uniform - 8f64.ln()).abs() < 1e-15);
}

#[test]
fn one_dimensional_mixtures_are_assessed_too() {
    let toy = Toy::bimodal1d();
    let report = mixture_report(&toy.sample(2000, &mut rng(25)), &toy.modes(), toy.std());
    assert_eq!((report.modes_covered, report.n_modes), (2, 2));
    // 1-D: P(|z| ≤ 3) = 0.9973.
    assert!(report.high_quality_share > 0.99);
    let collapsed = Toy::gaussian1d(2.0, 0.25);
    let report = mixture_report(
        &collapsed.sample(2000, &mut rng(26)),
        &toy.modes(),
        toy.std(),
    );
    assert_eq!(report.modes_covered, 1);
    assert!((report.kl_to_uniform - LN_2).abs() < 1e-12);
}

#[test]
fn reports_serialize_with_named_fields() {
    let toy = Toy::ring8();
    let report = mixture_report(&toy.sample(100, &mut rng(27)), &toy.modes(), toy.std());
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    for field in [
        "n_samples",
        "n_modes",
        "modes_covered",
        "high_quality_share",
        "kl_to_uniform",
        "high_quality_per_mode",
    ] {
        assert!(json.get(field).is_some(), "missing {field} in {json}");
    }
    assert_eq!(json["modes_covered"], 8);
}

#[test]
#[should_panic(expected = "mixture_report: mode 0 has 2 coordinates but samples have 1")]
fn mismatched_mode_dimensions_panic_clearly() {
    let samples = Tensor::<f32>::zeros(&[5, 1]);
    mixture_report(&samples, &Toy::ring8().modes(), 0.02);
}

#[test]
fn random_directions_do_not_depend_on_the_scale_of_the_data() {
    // SW₁ is positively homogeneous: scaling both clouds by c scales it by c.
    let mut r = rng(28);
    let a = Tensor::<f64>::randn(&[80, 2], &mut r);
    let b = Tensor::<f64>::rand_uniform(&[90, 2], -1.0, 2.0, &mut r);
    let scale = |t: &Tensor<f64>, c: f64| {
        Tensor::from_vec(t.to_vec().iter().map(|x| x * c).collect(), t.shape())
    };
    let base = sliced_wasserstein(&a, &b, 64, &mut rng(29));
    let c = 3.7;
    let scaled = sliced_wasserstein(&scale(&a, c), &scale(&b, c), 64, &mut rng(29));
    assert!(
        (scaled - c * base).abs() < 1e-12 * scaled,
        "{scaled} vs {}",
        c * base
    );
}
