//! `matmul_fold` (`fold(A·B)` block by block, never storing `A·B`) against the product
//! written out here and folded by the tests' own tap map (`common::for_each_tap`, F.unfold's
//! definition), and bit for bit against `matmul` then `fold_as` on every SIMD path the CPU
//! has, on 1 and 2 threads.

mod common;

use common::{
    assert_bits_eq, assert_within, for_each_tap, grid, on_every_path, on_threads, randn, values,
};
use gantry_tensor::{ColumnLayout, Tensor, Window2d};

/// (images N, channels C, image size, window, inner dimension K).
type Case = (usize, usize, [usize; 2], Window2d, usize);

/// DCGAN's transposed convolutions (k4 s2 p1 onto 14x14 and 28x28, large enough for two
/// threads and for several blocks), a 3x3 window whose rows are not whole tile heights,
/// stride larger than the kernel, and a product of one block.
fn cases() -> Vec<Case> {
    vec![
        (16, 64, [14, 14], Window2d::square(4, 2, 1), 128),
        (24, 1, [28, 28], Window2d::square(4, 2, 1), 64),
        (5, 7, [9, 8], Window2d::square(3, 1, 1), 300),
        (
            3,
            2,
            [11, 10],
            Window2d {
                kernel: [2, 3],
                stride: [3, 2],
                padding: [1, 0],
                dilation: [1, 2],
            },
            17,
        ),
        (1, 1, [4, 4], Window2d::square(2, 2, 0), 3),
    ]
}

/// A transposed view `[C·kh·kw, K]` (as `Wᵀ` in a transposed convolution) and `B: [K, N·L]`.
fn operands((n, c, size, win, k): Case, seed: u64) -> (Tensor<f32>, Tensor<f32>) {
    let l: usize = grid(size[0], size[1], &win).iter().product();
    let kk = win.kernel[0] * win.kernel[1];
    let a = randn::<f32>(&[k, c * kk], seed).t();
    let b = randn::<f32>(&[k, n * l], seed + 1);
    (a, b)
}

#[test]
fn matmul_fold_matches_the_definition() {
    for (s, case) in cases().into_iter().enumerate() {
        let (n, c, [h, w], win, k) = case;
        let (kk, l) = (
            win.kernel[0] * win.kernel[1],
            grid(h, w, &win).iter().product::<usize>(),
        );
        let (a, b) = operands(case, s as u64);
        let (av, bv) = (values(&a), values(&b));
        let mut want = vec![0.0; n * c * h * w];
        let mut abs = vec![0.0; n * c * h * w];
        // `for_each_tap` names column entries in F.unfold's per-image layout [N, C·kh·kw, L];
        // entry (row, position) of image img is column img·L + position of A·B, and its value
        // Σ_p A[row][p]·B[p][column] is added onto the pixel the tap reads.
        for_each_tap([n, c, h, w], &win, |col, pix| {
            let (img, row, pos) = (col / (c * kk * l), col / l % (c * kk), col % l);
            for p in 0..k {
                let term = av[row * k + p] * bv[p * n * l + img * l + pos];
                want[pix] += term;
                abs[pix] += term.abs();
            }
        });
        let got = a.matmul_fold(&b, [h, w], &win);
        assert_eq!(got.shape(), &[n, c, h, w], "case {s}");
        let tol: Vec<f64> = abs
            .iter()
            .map(|a| (k + kk) as f64 * f64::from(f32::EPSILON) * a)
            .collect();
        assert_within(&values(&got), &want, &tol, &format!("case {s}"));
    }
}

#[test]
fn shapes_that_are_not_batched_columns_are_errors() {
    let win = Window2d::square(4, 2, 1);
    let a = randn::<f32>(&[15, 8], 1); // 15 rows: not whole channels of 16 taps
    let b = randn::<f32>(&[8, 49], 2);
    let err = a.try_matmul_fold(&b, [14, 14], &win).unwrap_err();
    assert!(err.to_string().contains("fold"), "{err}");
    let a = randn::<f32>(&[16, 7], 1);
    let err = a.try_matmul_fold(&b, [14, 14], &win).unwrap_err();
    assert!(err.to_string().contains("matmul"), "{err}");
}

/// On every SIMD path (each in a child process: the path is chosen once per process), on 1
/// and 2 threads, the fused product against `matmul` then `fold_as`: each takes the packed
/// GEMM on these shapes, so the bits must agree.
#[test]
fn every_path_has_the_bits_of_matmul_then_fold() {
    on_every_path("every_path_has_the_bits_of_matmul_then_fold", || {
        for (s, case) in cases().into_iter().take(3).enumerate() {
            let (_, _, size, win, _) = case;
            let (a, b) = operands(case, 10 + s as u64);
            let want = on_threads(2, || {
                a.matmul(&b).fold_as(size, &win, ColumnLayout::Batched)
            });
            for threads in [1, 2] {
                let got = on_threads(threads, || a.matmul_fold(&b, size, &win));
                assert_bits_eq(&got, &want, &format!("case {s}, {threads} thread(s)"));
            }
        }
    });
}
