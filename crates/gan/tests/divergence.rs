//! Checks of the f-divergence table, each against an independent derivation: a numeric
//! supremum for the conjugates, the Fenchel–Young equality, the variational bound, and the
//! Jensen–Shannon divergence computed from its definition.

use std::f64::consts::LN_2;

use gantry_gan::losses::divergence::{js_divergence, kl, Divergence, Endpoint, Interval};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `|a − b| ≤ tol·max(1, |a|, |b|)`, with a message naming the case.
fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    let scale = 1f64.max(a.abs()).max(b.abs());
    assert!(
        (a - b).abs() <= tol * scale,
        "{what}: {a} vs {b} (difference {:e})",
        (a - b).abs()
    );
}

/// `sup_{u > 0} (t·u − f(u))` by golden-section search over `s = log u ∈ [−40, 40]`.
///
/// `u ↦ t·u − f(u)` is concave (f is convex), so it is unimodal in u and, since `u = eˢ` is
/// increasing, unimodal in s: golden-section search converges to the supremum (or to its
/// limit at an end of the bracket, where u is 4e-18 or 2e17).
fn numeric_conjugate(d: Divergence, t: f64) -> f64 {
    let objective = |s: f64| {
        let u = s.exp();
        t * u - d.f(u)
    };
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    let mut c = hi - ratio * (hi - lo);
    let mut e = lo + ratio * (hi - lo);
    let (mut fc, mut fe) = (objective(c), objective(e));
    for _ in 0..300 {
        if fc >= fe {
            hi = e;
            e = c;
            fe = fc;
            c = hi - ratio * (hi - lo);
            fc = objective(c);
        } else {
            lo = c;
            c = e;
            fc = fe;
            e = lo + ratio * (hi - lo);
            fe = objective(e);
        }
    }
    fc.max(fe)
}

/// Points t inside dom f* (and, for TV and Pearson, at or above f′(0), where the table's
/// conjugate of f extended to ℝ agrees with the supremum over u ≥ 0).
fn interior_points(d: Divergence) -> Vec<f64> {
    match d {
        Divergence::TotalVariation => vec![-0.5, -0.3, 0.0, 0.2, 0.5],
        Divergence::Kl => vec![-3.0, -1.0, 0.0, 1.0, 2.5],
        Divergence::ReverseKl => vec![-10.0, -2.0, -1.0, -0.5, -0.1],
        Divergence::Pearson => vec![-1.9, -1.0, 0.0, 1.0, 4.0],
        Divergence::Neyman => vec![-5.0, -1.0, 0.0, 0.5, 0.9, 1.0],
        Divergence::SquaredHellinger => vec![-5.0, -1.0, 0.0, 0.5, 0.9],
        Divergence::JensenShannon => vec![-5.0, -1.0, 0.0, 0.5, 0.69],
        Divergence::Gan => vec![-8.0, -2.0, -0.5, -0.05, -0.01],
    }
}

#[test]
fn conjugate_equals_a_numeric_supremum() {
    for d in Divergence::ALL {
        for t in interior_points(d) {
            assert!(d.f_star_domain().contains(t), "{d} at {t}");
            let numeric = numeric_conjugate(d, t);
            assert_close(d.f_star(t), numeric, 1e-12, &format!("{d}: f*({t})"));
        }
    }
}

#[test]
fn conjugate_is_infinite_outside_its_domain() {
    let outside = [
        (Divergence::TotalVariation, 0.6),
        (Divergence::TotalVariation, -0.6),
        (Divergence::ReverseKl, 0.0),
        (Divergence::ReverseKl, 1.0),
        (Divergence::Neyman, 1.5),
        (Divergence::SquaredHellinger, 1.0),
        (Divergence::JensenShannon, LN_2),
        (Divergence::Gan, 0.0),
    ];
    for (d, t) in outside {
        assert_eq!(d.f_star(t), f64::INFINITY, "{d} at {t}");
        // The numeric supremum over u ∈ (0, e⁴⁰] agrees wherever it diverges, at least as
        // fast as log u (TV below −½ is the table's extension of f to ℝ, see f_star).
        if t > 0.0 || d != Divergence::TotalVariation {
            assert!(numeric_conjugate(d, t) > 35.0, "{d} at {t} should diverge");
        }
    }
    for d in Divergence::ALL {
        assert!(d.f_star(f64::NAN).is_nan());
    }
}

