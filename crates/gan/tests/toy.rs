//! Checks of the toy samplers: per-mode statistics against the stated parameters (means
//! placed independently here), the WGAN-GP scaling, the curves' geometry, determinism, and
//! configs.

use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2, TAU};

use gantry_gan::data::toy::{Toy, WGAN_GP_GRID25_SCALE, WGAN_GP_RING8_SCALE};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The rows of an `[n, d]` tensor, as f64.
fn rows(t: &Tensor<f32>) -> Vec<Vec<f64>> {
    let d = t.shape()[1];
    t.to_vec()
        .chunks_exact(d)
        .map(|r| r.iter().map(|&x| x as f64).collect())
        .collect()
}

/// Groups points by nearest center and returns, per center, (count, mean, per-coordinate
/// standard deviation pooled over the coordinates).
fn per_mode_stats(points: &[Vec<f64>], centers: &[Vec<f64>]) -> Vec<(usize, Vec<f64>, f64)> {
    let d = centers[0].len();
    let mut groups: Vec<Vec<&Vec<f64>>> = vec![Vec::new(); centers.len()];
    for p in points {
        let distance =
            |c: &Vec<f64>| -> f64 { p.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum() };
        let nearest = (0..centers.len())
            .min_by(|&i, &j| distance(&centers[i]).total_cmp(&distance(&centers[j])))
            .unwrap();
        groups[nearest].push(p);
    }
    groups
        .iter()
        .map(|g| {
            let n = g.len() as f64;
            let mean: Vec<f64> = (0..d)
                .map(|j| g.iter().map(|p| p[j]).sum::<f64>() / n)
                .collect();
            let var = g
                .iter()
                .map(|p| (0..d).map(|j| (p[j] - mean[j]).powi(2)).sum::<f64>())
                .sum::<f64>()
                / (d as f64 * (n - 1.0));
            (g.len(), mean, var.sqrt())
        })
        .collect()
}

/// Asserts each mode got about `n/k` samples, a mean near its center and the given std.
fn check_modes(points: &[Vec<f64>], centers: &[Vec<f64>], std: f64) {
    let n = points.len() as f64;
    let k = centers.len() as f64;
    for (i, (count, mean, sd)) in per_mode_stats(points, centers).into_iter().enumerate() {
        let expected = n / k;
        let binomial_sd = (n * (1.0 / k) * (1.0 - 1.0 / k)).sqrt();
        assert!(
            (count as f64 - expected).abs() < 5.0 * binomial_sd,
            "mode {i}: {count} samples, expected {expected}"
        );
        for (m, c) in mean.iter().zip(&centers[i]) {
            let standard_error = std / (count as f64).sqrt();
            assert!(
                (m - c).abs() < 5.0 * standard_error,
                "mode {i}: mean {m} vs {c}"
            );
        }
        assert!((sd / std - 1.0).abs() < 0.06, "mode {i}: std {sd} vs {std}");
    }
}

#[test]
fn ring8_has_eight_modes_on_a_circle_of_radius_two() {
    let centers: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let a = k as f64 * PI / 4.0;
            vec![2.0 * a.cos(), 2.0 * a.sin()]
        })
        .collect();
    let toy = Toy::ring8();
    let samples = toy.sample(40_000, &mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!(samples.shape(), &[40_000, 2]);
    check_modes(&rows(&samples), &centers, 0.02);
    assert_eq!(toy.std(), 0.02);
    assert_eq!(toy.weights(), vec![0.125; 8]);
    for (mode, center) in toy.modes().iter().zip(&centers) {
        for (a, b) in mode.iter().zip(center) {
            assert!((a - b).abs() < 1e-15);
        }
    }
}

#[test]
fn grid25_has_twenty_five_modes_on_the_grid() {
    let values = [-4.0, -2.0, 0.0, 2.0, 4.0];
    let centers: Vec<Vec<f64>> = values
        .iter()
        .flat_map(|&x| values.iter().map(move |&y| vec![x, y]))
        .collect();
    let toy = Toy::grid25();
    let samples = toy.sample(50_000, &mut ChaCha8Rng::seed_from_u64(2));
    check_modes(&rows(&samples), &centers, 0.05);
    assert_eq!(toy.modes(), centers);
    assert_eq!(toy.std(), 0.05);
}

#[test]
fn wgan_gp_scaling_shrinks_means_and_std_alike() {
    assert!((WGAN_GP_RING8_SCALE - 1.0 / 1.414).abs() < 2e-4);
    assert!((WGAN_GP_GRID25_SCALE - 1.0 / 2.828).abs() < 2e-4);

    let ring = Toy::ring8().scaled(WGAN_GP_RING8_SCALE);
    let centers: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let a = k as f64 * PI / 4.0;
            vec![SQRT_2 * a.cos(), SQRT_2 * a.sin()]
        })
        .collect();
    let samples = ring.sample(16_000, &mut ChaCha8Rng::seed_from_u64(3));
    check_modes(&rows(&samples), &centers, 0.02 * FRAC_1_SQRT_2);
    assert!((ring.std() - 0.02 / SQRT_2).abs() < 1e-15);
    for mode in ring.modes() {
        assert!((mode[0].hypot(mode[1]) - SQRT_2).abs() < 1e-12);
    }

    let grid = Toy::grid25().scaled(WGAN_GP_GRID25_SCALE);
    let samples = grid.sample(25_000, &mut ChaCha8Rng::seed_from_u64(4));
    check_modes(&rows(&samples), &grid.modes(), 0.05 * WGAN_GP_GRID25_SCALE);
    let extreme = grid.modes().iter().map(|m| m[0]).fold(f64::MIN, f64::max);
    assert!(
        (extreme - SQRT_2).abs() < 1e-12,
        "4/(2√2) = √2, got {extreme}"
    );
}

