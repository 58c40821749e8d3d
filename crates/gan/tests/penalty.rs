//! Checks of the critic penalties against critics whose input gradient is known in closed
//! form (a linear critic `D(x) = x·a` has `‖∇ₓD‖ = ‖a‖` everywhere; a quadratic one
//! `D(x) = ½‖x‖²` has `∇ₓD = x`), of their parameter gradients (which need double backward)
//! against central finite differences, and of `validate`.

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, Tape, Tolerance, Var};
use gantry_gan::Penalty;
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    let scale = 1f64.max(a.abs()).max(b.abs());
    assert!(
        (a - b).abs() <= tol * scale,
        "{what}: {a} vs {b} (difference {:e})",
        (a - b).abs()
    );
}

/// A `[n, d]` batch of standard normal samples.
fn batch(n: usize, d: usize, seed: u64) -> Tensor<f64> {
    Tensor::randn(&[n, d], &mut rng(seed))
}

/// Pins a critic closure to one tape's lifetime (closures do not infer it on their own).
fn on_tape<'t, F: Fn(Var<'t, f64>) -> Var<'t, f64>>(f: F) -> F {
    f
}

/// `a = s·(0.6, 0.8)`, so `‖a‖ = s`.
fn direction(s: f64) -> Tensor<f64> {
    Tensor::from_vec(vec![0.6 * s, 0.8 * s], &[2, 1])
}

/// The penalty of a linear critic `D(x) = x·a` on a batch of 8 random points.
fn linear_penalty(p: Penalty, norm_a: f64, seed: u64) -> Option<f64> {
    let tape = Tape::<f64>::new();
    let a = tape.var(direction(norm_a));
    let critic = on_tape(|x| x.matmul(a));
    let (real, fake) = (batch(8, 2, 1), batch(8, 2, 2).mul_scalar(3.0));
    p.loss(&tape, &critic, &real, &fake, &mut rng(seed))
        .map(|v| v.item())
}

#[test]
fn gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared() {
    for norm_a in [0.0, 0.3, 1.0, 2.5, 7.0] {
        for lambda in [1.0, 10.0] {
            let exact = lambda * (norm_a - 1.0f64).powi(2);
            for seed in 0..3 {
                let p = Penalty::GradientPenalty {
                    lambda,
                    one_sided: false,
                };
                let gp = linear_penalty(p, norm_a, seed).expect("a loss term");
                // ‖∇‖ is computed as √(‖∇‖² + 1e-12), which moves it by at most 1e-6 at 0.
                assert_close(
                    gp,
                    exact,
                    1e-5,
                    &format!("GP, ‖a‖ = {norm_a}, λ = {lambda}"),
                );
                let dragan = linear_penalty(Penalty::Dragan { lambda }, norm_a, seed).unwrap();
                assert_close(dragan, exact, 1e-5, &format!("DRAGAN, ‖a‖ = {norm_a}"));
            }
        }
    }
}

#[test]
fn one_sided_gradient_penalty_vanishes_below_norm_one() {
    let one_sided = Penalty::GradientPenalty {
        lambda: 10.0,
        one_sided: true,
    };
    for norm_a in [0.0, 0.3, 0.99] {
        assert_eq!(
            linear_penalty(one_sided, norm_a, 0),
            Some(0.0),
            "‖a‖ = {norm_a}"
        );
    }
    for norm_a in [1.5, 4.0] {
        let exact = 10.0 * (norm_a - 1.0f64).powi(2);
        assert_close(
            linear_penalty(one_sided, norm_a, 0).unwrap(),
            exact,
            1e-9,
            "above 1",
        );
    }
}

#[test]
fn r1_and_r2_of_a_linear_critic_are_half_gamma_norm_squared() {
    for norm_a in [0.0, 0.5, 3.0] {
        for gamma in [0.1, 10.0] {
            let exact = gamma / 2.0 * norm_a * norm_a;
            for p in [Penalty::R1 { gamma }, Penalty::R2 { gamma }] {
                assert_close(
                    linear_penalty(p, norm_a, 0).unwrap(),
                    exact,
                    1e-12,
                    &format!("{p:?}"),
                );
            }
        }
    }
}

