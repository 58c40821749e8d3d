//! Reductions against loops over every set of axes (with and without keepdim, on strided
//! views), `sum_to` against a scatter loop, and the property that `sum_to` is the adjoint of
//! `broadcast_to`.

mod common;

use common::{assert_within, broadcast_source, eps, inner, randn, ravel, unravel, values};
use gantry_tensor::{Element, Tensor};
use proptest::prelude::*;

/// Reduces the axes set in `mask` with `f` from `init`, by visiting every input element once;
/// returns the keepdim shape, the result and, per output, `Σ|x|` (to bound the rounding).
fn reduce_loop(
    shape: &[usize],
    x: &[f64],
    mask: &[bool],
    init: f64,
    f: impl Fn(f64, f64) -> f64,
) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let out_shape: Vec<usize> = shape
        .iter()
        .zip(mask)
        .map(|(&d, &m)| if m { 1 } else { d })
        .collect();
    let count: usize = out_shape.iter().product();
    let (mut out, mut abs) = (vec![init; count], vec![0.0; count]);
    for (flat, &v) in x.iter().enumerate() {
        let mut idx = unravel(flat, shape);
        for (i, &m) in mask.iter().enumerate() {
            if m {
                idx[i] = 0;
            }
        }
        let o = ravel(&idx, &out_shape);
        out[o] = f(out[o], v);
        abs[o] += v.abs();
    }
    (out_shape, out, abs)
}

fn check_reductions<E: Element>(x: &Tensor<E>) {
    let shape = x.shape().to_vec();
    let xv = values(x);
    for subset in 0..1usize << shape.len() {
        let mask: Vec<bool> = (0..shape.len()).map(|i| subset >> i & 1 == 1).collect();
        let axes: Vec<usize> = (0..shape.len()).filter(|&i| mask[i]).collect();
        let reduced: usize = axes.iter().map(|&a| shape[a]).product();
        let (keep_shape, sum, abs) = reduce_loop(&shape, &xv, &mask, 0.0, |a, b| a + b);
        let (_, max, _) = reduce_loop(&shape, &xv, &mask, f64::NEG_INFINITY, f64::max);
        let drop_shape: Vec<usize> = (0..shape.len())
            .filter(|&i| !mask[i])
            .map(|i| shape[i])
            .collect();
        let tol: Vec<f64> = abs
            .iter()
            .map(|a| (reduced as f64 + 1.0) * eps::<E>() * a)
            .collect();
        let mean: Vec<f64> = sum.iter().map(|s| s / reduced as f64).collect();
        let mean_tol: Vec<f64> = tol.iter().map(|t| t / reduced as f64 * 2.0).collect();
        for keepdim in [true, false] {
            let want_shape = if keepdim { &keep_shape } else { &drop_shape };
            let what = format!("axes {axes:?} of {shape:?}, keepdim {keepdim}");
            let s = x.sum_axes(&axes, keepdim);
            assert_eq!(s.shape(), &want_shape[..], "sum {what}");
            assert_within(&values(&s), &sum, &tol, &format!("sum {what}"));
            let m = x.mean_axes(&axes, keepdim);
            assert_eq!(m.shape(), &want_shape[..], "mean {what}");
            assert_within(&values(&m), &mean, &mean_tol, &format!("mean {what}"));
            let mx = x.max_axes(&axes, keepdim);
            assert_eq!(mx.shape(), &want_shape[..], "max {what}");
            assert_within(
                &values(&mx),
                &max,
                &vec![0.0; max.len()],
                &format!("max {what}"),
            );
        }
    }
    let total: f64 = xv.iter().sum();
    let total_abs: f64 = xv.iter().map(|v| v.abs()).sum();
    let tol = (xv.len() as f64 + 1.0) * eps::<E>() * total_abs;
    assert!(x.sum().shape().is_empty());
    assert!((values(&x.sum())[0] - total).abs() <= tol);
    let mean_tol = 2.0 * tol / xv.len() as f64;
    assert!((values(&x.mean())[0] - total / xv.len() as f64).abs() <= mean_tol);
}

fn reductions_over_every_axis_set<E: Element>() {
    check_reductions(&randn::<E>(&[7, 1, 33, 5], 1));
    check_reductions(&randn::<E>(&[130, 7], 2));
    check_reductions(&randn::<E>(&[1], 3));
    check_reductions(&randn::<E>(&[5, 7, 33], 4).permute(&[2, 0, 1]));
    check_reductions(&randn::<E>(&[9, 40], 5).narrow(1, 3, 33).t());
    // Runs longer than the partial sums, with tails; then above the parallel threshold,
    // with the kept axes in the middle, at the end and at the start.
    check_reductions(&randn::<E>(&[3, 5, 37], 6));
    check_reductions(&randn::<E>(&[16, 20, 3, 70], 7));
    check_reductions(&randn::<E>(&[2, 70_000], 8));
}