#[test]
fn swiss_roll_lies_on_its_spiral() {
    let toy = Toy::SwissRoll {
        noise: 0.0,
        scale: 1.0,
    };
    let points = rows(&toy.sample(5_000, &mut ChaCha8Rng::seed_from_u64(5)));
    let mut radius_sum = 0.0;
    for p in &points {
        // (t cos t, t sin t) has radius t and angle t (mod 2π).
        let t = p[0].hypot(p[1]);
        assert!(
            (1.5 * PI - 1e-4..=4.5 * PI + 1e-4).contains(&t),
            "radius {t}"
        );
        let angle_gap = (p[1].atan2(p[0]) - t).rem_euclid(TAU);
        assert!(
            angle_gap.min(TAU - angle_gap) < 1e-4,
            "point {p:?} is off the spiral"
        );
        radius_sum += t;
    }
    // t is uniform on [1.5π, 4.5π): mean 3π, standard deviation 3π/√12.
    let mean = radius_sum / points.len() as f64;
    let standard_error = 3.0 * PI / 12f64.sqrt() / (points.len() as f64).sqrt();
    assert!(
        (mean - 3.0 * PI).abs() < 5.0 * standard_error,
        "mean radius {mean}"
    );

    // The default is the WGAN-GP script's roll: noise 0.25 then division by 7.5.
    let default = Toy::swiss_roll();
    assert_eq!(default.std(), 0.25 / 7.5);
    let points = rows(&default.sample(5_000, &mut ChaCha8Rng::seed_from_u64(6)));
    assert!(points.iter().all(|p| p[0].abs() < 2.2 && p[1].abs() < 2.2));
    assert!(default.modes().is_empty() && !default.is_mixture());
}

#[test]
fn circles_split_evenly_between_radii() {
    let toy = Toy::Circles {
        radii: vec![1.0, 3.0],
        noise: 0.0,
        scale: 0.5,
    };
    let points = rows(&toy.sample(8_000, &mut ChaCha8Rng::seed_from_u64(7)));
    let mut inner = 0usize;
    let (mut cos_sum, mut sin_sum) = (0.0, 0.0);
    for p in &points {
        let r = p[0].hypot(p[1]);
        if (r - 0.5).abs() < 1e-6 {
            inner += 1;
        } else {
            assert!((r - 1.5).abs() < 1e-6, "radius {r}");
        }
        cos_sum += p[0] / r;
        sin_sum += p[1] / r;
    }
    let n = points.len() as f64;
    assert!(
        (inner as f64 - n / 2.0).abs() < 5.0 * (n / 4.0).sqrt(),
        "{inner} inner"
    );
    // Uniform angles: E cos θ = E sin θ = 0 with standard deviation 1/√2.
    let bound = 5.0 * FRAC_1_SQRT_2 / n.sqrt();
    assert!((cos_sum / n).abs() < bound && (sin_sum / n).abs() < bound);

    let noisy = Toy::circles();
    let points = rows(&noisy.sample(4_000, &mut ChaCha8Rng::seed_from_u64(8)));
    let off: Vec<f64> = points
        .iter()
        .map(|p| {
            let r = p[0].hypot(p[1]);
            (r - 1.0).abs().min((r - 2.0).abs())
        })
        .collect();
    let rms = (off.iter().map(|x| x * x).sum::<f64>() / off.len() as f64).sqrt();
    // The radial part of isotropic noise of σ = 0.05 has σ ≈ 0.05 too.
    assert!(
        (rms - 0.05).abs() < 0.005,
        "rms distance to the circles {rms}"
    );
}

