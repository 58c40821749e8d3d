//! `matmul` against the triple loop: odd sizes, transposed and sliced views, batched with
//! broadcast batch axes, in f32 and f64.

mod common;

use common::{
    assert_bits_eq, assert_within, broadcast, broadcast_source, eps, on_threads, randn, unravel,
    values, ODD_SIZES,
};
use gantry_tensor::{matmul_naive, Element, Tensor};

/// The reference product in f64: batch axes broadcast by hand, then
/// `C[b, i, j] = Σₚ A[b, i, p]·B[b, p, j]`. Also returns `Σₚ |A[b, i, p]·B[b, p, j]|`, which
/// bounds the rounding error of any summation order.
fn reference<E: Element>(a: &Tensor<E>, b: &Tensor<E>) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let (sa, sb) = (a.shape(), b.shape());
    let (m, k, n) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
    let (batch_a, batch_b) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
    let batch = broadcast(batch_a, batch_b);
    let count: usize = batch.iter().product();
    let (av, bv) = (values(a), values(b));
    let mut c = vec![0.0; count * m * n];
    let mut bound = vec![0.0; count * m * n];
    for flat in 0..count {
        let idx = unravel(flat, &batch);
        let oa = broadcast_source(&idx, batch_a) * m * k;
        let ob = broadcast_source(&idx, batch_b) * k * n;
        for i in 0..m {
            for j in 0..n {
                let (mut acc, mut abs) = (0.0, 0.0);
                for p in 0..k {
                    let t = av[oa + i * k + p] * bv[ob + p * n + j];
                    acc += t;
                    abs += t.abs();
                }
                c[(flat * m + i) * n + j] = acc;
                bound[(flat * m + i) * n + j] = abs;
            }
        }
    }
    let mut shape = batch;
    shape.extend([m, n]);
    (shape, c, bound)
}

/// Checks `a.matmul(b)` against [`reference`] within `(k + 2)·ε·Σ|aᵢₚ·bₚⱼ|`, the classic
/// worst-case bound for a dot product of length `k` (rounded to `E` at the end).
fn check<E: Element>(a: &Tensor<E>, b: &Tensor<E>) {
    let got = a.matmul(b);
    let (shape, want, bound) = reference(a, b);
    assert_eq!(got.shape(), &shape[..], "{:?} x {:?}", a.shape(), b.shape());
    let k = a.shape()[a.ndim() - 1] as f64;
    let tol: Vec<f64> = bound
        .iter()
        .map(|&s| (k + 2.0) * eps::<E>() * s + f64::MIN_POSITIVE)
        .collect();
    let what = format!("matmul {:?} x {:?}", a.shape(), b.shape());
    assert_within(&values(&got), &want, &tol, &what);
}

fn two_d_odd_sizes<E: Element>() {
    for (s, &m) in ODD_SIZES.iter().enumerate() {
        for &k in &ODD_SIZES {
            for &n in &ODD_SIZES {
                let seed = (s * 1000 + k * 10 + n) as u64;
                check::<E>(&randn(&[m, k], seed), &randn(&[k, n], seed + 1));
            }
        }
    }
}

#[test]
fn two_d_odd_sizes_f32() {
    two_d_odd_sizes::<f32>();
}

#[test]
fn two_d_odd_sizes_f64() {
    two_d_odd_sizes::<f64>();
}

fn transposed_operands<E: Element>() {
    for &(m, k, n) in &[(7, 33, 130), (130, 7, 33), (33, 130, 1), (1, 33, 7)] {
        let a_t = randn::<E>(&[k, m], 1).t();
        let b_t = randn::<E>(&[n, k], 2).t();
        let (a, b) = (randn::<E>(&[m, k], 3), randn::<E>(&[k, n], 4));
        assert!(!a_t.is_contiguous() || m == 1 || k == 1);
        check(&a_t, &b);
        check(&a, &b_t);
        check(&a_t, &b_t);
        // A batch axis moved into the middle of the buffer: every stride is unusual.
        let a_p = randn::<E>(&[m, 3, k], 5).permute(&[1, 0, 2]);
        let b_p = randn::<E>(&[n, k, 3], 6).permute(&[2, 1, 0]);
        check(&a_p, &b_p);
        check(&a_p, &b_t);
    }
}

#[test]
fn transposed_operands_f32() {
    transposed_operands::<f32>();
}

#[test]
fn transposed_operands_f64() {
    transposed_operands::<f64>();
}

fn sliced_operands<E: Element>() {
    for &(m, k, n) in &[(7, 33, 130), (33, 7, 1), (130, 33, 7)] {
        let a = randn::<E>(&[m + 3, k + 5], 7)
            .narrow(0, 1, m)
            .narrow(1, 2, k);
        let b = randn::<E>(&[k, n + 4], 8).narrow(1, 3, n);
        check(&a, &b);
        // Sliced, then transposed.
        let b_t = randn::<E>(&[n + 2, k + 1], 9)
            .narrow(0, 2, n)
            .narrow(1, 1, k)
            .t();
        check(&a, &b_t);
        // A slice of the batch axis.
        let a_b = randn::<E>(&[5, m, k], 10).narrow(0, 1, 3);
        let b_b = randn::<E>(&[4, k, n], 11).narrow(0, 1, 3);
        check(&a_b, &b_b);
    }
}

