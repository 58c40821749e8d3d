//! The doubling window (kernel 4, stride 2, padding 1, over an image twice its positions'
//! grid: DCGAN's convolutions) has a fold kernel of its own on the AVX2 path. On every SIMD
//! path the CPU has, its fold is the sum of each pixel's taps in increasing tap order from
//! zero, bit for bit, and its unfold F.unfold's definition exactly, in both column layouts,
//! over grids narrower and wider than a vector, on 1 and 2 threads. (`matmul_fold`, which
//! folds with the same kernel, has the bits of `matmul` then `fold_as`: tests/matmul_fold.rs.)

mod common;

use common::{assert_bits_eq, for_each_tap, on_every_path, on_threads, randn};
use gantry_tensor::{ColumnLayout, Tensor, Window2d};

/// Position grids `[ih, iw]` (the image is `2ih × 2iw`): one position, rows shorter than,
/// equal to and longer than 8 positions (one vector of runs), DCGAN's 7x7 and 14x14.
const GRIDS: [[usize; 2]; 10] = [
    [1, 1],
    [1, 2],
    [2, 3],
    [3, 7],
    [7, 7],
    [2, 8],
    [4, 9],
    [14, 14],
    [3, 16],
    [2, 17],
];

/// `[N, C·16, L]` per-image columns as `[C·16, N·L]` batched ones.
fn batched(cols: &Tensor<f32>) -> Tensor<f32> {
    let &[n, rows, l] = cols.shape() else {
        panic!("per-image columns")
    };
    cols.permute(&[1, 0, 2])
        .contiguous()
        .reshape(&[rows, n * l])
}

/// Unfold and fold of every grid, with 1 channel and with 5 (batched unfold splits by channel
/// from 4), against the definition.
fn check_every_grid() {
    let win = Window2d::square(4, 2, 1);
    for (s, [ih, iw]) in GRIDS.into_iter().enumerate() {
        for c in [1, 5] {
            let image = [2, c, 2 * ih, 2 * iw];
            let (l, count) = (ih * iw, image.iter().product::<usize>());
            let cols_shape = [2, c * 16, l];
            let x = randn::<f32>(&image, s as u64);
            let cols = randn::<f32>(&cols_shape, s as u64 + 100);
            let (xv, cv) = (x.as_slice().unwrap(), cols.as_slice().unwrap());
            let mut unfolded = vec![0.0f32; cols_shape.iter().product()];
            let mut folded = vec![0.0f32; count];
            for_each_tap(image, &win, |col, pix| {
                unfolded[col] = xv[pix];
                folded[pix] += cv[col];
            });
            let unfolded = Tensor::from_vec(unfolded, &cols_shape);
            let folded = Tensor::from_vec(folded, &image);
            let (unfolded_batched, cols_batched) = (batched(&unfolded), batched(&cols));
            let what = format!("grid {ih}x{iw}, {c} channel(s)");
            for threads in [1, 2] {
                on_threads(threads, || {
                    assert_bits_eq(&x.unfold(&win), &unfolded, &format!("unfold, {what}"));
                    assert_bits_eq(
                        &x.unfold_as(&win, ColumnLayout::Batched),
                        &unfolded_batched,
                        &format!("batched unfold, {what}"),
                    );
                    let size = [2 * ih, 2 * iw];
                    assert_bits_eq(&cols.fold(size, &win), &folded, &format!("fold, {what}"));
                    assert_bits_eq(
                        &cols_batched.fold_as(size, &win, ColumnLayout::Batched),
                        &folded,
                        &format!("batched fold, {what}"),
                    );
                });
            }
        }
    }
}

/// Each path in a child process (the path is chosen once per process).
#[test]
fn every_path_unfolds_and_folds_the_doubling_window_exactly() {
    on_every_path(
        "every_path_unfolds_and_folds_the_doubling_window_exactly",
        check_every_grid,
    );
}
