//! Checks of every `Objective` against the formulas of `objective.rs`'s table, recomputed
//! here in plain `f64` with `ln` and `exp`: loss values, gradients with respect to the
//! logits (central finite differences, and closed-form derivatives at extreme logits), the
//! f-GAN critic at its optimum (the divergence itself), the minimax value at `D*`
//! (`2·JS − log 4`), and the names.
//!
//! Extreme logits: ±1e4 in `f64` and ±1e30 in `f32` give finite losses and gradients for
//! every objective except two legitimate overflows, documented where they are skipped:
//! least squares at ±1e30 in `f32` (the exact loss `½·1e60` exceeds `f32::MAX`), and the
//! f-GAN divergences whose conjugate grows exponentially (KL's `f*(g_f(v)) = exp(v − 1)`,
//! squared Hellinger's `eᵛ − 1`, and the `exp(−v)` of reverse KL and Neyman χ² for
//! `v → −∞`), whose exact values do not fit in any float at `|v| = 1e4`.

use std::f64::consts::LN_2;

use gantry_autograd::{gradcheck, Tape, Tolerance, Var};
use gantry_gan::losses::divergence::{js_divergence, Divergence};
use gantry_gan::losses::objective::{conjugate_of_output, critic_output};
use gantry_gan::metrics::wasserstein1_1d;
use gantry_gan::Objective;
use gantry_tensor::{Element, Tensor};

/// `|a − b| ≤ tol·max(1, |a|, |b|)`, with a message naming the case.
fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    let scale = 1f64.max(a.abs()).max(b.abs());
    assert!(
        (a - b).abs() <= tol * scale,
        "{what}: {a} vs {b} (difference {:e})",
        (a - b).abs()
    );
}

/// Every objective that accepts batches of different sizes (all but RSGAN, which pairs
/// samples and is checked on its own below): the eight plain ones, then each f-divergence
/// with both generator losses.
fn all_objectives() -> Vec<Objective> {
    let mut all = vec![
        Objective::Minimax,
        Objective::NonSaturating,
        Objective::Wasserstein,
        Objective::Hinge,
        Objective::LeastSquares,
        Objective::Relativistic,
        Objective::RelativisticLeastSquares,
        Objective::RelativisticHinge,
    ];
    for divergence in Divergence::ALL {
        for non_saturating in [false, true] {
            all.push(Objective::FDivergence {
                divergence,
                non_saturating,
            });
        }
    }
    all
}

// ---------------------------------------------------------------------------------------
// The reference: the table's formulas in plain f64.
// ---------------------------------------------------------------------------------------

/// `ln(1 + eˣ)` as written; above 35 it equals `x` to within an ulp (`e^(−35) ≈ 6e-16`),
/// and that branch keeps `eˣ` from overflowing.
fn ln1pexp(x: f64) -> f64 {
    if x > 35.0 {
        x
    } else {
        (1.0 + x.exp()).ln()
    }
}

