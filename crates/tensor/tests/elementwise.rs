//! Elementwise kernels against per-element loops: every binary op under broadcasting both
//! ways and on strided views, every unary op against `f64` math, and the stable forms of
//! sigmoid and softplus at extreme inputs.

mod common;

use common::{assert_within, broadcast, broadcast_source, eps, randn, unravel, values};
use gantry_tensor::{Element, Tensor};

type Binary<E> = fn(&Tensor<E>, &Tensor<E>) -> Tensor<E>;
/// An op's name, the op, and its reference in `f64`.
type BinaryCase<E> = (&'static str, Binary<E>, fn(f64, f64) -> f64);

/// Each binary op with its reference in `f64`. `+ − · /` of two `f32`s computed in `f64`
/// and rounded once equal the `f32` result exactly, so these are compared bit for bit.
fn binary_ops<E: Element>() -> Vec<BinaryCase<E>> {
    vec![
        ("add", Tensor::add, |x, y| x + y),
        ("sub", Tensor::sub, |x, y| x - y),
        ("mul", Tensor::mul, |x, y| x * y),
        ("div", Tensor::div, |x, y| x / y),
        ("maximum", Tensor::maximum, f64::max),
        ("minimum", Tensor::minimum, f64::min),
        ("gt", Tensor::gt, |x, y| f64::from(u8::from(x > y))),
        ("ge", Tensor::ge, |x, y| f64::from(u8::from(x >= y))),
        ("lt", Tensor::lt, |x, y| f64::from(u8::from(x < y))),
        ("le", Tensor::le, |x, y| f64::from(u8::from(x <= y))),
        ("eq", Tensor::eq_mask, |x, y| f64::from(u8::from(x == y))),
        ("&a + &b", |a, b| a + b, |x, y| x + y),
        ("&a * &b", |a, b| a * b, |x, y| x * y),
    ]
}

/// Checks every binary op on `(a, b)` against the broadcast loop.
fn check_binary<E: Element>(a: &Tensor<E>, b: &Tensor<E>) {
    let shape = broadcast(a.shape(), b.shape());
    let (av, bv) = (values(a), values(b));
    let count: usize = shape.iter().product();
    let sources: Vec<(usize, usize)> = (0..count)
        .map(|flat| {
            let idx = unravel(flat, &shape);
            (
                broadcast_source(&idx, a.shape()),
                broadcast_source(&idx, b.shape()),
            )
        })
        .collect();
    for (name, op, reference) in binary_ops::<E>() {
        let got = op(a, b);
        assert_eq!(
            got.shape(),
            &shape[..],
            "{name} {:?} {:?}",
            a.shape(),
            b.shape()
        );
        let want: Vec<f64> = sources
            .iter()
            .map(|&(i, j)| E::from_f64_lossy(reference(av[i], bv[j])).to_f64().unwrap())
            .collect();
        let what = format!("{name} {:?} {:?}", a.shape(), b.shape());
        assert_within(&values(&got), &want, &vec![0.0; count], &what);
    }
}

fn binary_broadcasting<E: Element>() {
    let pairs: &[(&[usize], &[usize])] = &[
        (&[7, 33], &[7, 33]),
        (&[130, 520], &[130, 520]), // large enough for the parallel path
        (&[7, 1], &[1, 33]),
        (&[1, 33], &[7, 1]),
        (&[33], &[130, 33]),
        (&[130, 33], &[33]),
        (&[130, 1, 7], &[33, 1]),
        (&[1], &[1]),
        (&[], &[7, 3]),
        (&[7, 3], &[]),
        (&[1], &[7, 3]),
        (&[1, 1], &[7]),
        (&[2, 1, 1 << 15], &[3, 1]), // broadcast result above the parallel threshold
        (&[520, 130], &[130]),       // a bias repeated over rows, above the threshold
        (&[1, 130], &[520, 130]),
    ];
    for (i, &(sa, sb)) in pairs.iter().enumerate() {
        let a = randn::<E>(sa, 2 * i as u64);
        let mut b = randn::<E>(sb, 2 * i as u64 + 1);
        if i == 0 {
            // Make some elements equal, so that ge/le/eq see ties.
            b = Tensor::concat(&[a.narrow(0, 0, 3), b.narrow(0, 3, 4)], 0);
        }
        check_binary(&a, &b);
    }
}

#[test]
fn binary_broadcasting_f32() {
    binary_broadcasting::<f32>();
}

#[test]
fn binary_broadcasting_f64() {
    binary_broadcasting::<f64>();
}

fn binary_views<E: Element>() {
    let t = randn::<E>(&[33, 7], 1).t(); // [7, 33], column-major
    let s = randn::<E>(&[9, 40], 2).narrow(0, 1, 7).narrow(1, 3, 33); // [7, 33], gaps
    let c = randn::<E>(&[7, 33], 3);
    check_binary(&t, &c);
    check_binary(&c, &t);
    check_binary(&s, &t);
    check_binary(&s, &randn(&[33], 4));
    check_binary(&randn(&[7, 1], 5), &t);
    // A sliced [7, 1] column, broadcast.
    check_binary(&t.narrow(1, 2, 1), &s);
    // Large transposed operands: the same shape, but not contiguous.
    let big_t = randn::<E>(&[520, 130], 6).t();
    check_binary(&big_t, &randn(&[130, 520], 7));
    // A permuted 4-D view (a convolution's [C, N, H, W] product read as [N, C, H, W]), on
    // either side, above the parallel threshold.
    let p = randn::<E>(&[32, 64, 7, 7], 8).permute(&[1, 0, 2, 3]);
    check_binary(&p, &randn(&[64, 32, 7, 7], 9));
    check_binary(&randn(&[64, 32, 7, 7], 10), &p);
}

#[test]
fn binary_views_f32() {
    binary_views::<f32>();
}

#[test]
fn binary_views_f64() {
    binary_views::<f64>();
}

type Unary<E> = fn(&Tensor<E>) -> Tensor<E>;
/// An op's name, the op, its reference in `f64`, and whether it is correctly rounded.
type UnaryCase<E> = (&'static str, Unary<E>, fn(f64) -> f64, bool);

/// Each unary op, its reference in `f64`, and whether the result is correctly rounded
/// (compared exactly) or a library function (compared within a few ulps).
fn unary_ops<E: Element>() -> Vec<UnaryCase<E>> {
    vec![
        ("neg", Tensor::neg, |x| -x, true),
        ("-&a", |a| -a, |x| -x, true),
        ("abs", Tensor::abs, f64::abs, true),
        ("square", Tensor::square, |x| x * x, true),
        ("sqrt(|x|)", |a| a.abs().sqrt(), |x| x.abs().sqrt(), true),
        ("relu", Tensor::relu, |x| x.max(0.0), true),
        (
            "leaky_relu(0.25)",
            |a| a.leaky_relu(E::from_f64_lossy(0.25)),
            |x| if x > 0.0 { x } else { 0.25 * x },
            true,
        ),
        (
            "sign",
            Tensor::sign,
            |x| if x == 0.0 { 0.0 } else { x.signum() },
            true,
        ),
        (
            "add_scalar(1.5)",
            |a| a.add_scalar(E::from_f64_lossy(1.5)),
            |x| x + 1.5,
            true,
        ),
        (
            "mul_scalar(-3)",
            |a| a.mul_scalar(E::from_f64_lossy(-3.0)),
            |x| -3.0 * x,
            true,
        ),
        ("pow(2)", |a| a.pow(E::from_f64_lossy(2.0)), |x| x * x, true),
        ("exp", Tensor::exp, f64::exp, false),
        ("log(|x|)", |a| a.abs().log(), |x| x.abs().ln(), false),
        ("tanh", Tensor::tanh, f64::tanh, false),
        (
            "sigmoid",
            Tensor::sigmoid,
            |x| 1.0 / (1.0 + (-x).exp()),
            false,
        ),
        ("softplus", Tensor::softplus, |x| x.exp().ln_1p(), false),
        (
            "pow(3)",
            |a| a.pow(E::from_f64_lossy(3.0)),
            |x| x.powi(3),
            false,
        ),
        (
            "pow(0.5) of |x|",
            |a| a.abs().pow(E::from_f64_lossy(0.5)),
            |x| x.abs().sqrt(),
            false,
        ),
    ]
}

fn check_unary<E: Element>(a: &Tensor<E>) {
    let av = values(a);
    for (name, op, reference, exact) in unary_ops::<E>() {
        let got = op(a);
        assert_eq!(got.shape(), a.shape(), "{name}");
        let want: Vec<f64> = av
            .iter()
            .map(|&x| E::from_f64_lossy(reference(x)).to_f64().unwrap())
            .collect();
        let tol: Vec<f64> = want
            .iter()
            .map(|w| {
                if exact {
                    0.0
                } else {
                    8.0 * eps::<E>() * w.abs()
                }
            })
            .collect();
        let what = format!("{name} on {:?}", a.shape());
        assert_within(&values(&got), &want, &tol, &what);
    }
}

fn unary_maps<E: Element>() {
    check_unary(&randn::<E>(&[7, 33], 1).mul_scalar(E::from_f64_lossy(3.0)));
    check_unary(&randn::<E>(&[1], 2));
    check_unary(&randn::<E>(&[], 3));
    check_unary(&randn::<E>(&[130, 520], 4)); // parallel path
    check_unary(&randn::<E>(&[33, 7], 5).t()); // strided view
    check_unary(&randn::<E>(&[9, 40], 6).narrow(1, 3, 33));
    check_unary(&Tensor::<E>::zeros(&[3])); // sign(0) = 0, sqrt(0) = 0
}

#[test]
fn unary_maps_f32() {
    unary_maps::<f32>();
}

#[test]
fn unary_maps_f64() {
    unary_maps::<f64>();
}

fn stable_at_extremes<E: Element>() {
    let x = Tensor::<E>::from_vec(
        [1e4, -1e4, 1e30, -1e30, 0.0, 40.0, -40.0]
            .map(E::from_f64_lossy)
            .to_vec(),
        &[7],
    );
    let sp = values(&x.softplus());
    let sg = values(&x.sigmoid());
    assert!(x.softplus().all_finite() && x.sigmoid().all_finite());
    let e = |v: f64| E::from_f64_lossy(v).to_f64().unwrap();
    assert_eq!(&sp[..4], &[1e4, 0.0, e(1e30), 0.0]);
    assert_eq!(&sg[..4], &[1.0, 0.0, 1.0, 0.0]);
    assert!((sp[4] - std::f64::consts::LN_2).abs() < 2.0 * eps::<E>());
    assert_eq!(sg[4], 0.5);
    // softplus(40) = 40 + e⁻⁴⁰ and softplus(−40) = e⁻⁴⁰ ≈ 4.2e-18: relative accuracy in the tail.
    assert!((sp[5] - 40.0).abs() <= 40.0 * eps::<E>());
    let tail = (-40f64).exp();
    assert!((sp[6] - tail).abs() <= 4.0 * eps::<E>() * tail, "{}", sp[6]);
    assert!((sg[6] - tail).abs() <= 4.0 * eps::<E>() * tail, "{}", sg[6]);
    assert_eq!(sg[5], 1.0);
}

#[test]
fn stable_at_extremes_f32() {
    stable_at_extremes::<f32>();
}

#[test]
fn stable_at_extremes_f64() {
    stable_at_extremes::<f64>();
}

#[test]
fn nan_propagates_through_maps() {
    let x = Tensor::<f32>::from_vec(vec![f32::NAN], &[1]);
    for t in [x.softplus(), x.sigmoid(), x.tanh(), x.exp()] {
        assert!(t.item().is_nan());
    }
}