#[test]
fn fenchel_young_equality_at_the_derivative() {
    for d in Divergence::ALL {
        for u in [0.01, 0.1, 0.5, 0.9, 1.0, 1.5, 2.0, 5.0, 10.0] {
            let t = d.f_prime(u);
            assert!(d.f_star_domain().contains(t), "{d}: f'({u}) = {t}");
            let expected = u * t - d.f(u);
            assert_close(d.f_star(t), expected, 1e-12, &format!("{d}: u = {u}"));
        }
    }
}

#[test]
fn derivative_matches_central_differences() {
    for d in Divergence::ALL {
        for u in [0.2, 0.7, 1.3, 3.0, 8.0] {
            let h = 1e-6 * u;
            let numeric = (d.f(u + h) - d.f(u - h)) / (2.0 * h);
            assert_close(d.f_prime(u), numeric, 1e-7, &format!("{d}: f'({u})"));
        }
    }
}

#[test]
fn generator_vanishes_at_one_and_is_convex() {
    for d in Divergence::ALL {
        // The GAN row is the one exception: f(1) = −log 4, the value of its divergence at P = Q.
        let at_one = if d == Divergence::Gan {
            -4f64.ln()
        } else {
            0.0
        };
        assert_eq!(d.f(1.0), at_one, "{d}");
        for u in [0.05, 0.3, 1.0, 2.0, 7.0] {
            let h = 0.01 * u;
            let second = d.f(u + h) - 2.0 * d.f(u) + d.f(u - h);
            assert!(second >= -1e-14, "{d} is not convex at {u}");
        }
        assert!(d.f(-1.0).is_nan() && d.f_prime(-1.0).is_nan(), "{d}");
    }
}

#[test]
fn slope_at_infinity_is_the_limit_of_f_over_u() {
    for d in Divergence::ALL {
        let u = 1e20;
        let slope = d.f_prime_at_infinity();
        if slope.is_infinite() {
            assert!(d.f(u) / u > 20.0, "{d}");
        } else {
            assert!((d.f(u) / u - slope).abs() < 1e-9, "{d}: {}", d.f(u) / u);
        }
        // It is also the upper end of dom f*.
        match d.f_star_domain().upper {
            Endpoint::Unbounded => assert!(slope.is_infinite(), "{d}"),
            Endpoint::Open(b) | Endpoint::Closed(b) => assert_eq!(b, slope, "{d}"),
        }
    }
}

/// A random probability vector with all masses at least `floor` before normalising.
fn random_distribution(n: usize, floor: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let raw: Vec<f64> = (0..n).map(|_| floor + rng.gen::<f64>()).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|x| x / total).collect()
}

#[test]
fn optimal_critic_attains_the_variational_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for trial in 0..50 {
        let n = 2 + trial % 9;
        let p = random_distribution(n, 0.01, &mut rng);
        let q = random_distribution(n, 0.01, &mut rng);
        for d in Divergence::ALL {
            let critic: Vec<f64> = p
                .iter()
                .zip(&q)
                .map(|(pi, qi)| d.f_prime(pi / qi))
                .collect();
            let bound = |t: &[f64]| -> f64 {
                let on_p: f64 = p.iter().zip(t).map(|(pi, ti)| pi * ti).sum();
                let on_q: f64 = q.iter().zip(t).map(|(qi, ti)| qi * d.f_star(*ti)).sum();
                on_p - on_q
            };
            let exact = d.divergence(&p, &q);
            assert_close(bound(&critic), exact, 1e-12, &format!("{d}, trial {trial}"));

            // Any other critic gives at most the divergence.
            let domain = d.f_star_domain();
            let other: Vec<f64> = critic
                .iter()
                .map(|t| domain.nearest_inside(t + rng.gen_range(-0.3..0.3)))
                .collect();
            assert!(bound(&other) <= exact + 1e-12, "{d}, trial {trial}");
        }
    }
}

