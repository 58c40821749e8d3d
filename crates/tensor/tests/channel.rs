//! The per-channel kernels: `var_axes` (the same bits as the composite it replaces, and
//! close to a two-pass `f64` loop), `channel_affine` and `add_channel_bias` (against loops,
//! from contiguous and channels-major inputs), on shapes with and without trailing axes,
//! below and above the parallel threshold; and both followed by a rectifier in the same
//! pass (`channel_affine_rectified`), against the op then `relu` or `leaky_relu`.

use gantry_tensor::{Rectifier, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(shape: &[usize], seed: u64) -> Tensor<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    // An offset, so that the deviations are smaller than the values (as in real activations).
    let v = (0..n).map(|_| 3.0 + rng.gen_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, shape)
}

fn bits(t: &Tensor<f32>) -> Vec<u32> {
    t.to_vec().iter().map(|v| v.to_bits()).collect()
}

/// Every subset of axes, with and without keepdim, gives the bits of
/// `(x − mean(x)).square().mean_axes(axes)`, the composite batch norm used before.
#[test]
fn var_axes_has_the_bits_of_the_composite() {
    for (shape, seed) in [
        (vec![5, 3, 7], 1),
        (vec![64, 6272], 2),
        (vec![64, 64, 14, 14], 3),
        (vec![2, 33, 4, 17], 4),
    ] {
        let x = random(&shape, seed);
        for mask in 1..(1u32 << shape.len()) {
            let axes: Vec<usize> = (0..shape.len()).filter(|a| mask >> a & 1 == 1).collect();
            for keepdim in [false, true] {
                let want = x
                    .sub(&x.mean_axes(&axes, true))
                    .square()
                    .mean_axes(&axes, keepdim);
                let got = x.var_axes(&axes, keepdim);
                assert_eq!(got.shape(), want.shape(), "{shape:?} {axes:?}");
                assert_eq!(bits(&got), bits(&want), "{shape:?} {axes:?} {keepdim}");
            }
        }
    }
}

/// Per-channel variance over `[N, C, L]` against a two-pass `f64` loop: within f32 rounding.
#[test]
fn var_axes_is_the_variance() {
    let (n, c, l) = (64, 5, 49);
    let x = random(&[n, c, l], 9);
    let v = x.to_vec();
    let got = x.var_axes(&[0, 2], false).to_vec();
    for (ch, &got) in got.iter().enumerate() {
        let vals: Vec<f64> = (0..n)
            .flat_map(|i| (0..l).map(move |j| (i * c + ch) * l + j))
            .map(|k| f64::from(v[k]))
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / vals.len() as f64;
        assert!((f64::from(got) - var).abs() <= 1e-5 * var, "{got} vs {var}");
    }
}

/// `x` with the same values, stored channels-major: a contiguous `[C, N, …]` seen as
/// `[N, C, …]`.
fn channels_major(x: &Tensor<f32>) -> Tensor<f32> {
    let mut swap: Vec<usize> = (0..x.ndim()).collect();
    swap.swap(0, 1);
    let y = x.permute(&swap).contiguous().permute(&swap);
    assert!(!y.is_contiguous() && y.permute(&swap).is_contiguous());
    y
}