#[test]
fn mixture1d_matches_weights_means_and_stds() {
    let toy = Toy::mixture1d(vec![-2.0, 2.0], vec![0.25, 0.5], vec![1.0, 3.0]);
    let samples = toy.sample(40_000, &mut ChaCha8Rng::seed_from_u64(9));
    assert_eq!(samples.shape(), &[40_000, 1]);
    let x: Vec<f64> = samples.to_vec().iter().map(|&v| v as f64).collect();
    let (left, right): (Vec<f64>, Vec<f64>) = x.iter().partition(|&&v| v < 0.0);
    let n = x.len() as f64;
    assert!((left.len() as f64 / n - 0.25).abs() < 5.0 * (0.25 * 0.75 / n).sqrt());
    for (side, mean, std) in [(&left, -2.0, 0.25), (&right, 2.0, 0.5)] {
        let m = side.iter().sum::<f64>() / side.len() as f64;
        let sd =
            (side.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (side.len() as f64 - 1.0)).sqrt();
        assert!(
            (m - mean).abs() < 5.0 * std / (side.len() as f64).sqrt(),
            "mean {m}"
        );
        assert!((sd / std - 1.0).abs() < 0.05, "std {sd}");
    }
    assert_eq!(toy.modes(), vec![vec![-2.0], vec![2.0]]);
    assert_eq!(toy.weights(), vec![0.25, 0.75]);
    assert_eq!(toy.std(), 0.5);
    assert_eq!(toy.dim(), 1);

    let single = Toy::gaussian1d(1.5, 0.7);
    let x: Vec<f64> = single
        .sample(20_000, &mut ChaCha8Rng::seed_from_u64(10))
        .to_vec()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt();
    assert!((m - 1.5).abs() < 5.0 * 0.7 / (x.len() as f64).sqrt());
    assert!((sd / 0.7 - 1.0).abs() < 0.03);

    let bimodal = Toy::bimodal1d().scaled(2.0);
    assert_eq!(bimodal.modes(), vec![vec![-4.0], vec![4.0]]);
    assert_eq!(bimodal.std(), 0.5);
}

#[test]
fn sampling_is_deterministic_given_a_seed() {
    for name in Toy::NAMES {
        let toy = Toy::from_name(name).unwrap();
        let a = toy.sample(100, &mut ChaCha8Rng::seed_from_u64(42));
        let b = toy.sample(100, &mut ChaCha8Rng::seed_from_u64(42));
        let c = toy.sample(100, &mut ChaCha8Rng::seed_from_u64(43));
        assert_eq!(a, b, "{name}");
        assert_ne!(a, c, "{name}");
        assert!(a.all_finite());

        // The sampler is the same stream: batch after batch from one seeded ChaCha8Rng.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let by_hand: Vec<Tensor<f32>> = (0..3).map(|_| toy.sample(16, &mut rng)).collect();
        let from_sampler: Vec<Tensor<f32>> = toy.sampler(16, 7).take(3).collect();
        assert_eq!(by_hand, from_sampler, "{name}");
        assert_ne!(from_sampler[0], from_sampler[1], "{name}");
    }
    assert_eq!(
        Toy::ring8()
            .sample(0, &mut ChaCha8Rng::seed_from_u64(0))
            .shape(),
        &[0, 2]
    );
}

#[test]
fn configs_name_the_toy_and_default_the_rest() {
    for name in Toy::NAMES {
        let toy = Toy::from_name(name).unwrap();
        assert_eq!(toy.name(), name);
        let json = format!("{{\"name\": \"{name}\"}}");
        assert_eq!(serde_json::from_str::<Toy>(&json).unwrap(), toy, "{name}");
        let round_trip: Toy = serde_json::from_str(&serde_json::to_string(&toy).unwrap()).unwrap();
        assert_eq!(round_trip, toy);
    }
    assert_eq!(Toy::from_name("ring"), None);

    let toy: Toy = toml::from_str("name = \"ring8\"\nscale = 0.5").unwrap();
    assert_eq!(toy, Toy::ring8().scaled(0.5));
    let toy: Toy =
        toml::from_str("name = \"mixture1d\"\nmeans = [0.0]\nstds = [1.0]\nweights = [1.0]")
            .unwrap();
    assert_eq!(toy, Toy::gaussian1d(0.0, 1.0));
    let toy: Toy = toml::from_str("name = \"swiss_roll\"").unwrap();
    assert_eq!(toy, Toy::swiss_roll());

    let typo = toml::from_str::<Toy>("name = \"ring8\"\nsclae = 0.5").unwrap_err();
    assert!(typo.to_string().contains("sclae"), "{typo}");
    let unknown = serde_json::from_str::<Toy>("{\"name\": \"moons\"}").unwrap_err();
    assert!(unknown.to_string().contains("moons"), "{unknown}");
}

#[test]
fn invalid_parameters_are_reported() {
    let bad = Toy::Ring8 {
        radius: 2.0,
        std: -0.1,
        scale: 1.0,
    };
    let e = bad.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid toy distribution ring8: std must be finite and >= 0, got -0.1"
    );
    assert!(Toy::mixture1d(vec![0.0, 1.0], vec![1.0], vec![1.0, 1.0])
        .validate()
        .is_err());
    assert!(Toy::mixture1d(vec![0.0], vec![1.0], vec![0.0])
        .validate()
        .is_err());
    assert!(Toy::Circles {
        radii: vec![],
        noise: 0.1,
        scale: 1.0
    }
    .validate()
    .is_err());
    for name in Toy::NAMES {
        assert_eq!(Toy::from_name(name).unwrap().validate(), Ok(()));
    }
}

#[test]
#[should_panic(
    expected = "invalid toy distribution mixture1d: means, stds and weights must have the same non-zero length"
)]
fn sampling_an_invalid_toy_panics_clearly() {
    Toy::mixture1d(vec![0.0, 1.0], vec![1.0], vec![1.0, 1.0])
        .sample(4, &mut ChaCha8Rng::seed_from_u64(0));
}