#[test]
fn divergences_match_their_closed_forms() {
    let p = [0.1, 0.2, 0.3, 0.4];
    let q = [0.25, 0.25, 0.4, 0.1];
    let sum =
        |g: &dyn Fn(f64, f64) -> f64| -> f64 { p.iter().zip(&q).map(|(&a, &b)| g(a, b)).sum() };
    let cases: [(Divergence, f64); 6] = [
        (Divergence::TotalVariation, 0.5 * sum(&|a, b| (a - b).abs())),
        (Divergence::Kl, sum(&|a, b| a * (a / b).ln())),
        (Divergence::ReverseKl, sum(&|a, b| b * (b / a).ln())),
        (Divergence::Pearson, sum(&|a, b| (a - b).powi(2) / b)),
        (Divergence::Neyman, sum(&|a, b| (a - b).powi(2) / a)),
        (
            Divergence::SquaredHellinger,
            sum(&|a, b| (a.sqrt() - b.sqrt()).powi(2)),
        ),
    ];
    for (d, expected) in cases {
        assert_close(d.divergence(&p, &q), expected, 1e-14, d.name());
    }
    assert_close(kl(&p, &q), Divergence::Kl.divergence(&p, &q), 1e-14, "kl");
    assert_close(
        kl(&q, &p),
        Divergence::ReverseKl.divergence(&p, &q),
        1e-14,
        "reverse kl",
    );
}

#[test]
fn jensen_shannon_and_gan_rows_are_affine_in_js() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..30 {
        let p = random_distribution(6, 0.0, &mut rng);
        let q = random_distribution(6, 0.0, &mut rng);
        // JS from its definition, independently of js_divergence's code path.
        let m: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a + b) / 2.0).collect();
        let half_kl =
            |x: &[f64]| -> f64 { x.iter().zip(&m).map(|(a, b)| 0.5 * a * (a / b).ln()).sum() };
        let js = half_kl(&p) + half_kl(&q);
        assert_close(js_divergence(&p, &q), js, 1e-14, "js");
        assert_close(js_divergence(&q, &p), js, 1e-14, "js is symmetric");
        assert_close(
            Divergence::JensenShannon.divergence(&p, &q),
            2.0 * js,
            1e-13,
            "2 js",
        );
        assert_close(
            Divergence::Gan.divergence(&p, &q),
            2.0 * js - 4f64.ln(),
            1e-13,
            "gan",
        );
    }
}

#[test]
fn js_of_disjoint_supports_is_log_two_however_far_apart() {
    // Two bumps of width 20 on a grid of 3000 points, placed `gap` cells apart.
    let bump: Vec<f64> = (0..20)
        .map(|i| ((i as f64 + 0.5) * std::f64::consts::PI / 20.0).sin())
        .collect();
    let total: f64 = bump.iter().sum();
    let place = |start: usize| -> Vec<f64> {
        let mut v = vec![0.0; 3000];
        for (i, b) in bump.iter().enumerate() {
            v[start + i] = b / total;
        }
        v
    };
    let p = place(0);
    for gap in [20, 21, 50, 500, 2980] {
        let q = place(gap);
        // Exact up to the rounding of sums of 20 masses.
        let tol = 1e-14;
        assert_close(js_divergence(&p, &q), LN_2, tol, &format!("gap {gap}"));
        assert_close(
            Divergence::JensenShannon.divergence(&p, &q),
            2.0 * LN_2,
            tol,
            "2 js",
        );
        assert_close(Divergence::Gan.divergence(&p, &q), 0.0, tol, "gan");
        assert_close(
            Divergence::TotalVariation.divergence(&p, &q),
            1.0,
            tol,
            "tv",
        );
        assert_close(
            Divergence::SquaredHellinger.divergence(&p, &q),
            2.0,
            tol,
            "hellinger",
        );
        assert_eq!(kl(&p, &q), f64::INFINITY);
        assert_eq!(Divergence::ReverseKl.divergence(&p, &q), f64::INFINITY);
        assert_eq!(Divergence::Pearson.divergence(&p, &q), f64::INFINITY);
    }
    // Overlapping bumps are strictly closer.
    for gap in [0, 5, 19] {
        assert!(js_divergence(&p, &place(gap)) < LN_2 - 1e-3, "gap {gap}");
    }
}