/// `σ(x) = 1 / (1 + e⁻ˣ)`, as written (it saturates correctly to 0 and 1 in f64).
fn sigma(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn mean_of(v: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    v.iter().map(|&x| f(x)).sum::<f64>() / v.len() as f64
}

/// Nowozin et al.'s output activation `g_f(v)`, from the divergence table.
fn g_f(d: Divergence, v: f64) -> f64 {
    match d {
        Divergence::TotalVariation => 0.5 * v.tanh(),
        Divergence::Kl | Divergence::Pearson => v,
        Divergence::ReverseKl => -(-v).exp(),
        Divergence::Neyman | Divergence::SquaredHellinger => 1.0 - (-v).exp(),
        Divergence::JensenShannon => LN_2 - ln1pexp(-v),
        Divergence::Gan => -ln1pexp(-v),
    }
}

/// The Fenchel conjugate `f*(t)`, from the divergence table.
fn f_star(d: Divergence, t: f64) -> f64 {
    match d {
        Divergence::TotalVariation => t,
        Divergence::Kl => (t - 1.0).exp(),
        Divergence::ReverseKl => -1.0 - (-t).ln(),
        Divergence::Pearson => t * t / 4.0 + t,
        Divergence::Neyman => 2.0 - 2.0 * (1.0 - t).sqrt(),
        Divergence::SquaredHellinger => t / (1.0 - t),
        Divergence::JensenShannon => -(2.0 - t.exp()).ln(),
        Divergence::Gan => -(1.0 - t.exp()).ln(),
    }
}

/// `f*(g_f(v))` as the composition of the two table entries (accurate for moderate `v`).
fn f_star_g(d: Divergence, v: f64) -> f64 {
    f_star(d, g_f(d, v))
}

/// `f*(g_f(v))` in closed form, for the bounded conjugates at saturated logits where the
/// composition would lose everything to rounding: GAN `ln(1 + eᵛ)` (since `g_f(v) = ln σ(v)`
/// and `−ln(1 − σ(v)) = ln(1 + eᵛ)`), Jensen–Shannon `ln(1 + eᵛ) − ln 2`, total variation
/// `½·tanh v`.
fn f_star_g_saturated(d: Divergence, v: f64) -> f64 {
    match d {
        Divergence::Gan => ln1pexp(v),
        Divergence::JensenShannon => ln1pexp(v) - LN_2,
        Divergence::TotalVariation => 0.5 * v.tanh(),
        _ => unreachable!("{d} is not tested at saturated logits"),
    }
}

/// `(d_loss, g_loss)` from the table, for real logits `vr` and fake logits `vf`.
fn reference(o: Objective, vr: &[f64], vf: &[f64], saturated: bool) -> (f64, f64) {
    let (mr, mf) = (mean(vr), mean(vf));
    match o {
        Objective::Minimax | Objective::NonSaturating => {
            // E ln(1 + e^−v_r) + E ln(1 + e^v_f)
            let d = mean_of(vr, |v| ln1pexp(-v)) + mean_of(vf, ln1pexp);
            let g = if o == Objective::Minimax {
                -mean_of(vf, ln1pexp)
            } else {
                mean_of(vf, |v| ln1pexp(-v))
            };
            (d, g)
        }
        Objective::Wasserstein => (mf - mr, -mf),
        Objective::Hinge => (
            mean_of(vr, |v| (1.0 - v).max(0.0)) + mean_of(vf, |v| (1.0 + v).max(0.0)),
            -mf,
        ),
        Objective::LeastSquares => (
            0.5 * mean_of(vr, |v| (v - 1.0).powi(2)) + 0.5 * mean_of(vf, |v| v * v),
            0.5 * mean_of(vf, |v| (v - 1.0).powi(2)),
        ),
        Objective::Relativistic => {
            let ra = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
                mean_of(a, |v| ln1pexp(-(v - mb))) + mean_of(b, |v| ln1pexp(v - ma))
            };
            (ra(vr, mr, vf, mf), ra(vf, mf, vr, mr))
        }
        Objective::RelativisticPaired => {
            let pairs = |a: &[f64], b: &[f64]| {
                let each: Vec<f64> = a.iter().zip(b).map(|(x, y)| ln1pexp(-(x - y))).collect();
                mean(&each)
            };
            (pairs(vr, vf), pairs(vf, vr))
        }
        Objective::RelativisticLeastSquares => {
            let ra = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
                mean_of(a, |v| (v - mb - 1.0).powi(2)) + mean_of(b, |v| (v - ma + 1.0).powi(2))
            };
            (ra(vr, mr, vf, mf), ra(vf, mf, vr, mr))
        }
        Objective::RelativisticHinge => {
            let ra = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
                mean_of(a, |v| (1.0 - (v - mb)).max(0.0)) + mean_of(b, |v| (1.0 + v - ma).max(0.0))
            };
            (ra(vr, mr, vf, mf), ra(vf, mf, vr, mr))
        }
        Objective::FDivergence {
            divergence: d,
            non_saturating,
        } => {
            let conj = |v| {
                if saturated {
                    f_star_g_saturated(d, v)
                } else {
                    f_star_g(d, v)
                }
            };
            let dl = -(mean_of(vr, |v| g_f(d, v)) - mean_of(vf, conj));
            let gl = if non_saturating {
                -mean_of(vf, |v| g_f(d, v))
            } else {
                -mean_of(vf, conj)
            };
            (dl, gl)
        }
    }
}

/// `g_f′(v)` and `(f*∘g_f)′(v)` for the bounded conjugates (GAN, JS, TV).
fn g_f_and_conjugate_slopes(d: Divergence, v: f64) -> (f64, f64) {
    match d {
        Divergence::Gan | Divergence::JensenShannon => (sigma(-v), sigma(v)),
        Divergence::TotalVariation => {
            let s = 0.5 * (1.0 - v.tanh().powi(2));
            (s, s)
        }
        _ => unreachable!("{d} is not tested at saturated logits"),
    }
}