#[test]
fn weight_clip_and_none_are_not_loss_terms() {
    assert_eq!(
        linear_penalty(Penalty::WeightClip { c: 0.01 }, 2.0, 0),
        None
    );
    assert_eq!(linear_penalty(Penalty::None, 2.0, 0), None);
}

#[test]
fn penalties_on_image_batches_sum_the_gradient_over_every_non_batch_axis() {
    // D(x) = flatten(x)·a on [n, 1, 2, 2] images: ‖∇ₓD‖ = ‖a‖ with a of length 4.
    let a_values = vec![0.5, -1.0, 2.0, 0.25];
    let norm_sq: f64 = a_values.iter().map(|x| x * x).sum();
    let (real, fake) = (
        Tensor::<f64>::randn(&[5, 1, 2, 2], &mut rng(3)),
        Tensor::<f64>::randn(&[5, 1, 2, 2], &mut rng(4)),
    );
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(a_values, &[4, 1]));
    let critic = on_tape(|x| x.reshape(&[5, 4]).matmul(a));
    let gp = Penalty::GradientPenalty {
        lambda: 10.0,
        one_sided: false,
    };
    let got = gp
        .loss(&tape, &critic, &real, &fake, &mut rng(0))
        .unwrap()
        .item();
    assert_close(
        got,
        10.0 * (norm_sq.sqrt() - 1.0).powi(2),
        1e-9,
        "GP on images",
    );
    let r1 = Penalty::R1 { gamma: 2.0 }.loss(&tape, &critic, &real, &fake, &mut rng(0));
    assert_close(r1.unwrap().item(), norm_sq, 1e-12, "R1 on images");
}

#[test]
fn gradient_penalty_is_taken_at_per_sample_interpolates() {
    // D(x) = ½‖x‖² per sample has ∇ₓD(x̂) = x̂ = ε·x_r + (1 − ε)·x_f, so the penalty
    // depends on where the interpolates are; ε ~ U[0, 1] is drawn per sample as a
    // [n, 1] tensor from the rng, which this test replays.
    let (n, lambda) = (6, 10.0);
    let (real, fake) = (batch(n, 2, 5), batch(n, 2, 6).mul_scalar(2.0));
    let tape = Tape::<f64>::new();
    let critic = on_tape(|x| x.square().sum_axes(&[1], true) * 0.5);
    let p = Penalty::GradientPenalty {
        lambda,
        one_sided: false,
    };
    let got = p
        .loss(&tape, &critic, &real, &fake, &mut rng(9))
        .unwrap()
        .item();
    let eps = Tensor::<f64>::rand_uniform(&[n, 1], 0.0, 1.0, &mut rng(9)).to_vec();
    let (r, f) = (real.to_vec(), fake.to_vec());
    let expected = (0..n)
        .map(|i| {
            let x: Vec<f64> = (0..2)
                .map(|j| eps[i] * r[2 * i + j] + (1.0 - eps[i]) * f[2 * i + j])
                .collect();
            let norm = (x[0] * x[0] + x[1] * x[1]).sqrt();
            (norm - 1.0).powi(2)
        })
        .sum::<f64>()
        * lambda
        / n as f64;
    assert_close(got, expected, 1e-9, "GP at replayed interpolates");
    // R1 and R2 use the data themselves: γ/2·E‖x‖².
    let mean_sq = |t: &Tensor<f64>| t.to_vec().iter().map(|x| x * x).sum::<f64>() / n as f64;
    let r1 = Penalty::R1 { gamma: 4.0 }
        .loss(&tape, &critic, &real, &fake, &mut rng(0))
        .unwrap()
        .item();
    let r2 = Penalty::R2 { gamma: 4.0 }
        .loss(&tape, &critic, &real, &fake, &mut rng(0))
        .unwrap()
        .item();
    assert_close(r1, 2.0 * mean_sq(&real), 1e-12, "R1");
    assert_close(r2, 2.0 * mean_sq(&fake), 1e-12, "R2");
}

