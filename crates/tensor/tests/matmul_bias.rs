//! `A·B + bias` (`sgemm_bias`, `Tensor::matmul_bias`), alone and followed by a rectifier
//! (`Tensor::matmul_bias_rectified`): on every SIMD path this CPU has and on 1 and 2
//! threads, bit for bit the product of `sgemm` followed by the bias and the rectifier
//! computed here, element by element; within rounding of the `f64` triple loop plus the
//! bias; and, as tensor ops, bit for bit `matmul` then `add` (then `relu` or `leaky_relu`)
//! in `f32` and `f64`, with shape errors named.

mod common;

use common::{assert_bits_eq, on_threads, panic_message, product, randn, strides};
use gantry_tensor::gemm::{naive::sgemm_naive, sgemm_bias_on};
use gantry_tensor::simd::{self, Path};
use gantry_tensor::{Rectifier, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (m, k, n, B stored transposed): one of each way through the GEMM.
const SHAPES: [(usize, usize, usize, bool); 9] = [
    // The packed GEMM: a linear layer's `x·Wᵀ` (two k blocks), and odd edges everywhere.
    (256, 512, 512, true),
    (96, 300, 200, false),
    (13, 37, 29, true),
    // Thin paths, which add the bias in a pass of their own: a matrix times a few vectors
    // (one column, and two rows), short k, long k on one tile, and a narrow C computed
    // transposed.
    (64, 100, 1, true),
    (2, 40, 70, false),
    (200, 8, 64, true),
    (24, 4000, 24, false),
    (300, 64, 9, true),
    // k = 0: the product is empty and C is the bias.
    (5, 0, 7, false),
];

/// Uniform values in [-1, 1).
fn uniform(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// A and B of a shape (B as the transpose of a row-major `n×k` when `transposed`, the way a
/// linear layer's `Wᵀ` is stored), with their strides, and the bias row.
type Operands = (Vec<f32>, Vec<f32>, [isize; 4], Vec<f32>);

fn operands((m, k, n, transposed): (usize, usize, usize, bool), seed: u64) -> Operands {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (a, b, bias) = (
        uniform(m * k, &mut rng),
        uniform(k * n, &mut rng),
        uniform(n, &mut rng),
    );
    (a, b, strides((m, k, n), (false, transposed)), bias)
}

/// [`operands`] with a NaN and a −∞ in the bias (where n allows), whose columns a rectifier
/// must map as its formula says: ReLU to 0 and 0, LeakyReLU to NaN and −∞.
fn operands_with_specials(shape: (usize, usize, usize, bool), seed: u64) -> Operands {
    let (a, b, strides, mut bias) = operands(shape, seed);
    for (x, special) in bias.iter_mut().zip([f32::NAN, f32::NEG_INFINITY]) {
        *x = special;
    }
    (a, b, strides, bias)
}

/// `sgemm_bias_on(path)` into a NaN-filled C (so nothing may be read from it).
fn fused(path: Path, (m, k, n): (usize, usize, usize), ops: &Operands) -> Vec<f32> {
    fused_rectified(path, (m, k, n), ops, None)
}

/// [`fused`] with a rectifier in the epilogue.
fn fused_rectified(
    path: Path,
    (m, k, n): (usize, usize, usize),
    ops: &Operands,
    rectifier: Option<Rectifier>,
) -> Vec<f32> {
    let (a, b, [rsa, csa, rsb, csb], bias) = ops;
    let mut c = vec![f32::NAN; m * n];
    unsafe {
        sgemm_bias_on(
            path,
            [m, k, n],
            (a.as_ptr(), *rsa, *csa),
            (b.as_ptr(), *rsb, *csb),
            (bias.as_ptr(), rectifier),
            c.as_mut_ptr(),
            n as isize,
        );
    }
    c
}

/// `sgemm_on(path)` (α = 1, β = 0), then `C[i][j] + bias[j]` written out here.
fn separate(
    path: Path,
    (m, k, n, transposed): (usize, usize, usize, bool),
    ops: &Operands,
) -> Vec<f32> {
    let (a, b, _, bias) = ops;
    let mut c = product(path, (m, k, n), (a, b), (false, transposed));
    for (i, x) in c.iter_mut().enumerate() {
        *x += bias[i % n];
    }
    c
}

/// ReLU and LeakyReLU(0.2) as their formulas read, applied to [`separate`]'s result.
fn rectified(c: Vec<f32>, rectifier: Rectifier) -> Vec<f32> {
    let f = |x: f32| match rectifier {
        _ if x > 0.0 => x,
        Rectifier::Relu => 0.0,
        Rectifier::LeakyRelu(s) => s as f32 * x,
    };
    c.into_iter().map(f).collect()
}

#[test]
fn sgemm_bias_with_a_rectifier_has_the_bits_of_sgemm_the_bias_then_the_rectifier() {
    for (s, &shape) in SHAPES.iter().enumerate() {
        let (m, k, n, _) = shape;
        let ops = operands_with_specials(shape, 200 + s as u64);
        for path in simd::supported() {
            for rectifier in [Rectifier::Relu, Rectifier::LeakyRelu(0.2)] {
                let want = rectified(separate(path, shape, &ops), rectifier);
                for threads in [1, 2] {
                    let got = on_threads(threads, || {
                        fused_rectified(path, (m, k, n), &ops, Some(rectifier))
                    });
                    if let Some(i) = (0..m * n).find(|&i| got[i].to_bits() != want[i].to_bits()) {
                        panic!(
                            "{m}x{k}x{n}, {} path, {threads} thread(s), {rectifier:?}: element \
                             ({}, {}) is {}, sgemm, the bias then the rectifier give {}",
                            path.name(),
                            i / n,
                            i % n,
                            got[i],
                            want[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn sgemm_bias_has_the_bits_of_sgemm_then_the_bias_on_every_path() {
    for (s, &shape) in SHAPES.iter().enumerate() {
        let (m, k, n, _) = shape;
        let ops = operands(shape, s as u64);
        for path in simd::supported() {
            let want = separate(path, shape, &ops);
            for threads in [1, 2] {
                let got = on_threads(threads, || fused(path, (m, k, n), &ops));
                if let Some(i) = (0..m * n).find(|&i| got[i].to_bits() != want[i].to_bits()) {
                    panic!(
                        "{m}x{k}x{n}, {} path, {threads} thread(s): element ({}, {}) is {}, \
                         sgemm then the bias gives {}",
                        path.name(),
                        i / n,
                        i % n,
                        got[i],
                        want[i]
                    );
                }
            }
        }
    }
}

/// Against the `f64`-accumulated triple loop plus the bias, within `(k + 2)·2ε` of
/// `Σₚ|aₚ||bₚ| + |bias|` (the bound of the GEMM tests, one more rounding for the bias).
#[test]
fn sgemm_bias_matches_the_triple_loop_plus_the_bias() {
    for (s, &shape) in SHAPES.iter().enumerate() {
        let (m, k, n, _) = shape;
        let ops = operands(shape, 100 + s as u64);
        let (a, b, [rsa, csa, rsb, csb], bias) = &ops;
        let mut product = vec![0.0f32; m * n];
        unsafe {
            sgemm_naive(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                *rsa,
                *csa,
                b.as_ptr(),
                *rsb,
                *csb,
                0.0,
                product.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        for path in simd::supported() {
            let got = fused(path, (m, k, n), &ops);
            for i in 0..m {
                for j in 0..n {
                    let abs: f64 = (0..k)
                        .map(|p| {
                            let x = a[p * *csa as usize + i * *rsa as usize];
                            let y = b[p * *rsb as usize + j * *csb as usize];
                            f64::from((x * y).abs())
                        })
                        .sum::<f64>()
                        + f64::from(bias[j].abs());
                    let want = f64::from(product[i * n + j]) + f64::from(bias[j]);
                    let err = (f64::from(got[i * n + j]) - want).abs();
                    let tol = (k + 2) as f64 * 2.0 * f64::from(f32::EPSILON) * abs;
                    assert!(
                        err <= tol,
                        "{m}x{k}x{n}, {} path: element ({i}, {j}) is {}, want {want} (error \
                         {err:e} > {tol:e})",
                        path.name(),
                        got[i * n + j]
                    );
                }
            }
        }
    }
}

#[test]
fn matmul_bias_is_matmul_then_add() {
    // x·Wᵀ + b as a linear layer computes it, and a transposed A.
    let x = randn::<f32>(&[64, 96], 1);
    let w = randn::<f32>(&[80, 96], 2);
    let b = randn::<f32>(&[80], 3);
    let want = x.matmul(&w.t()).add(&b);
    assert_bits_eq(&x.matmul_bias(&w.t(), &b), &want, "f32 x·Wᵀ + b");
    let xt = randn::<f32>(&[96, 64], 4).t();
    let want = xt.matmul(&w.t()).add(&b);
    assert_bits_eq(&xt.matmul_bias(&w.t(), &b), &want, "f32 xᵀ·Wᵀ + b");
    let (x, w, b) = (x.cast::<f64>(), w.cast::<f64>(), b.cast::<f64>());
    let want = x.matmul(&w.t()).add(&b);
    assert_bits_eq(&x.matmul_bias(&w.t(), &b), &want, "f64 x·Wᵀ + b");
}

/// `x.matmul_bias_rectified(wᵀ, b, ·)` against `matmul`, `add`, then `relu` or
/// `leaky_relu`, bit for bit.
fn check_rectified<E: gantry_tensor::Element>(x: &Tensor<E>, w: &Tensor<E>, b: &Tensor<E>) {
    let z = x.matmul(&w.t()).add(b);
    let what = format!(
        "{} {:?}·{:?}ᵀ",
        std::any::type_name::<E>(),
        x.shape(),
        w.shape()
    );
    let relu = x.matmul_bias_rectified(&w.t(), b, Rectifier::Relu);
    assert_bits_eq(&relu, &z.relu(), &format!("{what}, relu"));
    let leaky = x.matmul_bias_rectified(&w.t(), b, Rectifier::LeakyRelu(0.2));
    let slope = E::from_f64_lossy(0.2);
    assert_bits_eq(&leaky, &z.leaky_relu(slope), &format!("{what}, leaky relu"));
}

#[test]
fn matmul_bias_rectified_is_matmul_add_then_the_rectifier() {
    // A linear layer's shape on the packed GEMM (epilogue per tile) and a narrow one on a
    // thin path (epilogue in a pass), in f32 and f64.
    for (m, k, n) in [(256, 512, 512), (64, 100, 3)] {
        let x = randn::<f32>(&[m, k], 5);
        let w = randn::<f32>(&[n, k], 6);
        let b = randn::<f32>(&[n], 7);
        check_rectified(&x, &w, &b);
        check_rectified(&x.cast::<f64>(), &w.cast::<f64>(), &b.cast::<f64>());
    }
}

#[test]
fn shapes_that_do_not_fit_are_errors() {
    let (a, b) = (Tensor::<f32>::zeros(&[3, 4]), Tensor::<f32>::zeros(&[4, 5]));
    for (bias, what) in [
        (Tensor::zeros(&[4]), "bias of the wrong length"),
        (Tensor::zeros(&[1, 5]), "bias of two axes"),
    ] {
        let err = a.try_matmul_bias(&b, &bias).unwrap_err().to_string();
        assert!(
            err.contains("matmul_bias") && err.contains("[3, 4] x [4, 5]"),
            "{what}: {err}"
        );
    }
    let err = a
        .try_matmul_bias(&a, &Tensor::zeros(&[4]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("[3, 4] x [3, 4]"), "{err}");
    let message = panic_message(|| {
        a.matmul_bias(&b, &Tensor::zeros(&[2]));
    });
    assert!(message.contains("matmul_bias"), "{message}");
}