/// The closed-form gradients `(∂d_loss/∂v_r, ∂d_loss/∂v_f, ∂g_loss/∂v_f, ∂g_loss/∂v_r)`.
fn reference_gradients(o: Objective, vr: &[f64], vf: &[f64]) -> [Vec<f64>; 4] {
    let (nr, nf) = (vr.len() as f64, vf.len() as f64);
    let each = |v: &[f64], f: &dyn Fn(f64) -> f64| v.iter().map(|&x| f(x)).collect::<Vec<_>>();
    let zeros = vec![0.0; vr.len()];
    match o {
        Objective::Minimax | Objective::NonSaturating => [
            each(vr, &|v| -sigma(-v) / nr),
            each(vf, &|v| sigma(v) / nf),
            if o == Objective::Minimax {
                each(vf, &|v| -sigma(v) / nf)
            } else {
                each(vf, &|v| -sigma(-v) / nf)
            },
            zeros,
        ],
        Objective::Wasserstein => [
            each(vr, &|_| -1.0 / nr),
            each(vf, &|_| 1.0 / nf),
            each(vf, &|_| -1.0 / nf),
            zeros,
        ],
        Objective::Hinge => [
            each(vr, &|v| if 1.0 - v > 0.0 { -1.0 / nr } else { 0.0 }),
            each(vf, &|v| if 1.0 + v > 0.0 { 1.0 / nf } else { 0.0 }),
            each(vf, &|_| -1.0 / nf),
            zeros,
        ],
        Objective::LeastSquares => [
            each(vr, &|v| (v - 1.0) / nr),
            each(vf, &|v| v / nf),
            each(vf, &|v| (v - 1.0) / nf),
            zeros,
        ],
        Objective::Relativistic => {
            // L(a, b) = E_a ln(1 + e^−(a − b̄)) + E_b ln(1 + e^(b − ā)):
            // ∂L/∂a_k = −σ(−(a_k − b̄))/n_a − E_b σ(b − ā)/n_a,
            // ∂L/∂b_k = E_a σ(−(a − b̄))/n_b + σ(b_k − ā)/n_b.
            let grads = |a: &[f64], b: &[f64]| {
                let (ma, mb) = (mean(a), mean(b));
                let (na, nb) = (a.len() as f64, b.len() as f64);
                let s_b = mean_of(b, |v| sigma(v - ma));
                let s_a = mean_of(a, |v| sigma(-(v - mb)));
                (
                    each(a, &|v| (-sigma(-(v - mb)) - s_b) / na),
                    each(b, &|v| (s_a + sigma(v - ma)) / nb),
                )
            };
            let (d_r, d_f) = grads(vr, vf);
            let (g_f, g_r) = grads(vf, vr);
            [d_r, d_f, g_f, g_r]
        }
        Objective::RelativisticPaired => {
            // L(a, b) = E ln(1 + e^−(a_k − b_k)): ∂L/∂a_k = −σ(−(a_k − b_k))/n = −∂L/∂b_k.
            let n = vr.len() as f64;
            let grads = |a: &[f64], b: &[f64]| {
                let da: Vec<f64> = a.iter().zip(b).map(|(x, y)| -sigma(-(x - y)) / n).collect();
                let db = da.iter().map(|g| -g).collect();
                (da, db)
            };
            let (d_r, d_f) = grads(vr, vf);
            let (g_f, g_r) = grads(vf, vr);
            [d_r, d_f, g_f, g_r]
        }
        Objective::RelativisticLeastSquares => {
            // L(a, b) = E_a (a − b̄ − 1)² + E_b (b − ā + 1)²:
            // ∂L/∂a_k = 2(a_k − b̄ − 1)/n_a − 2·E_b (b − ā + 1)/n_a,
            // ∂L/∂b_k = −2·E_a (a − b̄ − 1)/n_b + 2(b_k − ā + 1)/n_b.
            let grads = |a: &[f64], b: &[f64]| {
                let (ma, mb) = (mean(a), mean(b));
                let (na, nb) = (a.len() as f64, b.len() as f64);
                let e_b = mean_of(b, |v| v - ma + 1.0);
                let e_a = mean_of(a, |v| v - mb - 1.0);
                (
                    each(a, &|v| 2.0 * ((v - mb - 1.0) - e_b) / na),
                    each(b, &|v| 2.0 * ((v - ma + 1.0) - e_a) / nb),
                )
            };
            let (d_r, d_f) = grads(vr, vf);
            let (g_f, g_r) = grads(vf, vr);
            [d_r, d_f, g_f, g_r]
        }
        Objective::RelativisticHinge => {
            // L(a, b) = E_a relu(1 − a + b̄) + E_b relu(1 + b − ā), with 1[·] the active terms:
            // ∂L/∂a_k = −1[1 − a_k + b̄ > 0]/n_a − E_b 1[1 + b − ā > 0]/n_a,
            // ∂L/∂b_k = E_a 1[1 − a + b̄ > 0]/n_b + 1[1 + b_k − ā > 0]/n_b.
            let on = |x: f64| if x > 0.0 { 1.0 } else { 0.0 };
            let grads = |a: &[f64], b: &[f64]| {
                let (ma, mb) = (mean(a), mean(b));
                let (na, nb) = (a.len() as f64, b.len() as f64);
                let e_b = mean_of(b, |v| on(1.0 + v - ma));
                let e_a = mean_of(a, |v| on(1.0 - v + mb));
                (
                    each(a, &|v| (-on(1.0 - v + mb) - e_b) / na),
                    each(b, &|v| (e_a + on(1.0 + v - ma)) / nb),
                )
            };
            let (d_r, d_f) = grads(vr, vf);
            let (g_f, g_r) = grads(vf, vr);
            [d_r, d_f, g_f, g_r]
        }
        Objective::FDivergence {
            divergence: d,
            non_saturating,
        } => [
            each(vr, &|v| -g_f_and_conjugate_slopes(d, v).0 / nr),
            each(vf, &|v| g_f_and_conjugate_slopes(d, v).1 / nf),
            each(vf, &|v| {
                let (g, c) = g_f_and_conjugate_slopes(d, v);
                -(if non_saturating { g } else { c }) / nf
            }),
            zeros,
        ],
    }
}

