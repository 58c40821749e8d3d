//! The vectorized `f32` tanh ([`gantry_tensor::tanh`]) against the correctly rounded
//! result, `(x as f64).tanh() as f32`: within [`MAX_ULP`] everywhere, exactly odd, `±0`
//! and subnormals returned as they are, exactly `±1` wherever the rounded result is, NaN for
//! NaN; its baseline and AVX-512F builds and `Tensor::tanh` give the same bits.

use std::mem::MaybeUninit;

use gantry_tensor::tanh::tanh_loop;
use gantry_tensor::Tensor;
use rayon::prelude::*;

/// The error allowed, in ulps of the result.
const MAX_ULP: u64 = 2;
const SIGN: u32 = 0x8000_0000;
/// The bit pattern of `+∞`, the last non-NaN positive pattern.
const INF_BITS: u32 = 0x7f80_0000;

/// The position of `v` among the `f32`s in increasing order (both zeros at 0), so that
/// adjacent floats differ by one.
fn ordinal(v: f32) -> i64 {
    let b = v.to_bits();
    if b & SIGN == 0 {
        i64::from(b)
    } else {
        -i64::from(b & !SIGN)
    }
}

/// The distance in ulps from `got` to the correctly rounded tanh of `x`, after checking
/// the exact properties (NaN gives 0).
fn ulps_off(x: f32, got: f32) -> u64 {
    if x.is_nan() {
        assert!(got.is_nan(), "tanh(NaN {:#x}) = {got}", x.to_bits());
        return 0;
    }
    let want = (x as f64).tanh() as f32;
    if x == 0.0 || x.is_subnormal() {
        assert_eq!(got.to_bits(), x.to_bits(), "tanh({x:e}) = {got:e}");
    }
    if want.abs() == 1.0 {
        assert_eq!(got, want, "tanh({x:e}) = {got:e}, rounds to {want}");
    }
    ordinal(got).abs_diff(ordinal(want))
}

/// The largest error found and an input with that error.
#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    ulp: u64,
    x: f32,
}

impl Worst {
    fn max(self, other: Worst) -> Worst {
        if other.ulp > self.ulp {
            other
        } else {
            self
        }
    }
}

/// Runs the baseline loop and, when the CPU has them, the AVX2 and AVX-512F builds on the patterns in
/// `bits` and on their negations; checks that the builds agree bit for bit, that the
/// results are odd and every property of [`ulps_off`]. Returns the baseline's results and
/// the largest error.
fn check_patterns(bits: &[u32]) -> (Vec<f32>, Worst) {
    let xs: Vec<f32> = bits
        .iter()
        .flat_map(|&b| [f32::from_bits(b), f32::from_bits(b ^ SIGN)])
        .collect();
    let baseline = run(&xs, tanh_loop);
    #[cfg(target_arch = "x86_64")]
    if gantry_tensor::simd::has_avx512() {
        // SAFETY: the CPU has AVX-512F.
        let wide = run(&xs, |s, d| unsafe {
            gantry_tensor::tanh::tanh_loop_avx512(s, d)
        });
        for (i, (b, w)) in baseline.iter().zip(&wide).enumerate() {
            assert_eq!(b.to_bits(), w.to_bits(), "AVX-512 tanh({:e})", xs[i]);
        }
    }
    #[cfg(target_arch = "x86_64")]
    if gantry_tensor::simd::Path::Avx2.is_supported() {
        // SAFETY: the CPU has AVX2.
        let wide = run(&xs, |s, d| unsafe {
            gantry_tensor::tanh::tanh_loop_avx2(s, d)
        });
        for (i, (b, w)) in baseline.iter().zip(&wide).enumerate() {
            assert_eq!(b.to_bits(), w.to_bits(), "AVX2 tanh({:e})", xs[i]);
        }
    }
    let mut worst = Worst::default();
    for (x, got) in xs.chunks(2).zip(baseline.chunks(2)) {
        if !x[0].is_nan() {
            assert_eq!(
                got[1].to_bits(),
                got[0].to_bits() ^ SIGN,
                "tanh(−{:e})",
                x[0]
            );
        }
        for (&x, &got) in x.iter().zip(got) {
            worst = worst.max(Worst {
                ulp: ulps_off(x, got),
                x,
            });
        }
    }
    (baseline, worst)
}