/// `x·a[c] + b[c]` and `x + b[c]` against loops, rounded as `(x·a) + b`, for rank 2 (one
/// element per channel run), rank 4, sizes that straddle chunk boundaries and the parallel
/// threshold; from a contiguous, a channels-major and a transposed (copied) input.
#[test]
fn channel_affine_and_bias_are_the_loops() {
    for (shape, seed) in [
        (vec![3, 4], 1),
        (vec![64, 6272], 2),
        (vec![64, 64, 14, 14], 3),
        (vec![7, 3, 5, 11], 4),
        (vec![2, 9], 5),
        (vec![64, 128, 7, 7], 6),
    ] {
        let x = random(&shape, seed);
        let c = shape[1];
        let a = random(&[c], seed + 10);
        let b = random(&[c], seed + 20);
        let inner: usize = shape[2..].iter().product();
        let (xv, av, bv) = (x.to_vec(), a.to_vec(), b.to_vec());
        let loop_of = |f: &dyn Fn(f32, usize) -> f32| -> Vec<u32> {
            xv.iter()
                .enumerate()
                .map(|(i, &v)| f(v, i / inner % c).to_bits())
                .collect()
        };
        let affine = loop_of(&|v, ch| v * av[ch] + bv[ch]);
        let bias = loop_of(&|v, ch| v + bv[ch]);
        let mut per_channel = vec![1; shape.len()];
        per_channel[1] = c;
        assert_eq!(bits(&x.add(&b.reshape(&per_channel))), bias, "{shape:?}");
        let mut inputs = vec![
            ("contiguous", x.clone()),
            ("channels-major", channels_major(&x)),
        ];
        if shape.len() == 2 {
            let xt = Tensor::from_vec(x.t().contiguous().to_vec(), &[shape[1], shape[0]]).t();
            inputs.push(("transposed", xt));
        }
        for (name, x) in inputs {
            let y = x.channel_affine(&a, &b);
            assert_eq!(y.shape(), &shape[..]);
            assert!(y.is_contiguous());
            assert_eq!(bits(&y), affine, "{shape:?} {name}");
            assert_eq!(bits(&x.add_channel_bias(&b)), bias, "{shape:?} {name}");
        }
    }
}

/// With a rectifier, the bits of the affine map (or the bias) and then `relu` or
/// `leaky_relu(0.2)` as ops of their own, with values on both sides of 0 (a shift of −3
/// around inputs of 3 ± 1), from contiguous and channels-major inputs.
#[test]
fn channel_affine_rectified_is_the_op_then_the_rectifier() {
    for (shape, seed) in [
        (vec![3, 4], 1),
        (vec![64, 6272], 2),
        (vec![64, 64, 14, 14], 3),
        (vec![7, 3, 5, 11], 4),
    ] {
        let x = random(&shape, seed);
        let c = shape[1];
        let a = random(&[c], seed + 10).map(|v| v / 3.0);
        let b = random(&[c], seed + 20).map(|v| -v);
        let affine = x.channel_affine(&a, &b);
        let shifted = x.add_channel_bias(&b);
        for z in [&affine, &shifted] {
            let v = z.to_vec();
            assert!(v.iter().any(|&v| v < 0.0) && v.iter().any(|&v| v > 0.0));
        }
        for (name, x) in [
            ("contiguous", x.clone()),
            ("channels-major", channels_major(&x)),
        ] {
            for (r, f) in [
                (
                    Rectifier::Relu,
                    Box::new(|z: &Tensor<f32>| z.relu()) as Box<dyn Fn(&_) -> _>,
                ),
                (
                    Rectifier::LeakyRelu(0.2),
                    Box::new(|z: &Tensor<f32>| z.leaky_relu(0.2)),
                ),
            ] {
                let got = x.try_channel_affine_rectified(Some(&a), &b, r).unwrap();
                assert!(got.is_contiguous());
                assert_eq!(
                    bits(&got),
                    bits(&f(&affine)),
                    "{shape:?} {name} {r:?} affine"
                );
                let got = x.try_channel_affine_rectified(None, &b, r).unwrap();
                assert_eq!(
                    bits(&got),
                    bits(&f(&shifted)),
                    "{shape:?} {name} {r:?} bias"
                );
            }
        }
    }
}

#[test]
fn channel_affine_names_the_shapes() {
    let x = Tensor::<f32>::zeros(&[2, 3, 4]);
    let e = x
        .try_channel_affine(&Tensor::zeros(&[4]), &Tensor::zeros(&[3]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "channel_affine: input [2, 3, 4] with scale [4] and shift [3] (need [N, C, …], [C] and [C])"
    );
    assert!(Tensor::<f32>::zeros(&[3])
        .try_channel_affine(&Tensor::zeros(&[3]), &Tensor::zeros(&[3]))
        .is_err());
    let e = x.try_add_channel_bias(&Tensor::zeros(&[2])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "add_channel_bias: input [2, 3, 4] and bias [2] (need [N, C, …] and [C])"
    );
}