#[test]
fn sliced_operands_f32() {
    sliced_operands::<f32>();
}

#[test]
fn sliced_operands_f64() {
    sliced_operands::<f64>();
}

fn batched_with_broadcast<E: Element>() {
    for &(m, k, n) in &[(7, 33, 1), (33, 7, 130), (1, 130, 33)] {
        // [3, m, k] x [k, n]: one right-hand matrix for the whole batch.
        check::<E>(&randn(&[3, m, k], 20), &randn(&[k, n], 21));
        // [m, k] x [3, k, n].
        check::<E>(&randn(&[m, k], 22), &randn(&[3, k, n], 23));
        // [1, m, k] x [4, k, n]: a size-1 batch axis repeated.
        check::<E>(&randn(&[1, m, k], 24), &randn(&[4, k, n], 25));
        // [2, 1, m, k] x [3, k, n] → [2, 3, m, n]: broadcasting both ways.
        check::<E>(&randn(&[2, 1, m, k], 26), &randn(&[3, k, n], 27));
        // The weight of a convolution against a batch of columns, transposed.
        check::<E>(&randn(&[m, k], 28), &randn(&[2, n, k], 29).t());
    }
    // Many small products (rayon over the batch) and a few large ones (threaded GEMM).
    check::<E>(&randn(&[33, 7, 13], 30), &randn(&[33, 13, 9], 31));
    check::<E>(&randn(&[3, 70, 65], 32), &randn(&[3, 65, 80], 33));
}

#[test]
fn batched_with_broadcast_f32() {
    batched_with_broadcast::<f32>();
}

#[test]
fn batched_with_broadcast_f64() {
    batched_with_broadcast::<f64>();
}

#[test]
fn large_enough_to_be_threaded() {
    // Above matrixmultiply's threading threshold (m·k + k·n ≥ 2¹⁵) with ragged edges.
    check::<f32>(&randn(&[300, 257], 40), &randn(&[257, 130], 41));
}

/// `matmul_pair` gives each product the bits of its own `matmul`, on one thread and on two,
/// for two products large enough to run side by side (a linear layer's two gradients, with
/// transposed operands), and for a large one beside a small one (computed in turn); and each
/// is the product (against the f64 reference).
#[test]
fn matmul_pair_gives_each_product_its_own_bits() {
    let g = randn::<f32>(&[256, 300], 60);
    let w = randn::<f32>(&[300, 200], 61);
    let x = randn::<f32>(&[256, 200], 62);
    let small = (randn::<f32>(&[4, 5], 63), randn::<f32>(&[5, 3], 64));
    let pairs = [
        ((&g, &w), (&g.t(), &x)),
        ((&x, &w.t()), (&small.0, &small.1)),
    ];
    for ((a0, b0), (a1, b1)) in pairs {
        let (alone0, alone1) = (a0.matmul(b0), a1.matmul(b1));
        for threads in [1, 2] {
            let (p0, p1) = on_threads(threads, || Tensor::matmul_pair((a0, b0), (a1, b1)));
            assert_bits_eq(&p0, &alone0, &format!("first product, {threads} threads"));
            assert_bits_eq(&p1, &alone1, &format!("second product, {threads} threads"));
        }
        check(a0, b0);
        check(a1, b1);
    }
}

#[test]
#[should_panic(expected = "cannot multiply [4, 5] by [4, 5]")]
fn matmul_pair_reports_a_mismatch_as_matmul_does() {
    let a = randn::<f32>(&[4, 5], 65);
    Tensor::matmul_pair((&a, &a.t()), (&a, &a));
}

#[test]
fn empty_inner_dimension_gives_zeros() {
    let c = Tensor::<f32>::ones(&[3, 0]).matmul(&Tensor::ones(&[0, 4]));
    assert_eq!(c.shape(), &[3, 4]);
    assert!(c.to_vec().iter().all(|&x| x == 0.0));
    // A freed buffer of ones is likely to be reused for the output: it must still be zeroed.
    drop(Tensor::<f32>::ones(&[5, 40, 50]));
    let z = Tensor::<f32>::ones(&[5, 40, 0]).matmul(&Tensor::ones(&[0, 50]));
    assert!(z.to_vec().iter().all(|&x| x == 0.0));
    let e = Tensor::<f64>::ones(&[2, 0, 5]).matmul(&Tensor::ones(&[5, 3]));
    assert_eq!(e.shape(), &[2, 0, 3]);
}

#[test]
fn naive_reference_is_the_textbook_product() {
    let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = Tensor::<f64>::from_vec(vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0], &[3, 2]);
    let want = vec![58.0, 64.0, 139.0, 154.0];
    assert_eq!(matmul_naive(&a, &b).to_vec(), want);
    assert_eq!(a.matmul(&b).to_vec(), want);
    // And on a transposed view, against the crate's naive kernel.
    let a = randn::<f32>(&[33, 7], 50).t();
    let b = randn::<f32>(&[33, 130], 51);
    let (_, want, bound) = reference(&a, &b);
    let tol: Vec<f64> = bound.iter().map(|s| 40.0 * eps::<f32>() * s).collect();
    assert_within(&values(&matmul_naive(&a, &b)), &want, &tol, "matmul_naive");
}