/// `kernel` into a fresh buffer.
fn run(xs: &[f32], kernel: impl Fn(&[f32], &mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut out = Vec::with_capacity(xs.len());
    kernel(xs, &mut out.spare_capacity_mut()[..xs.len()]);
    // SAFETY: the kernel wrote every element.
    unsafe { out.set_len(xs.len()) };
    out
}

/// The patterns `p − width ..= p + width` around the positive float `p`.
fn around(p: f32, width: u32) -> impl Iterator<Item = u32> {
    let b = p.to_bits();
    b - width..=b + width
}

/// Over 2·10⁶ positive patterns (every 1021st, subnormals to `+∞`) and their negations,
/// the special values, and every pattern near the switch to the exponential form (0.55),
/// the start of rounding to 1 (≈ 9.01) and the clamp (10): within [`MAX_ULP`], with all the
/// exact properties, the same bits from both builds and from `Tensor::tanh`.
#[test]
fn sampled_inputs_within_two_ulp() {
    let saturation = (1.0f64 - 2f64.powi(-25)).atanh() as f32;
    let specials = [
        0,
        1,
        0x007f_ffff,
        f32::MIN_POSITIVE.to_bits(),
        f32::MAX.to_bits(),
        INF_BITS,
        INF_BITS + 1,
        0x7fc0_0000,
        0x7fff_ffff,
    ];
    let bits: Vec<u32> = (0..=INF_BITS)
        .step_by(1021)
        .chain(specials)
        .chain(
            [0.55, saturation, 10.0]
                .into_iter()
                .flat_map(|p| around(p, 1 << 16)),
        )
        .collect();
    assert!(bits.len() >= 2_000_000);
    let (baseline, worst) = check_patterns(&bits);
    println!("sampled: max {} ulp, at tanh({:e})", worst.ulp, worst.x);
    assert!(worst.ulp <= MAX_ULP, "{worst:?}");

    let xs: Vec<f32> = bits
        .iter()
        .flat_map(|&b| [f32::from_bits(b), f32::from_bits(b ^ SIGN)])
        .collect();
    let tensor = Tensor::from_vec(xs, &[bits.len(), 2]).tanh().to_vec();
    assert!(tensor
        .iter()
        .zip(&baseline)
        .all(|(t, b)| t.to_bits() == b.to_bits()));
}

/// Strided views take the same kernel (the same bits as a contiguous copy), and `f64` keeps
/// libm's `tanh`.
#[test]
fn views_and_f64() {
    let x = Tensor::<f32>::from_vec((0..12).map(|i| i as f32 * 0.3 - 1.7).collect(), &[3, 4]);
    let view = x.t().tanh().to_vec();
    let copy = x.t().contiguous().tanh().to_vec();
    assert_eq!(view, copy);

    let v: Vec<f64> = (0..1000).map(|i| (i as f64 - 500.0) * 0.037).collect();
    let got = Tensor::from_vec(v.clone(), &[1000]).tanh().to_vec();
    assert!(got
        .iter()
        .zip(&v)
        .all(|(g, x)| g.to_bits() == x.tanh().to_bits()));
}

/// All 2³² inputs. Takes about a minute on two cores:
///
/// `cargo test -p gantry-tensor --release --test tanh -- --ignored --nocapture`
#[test]
#[ignore = "exhaustive: all 2³² inputs"]
fn every_input_within_two_ulp() {
    const BLOCK: u32 = 1 << 20;
    let worst = (0..=(SIGN - 1) / BLOCK)
        .into_par_iter()
        .map(|k| {
            let bits: Vec<u32> = (k * BLOCK..=k * BLOCK + (BLOCK - 1)).collect();
            check_patterns(&bits).1
        })
        .reduce(Worst::default, Worst::max);
    println!(
        "all 2³² inputs: max {} ulp, at tanh({:e})",
        worst.ulp, worst.x
    );
    assert!(worst.ulp <= MAX_ULP, "{worst:?}");
}