/// A small tanh MLP critic `D(x) = tanh(x·W₁ + b₁)·W₂` built from `Var`s (tanh: smooth, so
/// finite differences of its second derivatives are meaningful).
fn mlp<'t>(x: Var<'t, f64>, w1: Var<'t, f64>, b1: Var<'t, f64>, w2: Var<'t, f64>) -> Var<'t, f64> {
    (x.matmul(w1) + b1).tanh().matmul(w2)
}

/// Weights large enough that some input-gradient norms exceed 1 and some do not.
fn mlp_weights() -> Vec<Tensor<f64>> {
    let mut r = rng(11);
    vec![
        Tensor::randn(&[2, 5], &mut r).mul_scalar(1.5),
        Tensor::randn(&[5], &mut r).mul_scalar(0.5),
        Tensor::randn(&[5, 1], &mut r),
    ]
}

fn all_penalties() -> Vec<Penalty> {
    vec![
        Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: false,
        },
        Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: true,
        },
        Penalty::R1 { gamma: 3.0 },
        Penalty::R2 { gamma: 3.0 },
        Penalty::Dragan { lambda: 5.0 },
    ]
}

/// The penalty through the MLP critic, with the interpolation drawn from a fresh rng of a
/// fixed seed, so every evaluation uses the same ε.
fn mlp_penalty<'t>(p: Penalty, w: &[Var<'t, f64>]) -> Var<'t, f64> {
    let (real, fake) = (batch(7, 2, 21), batch(7, 2, 22).mul_scalar(2.0));
    let critic = |x| mlp(x, w[0], w[1], w[2]);
    p.loss(w[0].tape(), &critic, &real, &fake, &mut rng(5))
        .expect("a loss term")
}

#[test]
fn penalty_parameter_gradients_match_finite_differences() {
    let weights = mlp_weights();
    for p in all_penalties() {
        gradcheck(|w| mlp_penalty(p, w), &weights, Tolerance::default())
            .unwrap_or_else(|e| panic!("{p:?}: {e}"));
    }
}

/// A two-hidden-layer LeakyReLU critic, the trainer's kind: its input gradient
/// `W₃ᵀ·M₂·W₂ᵀ·M₁·W₁ᵀ` (with constant masks M) depends on the weights only, and the
/// penalty's parameter gradient flows through those products.
#[test]
fn penalty_parameter_gradients_through_a_leaky_relu_critic_match_finite_differences() {
    let mut r = rng(12);
    let weights: Vec<Tensor<f64>> = vec![
        Tensor::randn(&[2, 6], &mut r),
        Tensor::randn(&[6], &mut r).mul_scalar(0.5),
        Tensor::randn(&[6, 4], &mut r).mul_scalar(0.7),
        Tensor::randn(&[4], &mut r).mul_scalar(0.5),
        Tensor::randn(&[4, 1], &mut r),
    ];
    let (real, fake) = (batch(9, 2, 31), batch(9, 2, 32).mul_scalar(2.0));
    for p in all_penalties() {
        let f = higher_ranked(|w| {
            let critic = on_tape(|x| {
                let h = (x.matmul(w[0]) + w[1]).leaky_relu(0.2);
                let h = (h.matmul(w[2]) + w[3]).leaky_relu(0.2);
                h.matmul(w[4])
            });
            p.loss(w[0].tape(), &critic, &real, &fake, &mut rng(5))
                .expect("a loss term")
        });
        gradcheck(f, &weights, Tolerance::default()).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    }
}