// ---------------------------------------------------------------------------------------
// Running the objectives on a tape.
// ---------------------------------------------------------------------------------------

/// Logits shaped like a critic's output, `[n, 1]`.
fn column<E: Element>(v: &[f64]) -> Tensor<E> {
    Tensor::from_vec(
        v.iter().map(|&x| E::from_f64_lossy(x)).collect(),
        &[v.len(), 1],
    )
}

fn to_f64<E: Element>(t: &Tensor<E>) -> Vec<f64> {
    t.to_vec().iter().map(|x| x.to_f64().unwrap()).collect()
}

/// What one tape computes: both losses and their gradients, as `f64`.
struct Evaluated {
    d_loss: f64,
    g_loss: f64,
    /// `[∂d/∂v_r, ∂d/∂v_f, ∂g/∂v_f, ∂g/∂v_r]`.
    grads: [Vec<f64>; 4],
}

fn evaluate<E: Element>(o: Objective, vr: &[f64], vf: &[f64]) -> Evaluated {
    let tape = Tape::<E>::new();
    let (r, f) = (tape.var(column(vr)), tape.var(column(vf)));
    let d = o.d_loss(r, f);
    let g = o.g_loss(f, r);
    let dg = tape.grad_values(d, &[r, f]);
    let gg = tape.grad_values(g, &[f, r]);
    Evaluated {
        d_loss: d.item().to_f64().unwrap(),
        g_loss: g.item().to_f64().unwrap(),
        grads: [
            to_f64(&dg[0]),
            to_f64(&dg[1]),
            to_f64(&gg[0]),
            to_f64(&gg[1]),
        ],
    }
}

const VR: [f64; 4] = [0.3, -1.2, 2.0, 0.7];
const VF: [f64; 3] = [-0.5, 1.1, -2.2];

#[test]
fn every_loss_matches_its_formula_on_small_logits() {
    for o in all_objectives() {
        let (d, g) = reference(o, &VR, &VF, false);
        let got = evaluate::<f64>(o, &VR, &VF);
        assert_close(got.d_loss, d, 1e-12, &format!("{o} d_loss"));
        assert_close(got.g_loss, g, 1e-12, &format!("{o} g_loss"));
    }
}