#[test]
fn reductions_over_every_axis_set_f32() {
    reductions_over_every_axis_set::<f32>();
}

#[test]
fn reductions_over_every_axis_set_f64() {
    reductions_over_every_axis_set::<f64>();
}

#[test]
fn repeated_axes_count_once() {
    let x = randn::<f64>(&[3, 4], 6);
    assert_eq!(x.sum_axes(&[1, 1], false), x.sum_axes(&[1], false));
    assert_eq!(x.sum_axes(&[], true), x);
}

#[test]
fn max_propagates_nan_and_mean_of_nothing_is_nan() {
    let x = Tensor::<f32>::from_vec(vec![1.0, f32::NAN, 3.0, 2.0, 5.0, 4.0], &[2, 3]);
    let m = x.max_axes(&[1], false).to_vec();
    assert!(m[0].is_nan());
    assert_eq!(m[1], 5.0);
    assert!(x.max_axes(&[0], false).to_vec()[1].is_nan());
    // PyTorch: torch.zeros(0, 3).mean(0) is [nan, nan, nan].
    let e = Tensor::<f64>::zeros(&[0, 3]).mean_axes(&[0], false);
    assert_eq!(e.shape(), &[3]);
    assert!(e.to_vec().iter().all(|v| v.is_nan()));
}

fn sum_to_matches_scatter<E: Element>() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[7, 33], &[33]),
        (&[7, 33], &[7, 1]),
        (&[7, 33], &[1, 33]),
        (&[7, 33], &[]),
        (&[7, 33], &[1]),
        (&[7, 33], &[1, 1]),
        (&[7, 33], &[7, 33]),
        (&[130, 33, 7], &[33, 1]),
        (&[2, 3, 1, 4], &[3, 1, 1]),
    ];
    for (i, &(big, small)) in cases.iter().enumerate() {
        // A contiguous tensor, and a strided view of the same shape (axes stored reversed).
        let reversed: Vec<usize> = big.iter().rev().copied().collect();
        let axes: Vec<usize> = (0..big.len()).rev().collect();
        let view = randn::<E>(&reversed, i as u64 + 100).permute(&axes);
        for x in [randn::<E>(big, i as u64), view] {
            let xv = values(&x);
            let count: usize = small.iter().product();
            let (mut want, mut abs) = (vec![0.0; count], vec![0.0; count]);
            for (flat, &v) in xv.iter().enumerate() {
                let o = broadcast_source(&unravel(flat, big), small);
                want[o] += v;
                abs[o] += v.abs();
            }
            let n = xv.len() as f64;
            let tol: Vec<f64> = abs.iter().map(|a| (n + 1.0) * eps::<E>() * a).collect();
            let got = x.sum_to(small);
            assert_eq!(got.shape(), small);
            let what = format!(
                "sum_to {big:?} → {small:?}, contiguous: {}",
                x.is_contiguous()
            );
            assert_within(&values(&got), &want, &tol, &what);
        }
    }
}

#[test]
fn sum_to_matches_scatter_f32() {
    sum_to_matches_scatter::<f32>();
}

#[test]
fn sum_to_matches_scatter_f64() {
    sum_to_matches_scatter::<f64>();
}

/// A shape and a shape it broadcasts to: leading axes added, size-1 axes expanded.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    let dim = prop_oneof![Just(1usize), 2usize..=4];
    (
        prop::collection::vec(dim, 0..=3),
        prop::collection::vec(1usize..=4, 0..=2),
        prop::collection::vec(1usize..=4, 3),
    )
        .prop_map(|(small, mut big, expand)| {
            big.extend(
                small
                    .iter()
                    .zip(&expand)
                    .map(|(&d, &e)| if d == 1 { e } else { d }),
            );
            (small, big)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// ⟨broadcast_to(a), b⟩ = ⟨a, sum_to(b)⟩: `sum_to` is the adjoint of broadcasting.
    #[test]
    fn sum_to_is_adjoint_of_broadcast_to((small, big) in broadcast_pair(), seed in any::<u64>()) {
        let a = randn::<f64>(&small, seed);
        let b = randn::<f64>(&big, seed ^ 0x5eed);
        let (lhs, scale) = inner(&a.broadcast_to(&big), &b);
        let (rhs, _) = inner(&a, &b.sum_to(&small));
        prop_assert!((lhs - rhs).abs() <= 1e-12 * (scale + 1.0), "{} vs {}", lhs, rhs);
    }
}