#[test]
fn zero_masses_take_their_limits() {
    let p = [0.5, 0.5, 0.0, 0.0];
    let q = [0.5, 0.0, 0.5, 0.0];
    // Term by term: point 0 contributes 0.5·f(1), point 1 gives 0.5·f'(∞), point 2 gives
    // 0.5·f(0⁺), point 3 gives nothing.
    for d in Divergence::ALL {
        let f_zero = d.f(0.0);
        let expected = 0.5 * d.f(1.0) + 0.5 * d.f_prime_at_infinity() + 0.5 * f_zero;
        let got = d.divergence(&p, &q);
        if expected.is_infinite() {
            assert_eq!(got, expected, "{d}");
        } else {
            assert_close(got, expected, 1e-15, d.name());
            // and f(0⁺) is the limit of f at small u.
            assert!((d.f(1e-12) - f_zero).abs() < 1e-5, "{d}");
        }
    }
    assert_eq!(kl(&[0.0, 1.0], &[0.0, 1.0]), 0.0);
}

#[test]
#[should_panic(expected = "divergence: p has 2 masses but q has 3")]
fn mismatched_lengths_panic_clearly() {
    Divergence::Kl.divergence(&[0.5, 0.5], &[0.2, 0.3, 0.5]);
}

#[test]
#[should_panic(expected = "masses must be non-negative")]
fn negative_masses_panic_clearly() {
    js_divergence(&[1.5, -0.5], &[0.5, 0.5]);
}

#[test]
fn output_activation_maps_the_real_line_into_the_domain() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut points = vec![-1e4, -700.0, -50.0, -1.0, 0.0, 1.0, 50.0, 700.0, 1e4];
    points.extend((0..500).map(|_| rng.gen_range(-30.0..30.0)));
    points.extend((0..500).map(|_| rng.gen_range(-1e4..1e4)));
    for d in Divergence::ALL {
        let domain = d.f_star_domain();
        for &v in &points {
            let t = d.output_activation(v);
            assert!(domain.contains(t), "{d}: g({v}) = {t} is outside {domain}");
            // Finite, unless the exact value overflows (KL's exp(v − 1) for v > 710).
            if d.f_star_of_activation(v).is_finite() {
                assert!(d.f_star(t).is_finite(), "{d}: f*(g({v})) = {}", d.f_star(t));
            }
        }
        // Increasing: a larger critic output means "more real".
        let mut sorted = points.clone();
        sorted.sort_by(f64::total_cmp);
        for w in sorted.windows(2) {
            assert!(
                d.output_activation(w[0]) <= d.output_activation(w[1]),
                "{d}"
            );
        }
    }
}

#[test]
fn output_activation_saturates_to_the_right_values() {
    // Exact values where f64 can hold them, independent of the softplus code path.
    let v = 3.0f64;
    let sigmoid = 1.0 / (1.0 + (-v).exp());
    assert_close(
        Divergence::Gan.output_activation(v),
        sigmoid.ln(),
        1e-15,
        "gan",
    );
    assert_close(
        Divergence::JensenShannon.output_activation(v),
        (2.0 * sigmoid).ln(),
        1e-15,
        "js",
    );
    // Far tails: softplus(−v) ≈ e^(−v) and softplus(v) ≈ v.
    let tail = Divergence::Gan.output_activation(40.0) / -(-40f64).exp();
    assert!((tail - 1.0).abs() < 1e-12, "tail ratio {tail}");
    assert_eq!(Divergence::Gan.output_activation(-1e4), -1e4);
    assert_eq!(
        Divergence::JensenShannon.output_activation(-1e4),
        LN_2 - 1e4
    );
    assert_eq!(Divergence::TotalVariation.output_activation(1e4), 0.5);
    assert_eq!(Divergence::Kl.output_activation(-1e4), -1e4);
}