#[test]
fn f_gan_conjugates_in_closed_form_equal_the_composition() {
    // The simplified `f*(g_f(v))` of `conjugate_of_output` against `f*` of `g_f` from the
    // table, and `critic_output` against `g_f`, over a grid of moderate logits.
    let vs: Vec<f64> = (-40..=40).map(|i| i as f64 / 8.0).collect();
    for d in Divergence::ALL {
        let tape = Tape::<f64>::new();
        let v = tape.constant(column(&vs));
        let (t, c) = (
            critic_output(d, v).value().to_vec(),
            conjugate_of_output(d, v).value().to_vec(),
        );
        for (i, &x) in vs.iter().enumerate() {
            assert_close(t[i], g_f(d, x), 1e-12, &format!("{d}: g_f({x})"));
            assert_close(c[i], f_star_g(d, x), 1e-10, &format!("{d}: f*(g_f({x}))"));
        }
    }
}

#[test]
fn every_gradient_wrt_logits_matches_finite_differences() {
    let inputs = [column::<f64>(&VR), column::<f64>(&VF)];
    for o in all_objectives() {
        gradcheck(|xs| o.d_loss(xs[0], xs[1]), &inputs, Tolerance::default())
            .unwrap_or_else(|e| panic!("{o} d_loss: {e}"));
        // The generator's loss takes (fake, real).
        gradcheck(|xs| o.g_loss(xs[1], xs[0]), &inputs, Tolerance::default())
            .unwrap_or_else(|e| panic!("{o} g_loss: {e}"));
    }
}

/// The objectives whose losses stay finite at any finite logits: the six plain ones, and
/// the f-GANs whose `f*(g_f(v))` grows at most linearly (GAN, JS) or is bounded (TV).
fn saturation_safe() -> Vec<Objective> {
    all_objectives()
        .into_iter()
        .filter(|o| match o {
            Objective::FDivergence { divergence, .. } => matches!(
                divergence,
                Divergence::Gan | Divergence::JensenShannon | Divergence::TotalVariation
            ),
            _ => true,
        })
        .collect()
}

/// Logits at ±`big`, mixed with moderate ones; the means do not cancel (`Σ v_r = 2·big`,
/// `Σ v_f = −2·big` in any order of summation), so `f32` has nothing to lose.
fn extreme(big: f64) -> ([f64; 4], [f64; 4]) {
    ([big, -big, 0.5, 2.0 * big], [-big, big, -0.3, -2.0 * big])
}

fn check_extreme<E: Element>(o: Objective, big: f64, tol: f64) {
    let (vr, vf) = extreme(big);
    let got = evaluate::<E>(o, &vr, &vf);
    let (d, g) = reference(o, &vr, &vf, true);
    let what = format!("{o} at ±{big:e} in {}", E::DTYPE);
    assert!(
        got.d_loss.is_finite() && got.g_loss.is_finite(),
        "{what}: losses not finite"
    );
    assert_close(got.d_loss, d, tol, &format!("{what}: d_loss"));
    assert_close(got.g_loss, g, tol, &format!("{what}: g_loss"));
    let expected = reference_gradients(o, &vr, &vf);
    let names = ["∂d/∂v_r", "∂d/∂v_f", "∂g/∂v_f", "∂g/∂v_r"];
    for k in 0..4 {
        for (i, (&a, &b)) in got.grads[k].iter().zip(&expected[k]).enumerate() {
            assert!(a.is_finite(), "{what}: {}[{i}] = {a}", names[k]);
            assert_close(a, b, tol, &format!("{what}: {}[{i}]", names[k]));
        }
    }
}

#[test]
fn extreme_logits_give_finite_exact_losses_and_gradients_in_f64() {
    for o in saturation_safe() {
        check_extreme::<f64>(o, 1e4, 1e-12);
    }
}

#[test]
fn extreme_logits_give_finite_exact_losses_and_gradients_in_f32() {
    for o in saturation_safe() {
        check_extreme::<f32>(o, 1e4, 1e-6);
        // ½·(1e30)² = 5e59 does not fit in an f32 (max 3.4e38): least squares (plain and
        // relativistic) overflows legitimately there, as its exact value would.
        if !matches!(
            o,
            Objective::LeastSquares | Objective::RelativisticLeastSquares
        ) {
            check_extreme::<f32>(o, 1e30, 1e-6);
        }
    }
}