#[test]
fn gradient_penalty_weight_gradient_by_hand() {
    // The same check written out: ∂GP/∂W₁ from the tape (a backward pass through a
    // backward pass) against (GP(W₁ + h·eⱼ) − GP(W₁ − h·eⱼ)) / 2h, reseeding every time.
    let p = Penalty::GradientPenalty {
        lambda: 10.0,
        one_sided: false,
    };
    let weights = mlp_weights();
    let value_at = |w1: Tensor<f64>| {
        let tape = Tape::<f64>::new();
        let w = [
            tape.var(w1),
            tape.var(weights[1].clone()),
            tape.var(weights[2].clone()),
        ];
        mlp_penalty(p, &w).item()
    };
    let tape = Tape::<f64>::new();
    let w: Vec<_> = weights.iter().map(|t| tape.var(t.clone())).collect();
    let gp = mlp_penalty(p, &w);
    assert!(gp.item() > 1e-3, "a penalty worth checking: {}", gp.item());
    let analytic = tape.grad(gp, &[w[0]], false)[0].value().to_vec();
    let base = weights[0].to_vec();
    let h = 1e-6;
    for j in 0..base.len() {
        let shifted = |delta: f64| {
            let mut v = base.clone();
            v[j] += delta;
            value_at(Tensor::from_vec(v, &[2, 5]))
        };
        let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
        assert!(
            (analytic[j] - numeric).abs() <= 1e-6 + 1e-5 * numeric.abs(),
            "∂GP/∂W₁[{j}]: tape {} vs finite differences {numeric}",
            analytic[j]
        );
    }
}

#[test]
fn validate_rejects_negative_and_nan_coefficients_naming_the_field() {
    let bad = [
        (
            Penalty::GradientPenalty {
                lambda: -1.0,
                one_sided: false,
            },
            "penalty.lambda",
        ),
        (
            Penalty::GradientPenalty {
                lambda: f64::NAN,
                one_sided: true,
            },
            "penalty.lambda",
        ),
        (
            Penalty::GradientPenalty {
                lambda: f64::INFINITY,
                one_sided: false,
            },
            "penalty.lambda",
        ),
        (Penalty::Dragan { lambda: -0.5 }, "penalty.lambda"),
        (Penalty::R1 { gamma: -1.0 }, "penalty.gamma"),
        (Penalty::R2 { gamma: f64::NAN }, "penalty.gamma"),
        (Penalty::WeightClip { c: -0.01 }, "penalty.c"),
        (Penalty::WeightClip { c: f64::NAN }, "penalty.c"),
    ];
    for (p, field) in bad {
        let err = p.validate().expect_err(&format!("{p:?}"));
        assert!(err.contains(field), "{p:?}: {err}");
    }
    let good = [
        Penalty::None,
        Penalty::GradientPenalty {
            lambda: 0.0,
            one_sided: false,
        },
        Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: true,
        },
        Penalty::R1 { gamma: 10.0 },
        Penalty::R2 { gamma: 0.1 },
        Penalty::Dragan { lambda: 10.0 },
        Penalty::WeightClip { c: 0.01 },
    ];
    for p in good {
        assert_eq!(p.validate(), Ok(()), "{p:?}");
    }
}

#[test]
fn penalties_parse_from_toml_with_their_defaults() {
    #[derive(serde::Deserialize)]
    struct Holder {
        penalty: Penalty,
    }
    let parse = |s: &str| toml::from_str::<Holder>(s).map(|h| h.penalty);
    assert_eq!(
        parse(r#"penalty = { kind = "gradient_penalty" }"#).unwrap(),
        Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: false
        }
    );
    assert_eq!(
        parse(r#"penalty = { kind = "weight_clip" }"#).unwrap(),
        Penalty::WeightClip { c: 0.01 }
    );
    assert_eq!(
        parse(r#"penalty = { kind = "r1", gamma = 5.0 }"#).unwrap(),
        Penalty::R1 { gamma: 5.0 }
    );
    assert_eq!(
        parse(r#"penalty = { kind = "none" }"#).unwrap(),
        Penalty::None
    );
    assert!(
        parse(r#"penalty = { kind = "r1" }"#).is_err(),
        "R1 needs gamma"
    );
    assert!(
        parse(r#"penalty = { kind = "gradient_penalty", lamda = 1.0 }"#).is_err(),
        "typo"
    );
    assert!(
        parse(r#"penalty = { kind = "spectral" }"#).is_err(),
        "unknown kind"
    );
}