#[test]
fn conjugate_of_activation_is_the_composition() {
    for d in Divergence::ALL {
        for i in 0..=40 {
            let v = -5.0 + 0.25 * i as f64;
            let composed = d.f_star(d.output_activation(v));
            assert_close(
                d.f_star_of_activation(v),
                composed,
                1e-12,
                &format!("{d} at {v}"),
            );
        }
    }
    // Stable where the composition is not: exact and finite at |v| = 10⁴ where the true value
    // fits in an f64.
    assert_eq!(Divergence::Gan.f_star_of_activation(1e4), 1e4);
    assert_eq!(Divergence::Gan.f_star_of_activation(-1e4), 0.0);
    assert_eq!(
        Divergence::JensenShannon.f_star_of_activation(1e4),
        1e4 - LN_2
    );
    assert_eq!(Divergence::ReverseKl.f_star_of_activation(1e4), 1e4 - 1.0);
    assert_eq!(Divergence::Neyman.f_star_of_activation(1e4), 2.0);
    assert_eq!(
        Divergence::SquaredHellinger.f_star_of_activation(-1e4),
        -1.0
    );
}

#[test]
fn domains_print_in_interval_notation() {
    let shown: Vec<String> = Divergence::ALL
        .iter()
        .map(|d| d.f_star_domain().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "[-0.5, 0.5]",
            "(-∞, ∞)",
            "(-∞, 0)",
            "(-∞, ∞)",
            "(-∞, 1]",
            "(-∞, 1)",
            format!("(-∞, {LN_2})").as_str(),
            "(-∞, 0)",
        ]
    );
    let open = Interval {
        lower: Endpoint::Open(0.0),
        upper: Endpoint::Open(1.0),
    };
    assert!(open.nearest_inside(-3.0) > 0.0 && open.nearest_inside(-3.0) < 1e-300);
    assert!(open.nearest_inside(2.0) < 1.0 && open.nearest_inside(2.0) > 1.0 - 1e-15);
    assert_eq!(open.nearest_inside(0.5), 0.5);
    assert!(open.nearest_inside(f64::NAN).is_nan());
}

#[test]
fn names_round_trip_through_serde() {
    let names = [
        "total_variation",
        "kl",
        "reverse_kl",
        "pearson",
        "neyman",
        "squared_hellinger",
        "jensen_shannon",
        "gan",
    ];
    for (d, name) in Divergence::ALL.into_iter().zip(names) {
        assert_eq!(d.name(), name);
        assert_eq!(d.to_string(), name);
        assert_eq!(Divergence::from_name(name), Some(d));
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{name}\""));
        assert_eq!(
            serde_json::from_str::<Divergence>(&format!("\"{name}\"")).unwrap(),
            d
        );
    }
    assert_eq!(Divergence::from_name("wasserstein"), None);
}

/// Two probability vectors of the same length (2 to 11), masses at least 1e-3 before
/// normalising.
fn two_distributions() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    let normalise = |v: Vec<f64>| -> Vec<f64> {
        let total: f64 = v.iter().sum();
        v.iter().map(|x| x / total).collect()
    };
    (2usize..12).prop_flat_map(move |n| {
        let one = prop::collection::vec(1e-3..1.0f64, n).prop_map(normalise);
        (one.clone(), one)
    })
}

proptest! {
    /// By Jensen's inequality `Σ qᵢ f(pᵢ/qᵢ) ≥ f(Σ pᵢ) = f(1)`, with equality at P = Q: 0 for
    /// every row but GAN's (−log 4).
    #[test]
    fn divergences_are_bounded_below_by_f_of_one((p, q) in two_distributions()) {
        for d in Divergence::ALL {
            prop_assert!(d.divergence(&p, &q) >= d.f(1.0) - 1e-12, "{} below f(1)", d);
            prop_assert!((d.divergence(&p, &p) - d.f(1.0)).abs() < 1e-12, "{} of p, p", d);
        }
        let js = js_divergence(&p, &q);
        prop_assert!((0.0..=LN_2 + 1e-15).contains(&js));
        prop_assert!((js - js_divergence(&q, &p)).abs() < 1e-15);
    }
}