#[test]
fn least_squares_at_1e30_overflows_only_in_f32() {
    let (vr, vf) = extreme(1e30);
    check_extreme::<f64>(Objective::LeastSquares, 1e30, 1e-12);
    let got = evaluate::<f32>(Objective::LeastSquares, &vr, &vf);
    assert!(
        got.d_loss.is_infinite(),
        "½·1e60 should overflow f32: {}",
        got.d_loss
    );
}

#[test]
fn extreme_logit_gradients_also_match_finite_differences() {
    // At ±1e4 in f64, v ± 1e-6 is still representable and the losses are piecewise
    // smooth there, so the finite differences are meaningful.
    let (vr, vf) = extreme(1e4);
    let inputs = [column::<f64>(&vr), column::<f64>(&vf)];
    for o in saturation_safe() {
        // Least squares is quadratic, so its central differences are exact for any step:
        // a large one keeps the rounding of its 1e8-sized values out of the quotient.
        let tol = if o == Objective::LeastSquares {
            Tolerance {
                eps: 1e-2,
                ..Tolerance::default()
            }
        } else {
            Tolerance::default()
        };
        gradcheck(|xs| o.d_loss(xs[0], xs[1]), &inputs, tol)
            .unwrap_or_else(|e| panic!("{o} d_loss at ±1e4: {e}"));
        gradcheck(|xs| o.g_loss(xs[1], xs[0]), &inputs, tol)
            .unwrap_or_else(|e| panic!("{o} g_loss at ±1e4: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// The critic at its optimum.
// ---------------------------------------------------------------------------------------

/// Masses in twentieths, so that a batch of 20 logits holding `20·pᵢ` copies of `vᵢ` has
/// the `p`-weighted mean as its plain mean.
const P20: [usize; 4] = [2, 4, 6, 8];
const Q20: [usize; 4] = [5, 5, 8, 2];

fn masses(m: [usize; 4]) -> Vec<f64> {
    m.iter().map(|&k| k as f64 / 20.0).collect()
}

/// The logit `v` with `g_f(v) = f′(u)`, inverting each output activation by hand:
/// KL `v = 1 + ln u`; reverse KL `−e^(−v) = −1/u ⇒ v = ln u`; Pearson `v = 2(u − 1)`;
/// Neyman `1 − e^(−v) = 1 − 1/u² ⇒ v = 2 ln u`; Hellinger `1 − e^(−v) = 1 − 1/√u ⇒
/// v = ½ ln u`; JS `ln 2 − ln(1 + e^(−v)) = ln(2u/(1 + u)) ⇒ v = ln u`; GAN likewise
/// `v = ln u`; TV needs `½·tanh v = ±½`, which `tanh` reaches in f64 at `|v| = 40`.
fn optimal_logit(d: Divergence, u: f64) -> f64 {
    match d {
        Divergence::TotalVariation => 40.0 * (u - 1.0).signum() * f64::from(u != 1.0),
        Divergence::Kl => 1.0 + u.ln(),
        Divergence::ReverseKl | Divergence::JensenShannon | Divergence::Gan => u.ln(),
        Divergence::Pearson => 2.0 * (u - 1.0),
        Divergence::Neyman => 2.0 * u.ln(),
        Divergence::SquaredHellinger => 0.5 * u.ln(),
    }
}

#[test]
fn optimal_f_gan_critic_attains_the_divergence() {
    let (p, q) = (masses(P20), masses(Q20));
    for d in Divergence::ALL {
        let v: Vec<f64> = p
            .iter()
            .zip(&q)
            .map(|(pi, qi)| optimal_logit(d, pi / qi))
            .collect();
        // The logits really are optimal: g_f(vᵢ) = f′(pᵢ/qᵢ).
        for (i, &vi) in v.iter().enumerate() {
            assert_close(
                g_f(d, vi),
                d.f_prime(p[i] / q[i]),
                1e-12,
                &format!("{d}: g_f(v{i})"),
            );
        }
        let tape = Tape::<f64>::new();
        let vt = tape.constant(column(&v));
        let t = critic_output(d, vt).value().to_vec();
        let c = conjugate_of_output(d, vt).value().to_vec();
        let bound: f64 = (0..4).map(|i| p[i] * t[i] - q[i] * c[i]).sum();
        let exact = d.divergence(&p, &q);
        assert_close(bound, exact, 1e-9, &format!("{d}: E_P T − E_Q f*(T) at T*"));
        // The same through the objective: a batch with 20·pᵢ copies of vᵢ as real logits
        // and 20·qᵢ copies as fake logits makes the plain means p- and q-weighted sums.
        let repeat = |m: [usize; 4]| -> Vec<f64> {
            (0..4)
                .flat_map(|i| std::iter::repeat_n(v[i], m[i]))
                .collect()
        };
        let o = Objective::FDivergence {
            divergence: d,
            non_saturating: false,
        };
        let loss = o.d_loss(
            tape.constant(column(&repeat(P20))),
            tape.constant(column(&repeat(Q20))),
        );
        assert_close(
            -loss.item(),
            exact,
            1e-9,
            &format!("{d}: −d_loss at the optimal critic"),
        );
    }
}

#[test]
fn minimax_value_at_the_optimal_discriminator_is_2js_minus_log4() {
    let (p, q) = (masses(P20), masses(Q20));
    let expected = 2.0 * js_divergence(&p, &q) - 4f64.ln();
    // D* = p/(p + q), summed directly.
    let direct: f64 = (0..4)
        .map(|i| {
            let d = p[i] / (p[i] + q[i]);
            p[i] * d.ln() + q[i] * (1.0 - d).ln()
        })
        .sum();
    assert_close(direct, expected, 1e-12, "Σ p log D* + Σ q log(1 − D*)");
    // Through the objective: σ(v) = D* for v = ln(p/q), weights by repetition.
    let v: Vec<f64> = (0..4).map(|i| (p[i] / q[i]).ln()).collect();
    let repeat = |m: [usize; 4]| -> Vec<f64> {
        (0..4)
            .flat_map(|i| std::iter::repeat_n(v[i], m[i]))
            .collect()
    };
    let tape = Tape::<f64>::new();
    for o in [Objective::Minimax, Objective::NonSaturating] {
        let loss = o.d_loss(
            tape.constant(column(&repeat(P20))),
            tape.constant(column(&repeat(Q20))),
        );
        assert_close(
            -loss.item(),
            expected,
            1e-12,
            &format!("{o}: −d_loss at D*"),
        );
    }
    // And f-GAN's "GAN" divergence is the same number.
    assert_close(Divergence::Gan.divergence(&p, &q), expected, 1e-12, "D_GAN");
}

#[test]
fn disjoint_supports_js_is_log2_whatever_the_distance_while_w1_is_the_distance() {
    for theta in [0.01, 0.5, 1.0, 3.0, 1e3] {
        // Point masses at 0 (P) and θ (Q), on the support {0, θ}.
        let (p, q) = ([1.0, 0.0], [0.0, 1.0]);
        assert_close(
            js_divergence(&p, &q),
            LN_2,
            1e-15,
            &format!("JS at θ = {theta}"),
        );
        assert_close(
            wasserstein1_1d(&[0.0], &[theta]),
            theta,
            1e-15,
            &format!("W1 at θ = {theta}"),
        );
        let many = |x: f64| vec![x; 50];
        assert_close(
            wasserstein1_1d(&many(0.0), &many(theta)),
            theta,
            1e-12,
            "W1 of samples",
        );
    }
    // The minimax value with a (nearly) perfect discriminator on disjoint supports is
    // 2·log 2 − log 4 = 0: logits ±1e4 on P's and Q's points.
    let tape = Tape::<f64>::new();
    let loss = Objective::Minimax.d_loss(
        tape.constant(column(&[1e4])),
        tape.constant(column(&[-1e4])),
    );
    assert_close(
        -loss.item(),
        2.0 * LN_2 - 4f64.ln(),
        1e-12,
        "minimax value, disjoint",
    );
}

// ---------------------------------------------------------------------------------------
// Names.
// ---------------------------------------------------------------------------------------

#[test]
fn every_objective_name_round_trips() {
    for o in all_objectives() {
        let name = o.to_string();
        assert_eq!(name.parse::<Objective>(), Ok(o), "{name}");
    }
    let named = [
        ("minimax", Objective::Minimax),
        ("non_saturating", Objective::NonSaturating),
        ("wasserstein", Objective::Wasserstein),
        ("hinge", Objective::Hinge),
        ("least_squares", Objective::LeastSquares),
        ("relativistic", Objective::Relativistic),
        ("rsgan", Objective::RelativisticPaired),
        ("ralsgan", Objective::RelativisticLeastSquares),
        ("rahinge", Objective::RelativisticHinge),
        (
            "fgan:kl",
            Objective::FDivergence {
                divergence: Divergence::Kl,
                non_saturating: false,
            },
        ),
        (
            "fgan-ns:reverse_kl",
            Objective::FDivergence {
                divergence: Divergence::ReverseKl,
                non_saturating: true,
            },
        ),
        (
            "fgan:jensen_shannon",
            Objective::FDivergence {
                divergence: Divergence::JensenShannon,
                non_saturating: false,
            },
        ),
    ];
    for (name, o) in named {
        assert_eq!(name.parse::<Objective>(), Ok(o), "{name}");
        assert_eq!(o.to_string(), name);
    }
    // Serde goes through the same strings.
    let json = serde_json::to_string(&named[10].1).unwrap();
    assert_eq!(json, "\"fgan-ns:reverse_kl\"");
    assert_eq!(
        serde_json::from_str::<Objective>(&json).unwrap(),
        named[10].1
    );
}

#[test]
fn unknown_objective_names_are_rejected_with_the_valid_ones_listed() {
    for bad in [
        "wgan",
        "fgan:kullback",
        "fgan",
        "fgan-ns:",
        "Minimax",
        "hinge ",
        "fgan:kl:x",
        "",
    ] {
        let err = bad.parse::<Objective>().expect_err(bad);
        assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        for valid in [
            "minimax",
            "non_saturating",
            "wasserstein",
            "hinge",
            "least_squares",
            "relativistic",
            "rsgan",
            "ralsgan",
            "rahinge",
            "fgan:",
            "fgan-ns:",
        ] {
            assert!(err.contains(valid), "{bad}: '{valid}' missing from: {err}");
        }
        for d in Divergence::ALL {
            assert!(
                err.contains(d.name()),
                "{bad}: '{}' missing from: {err}",
                d.name()
            );
        }
    }
}

#[test]
fn wasserstein_is_the_only_wasserstein_objective() {
    for o in all_objectives() {
        assert_eq!(o.is_wasserstein(), o == Objective::Wasserstein, "{o}");
    }
}

/// The losses reduce to scalars of the tape's element type, and accept `Var`s of any
/// batch shape the critic produces.
#[test]
fn losses_are_scalars_for_any_batch_shape() {
    let tape = Tape::<f32>::new();
    let r: Var<'_, f32> = tape.constant(Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[6]));
    let f = tape.constant(Tensor::from_vec(vec![-0.1, 0.2, -0.3], &[3, 1]));
    for o in all_objectives() {
        assert_eq!(o.d_loss(r, f).shape(), Vec::<usize>::new(), "{o}");
        assert_eq!(o.g_loss(f, r).shape(), Vec::<usize>::new(), "{o}");
    }
}

/// RSGAN pairs the i-th real with the i-th fake sample, so it is checked on batches of
/// equal size: values and gradients against the formulas, at moderate and extreme logits,
/// and against finite differences.
#[test]
fn rsgan_matches_its_formula_on_paired_batches() {
    let o = Objective::RelativisticPaired;
    assert!(o.is_relativistic() && !o.is_wasserstein());
    let vf = [-0.5, 1.1, -2.2, 0.4];
    let (d, g) = reference(o, &VR, &vf, false);
    let got = evaluate::<f64>(o, &VR, &vf);
    assert_close(got.d_loss, d, 1e-12, "rsgan d_loss");
    assert_close(got.g_loss, g, 1e-12, "rsgan g_loss");
    let inputs = [column::<f64>(&VR), column::<f64>(&vf)];
    gradcheck(|xs| o.d_loss(xs[0], xs[1]), &inputs, Tolerance::default())
        .unwrap_or_else(|e| panic!("rsgan d_loss: {e}"));
    gradcheck(|xs| o.g_loss(xs[1], xs[0]), &inputs, Tolerance::default())
        .unwrap_or_else(|e| panic!("rsgan g_loss: {e}"));
    check_extreme::<f64>(o, 1e4, 1e-12);
    check_extreme::<f32>(o, 1e4, 1e-6);
    check_extreme::<f32>(o, 1e30, 1e-6);
}

#[test]
fn only_the_relativistic_objectives_need_real_samples_for_the_generator() {
    for o in all_objectives() {
        let relativistic = matches!(
            o,
            Objective::Relativistic
                | Objective::RelativisticLeastSquares
                | Objective::RelativisticHinge
        );
        assert_eq!(o.is_relativistic(), relativistic, "{o}");
    }
}
