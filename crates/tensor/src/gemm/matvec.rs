//! A matrix times a few vectors: `C ← α·A·B + β·C` when B has at most [`MAX_VECTORS`]
//! columns, or A that many rows (computed as `Cᵀ = Bᵀ·Aᵀ`).
//!
//! Math: for an r×k matrix M and vectors `x₀ … x_{v−1}` of length k (v ≤ 4),
//! `y[i][j] ← α·Σₚ M[i][p]·x_j[p] + β·y[i][j]`: with n ≤ 4, M = A, `x_j` = column j of B
//! and y = C; with m ≤ 4, M = Bᵀ, `x_j` = row j of A and y = Cᵀ.
//!
//! The packed GEMM would copy all of M into panels to use each element once, and fill at
//! most 4 of the 32 columns of its tiles. Here M is read once, in its own layout:
//! - columns of M contiguous (`rs = 1`), the axpy form: `y[i..i+NV][j] += x_j[p]·M[i..i+NV][p]`
//!   for p in increasing order, NV rows of y in registers;
//! - rows of M contiguous (`cs = 1`), the dot form: row i is summed N values of p per
//!   vector (N = 16 lanes on AVX-512, 8 on AVX2), blocks of N alternating between two
//!   accumulators (even blocks, odd blocks; the last, partial block masked), which are
//!   added and then summed across lanes.
//!
//! Any other layout of M is left to the packed GEMM. Each sum's order is fixed by k and the
//! layout alone, and rows are cut into tasks of a size fixed by the shape, so the result
//! is the same on any number of threads.

use std::cell::Cell;

use super::blocking::{block, reserve, Line};
use super::kernel_avx2::Avx2;
use super::kernel_avx512::Avx512;
use super::lanes::Lanes;
use super::operands::{CTile, Strided};
use super::threads::run_tasks;
use crate::simd::Path;

/// Most vectors (columns of B, or rows of A) this path takes.
pub(super) const MAX_VECTORS: usize = 4;
/// Elements of M per task (128 KiB).
const TASK_ELEMENTS: usize = 1 << 15;
/// Products reading at least this many elements of M (all vectors counted) use rayon.
const PARALLEL_ELEMENTS: usize = 1 << 16;

thread_local! {
    /// This thread's copy of the vectors, when the dot form needs them contiguous.
    static VECTORS: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// `C ← α·A·B + β·C` (`c` is m×n, with its α and β) when `min(m, n) ≤ MAX_VECTORS` and the
/// matrix operand has a unit stride; returns whether it did.
///
/// # Safety
/// As for [`super::sgemm`], with `m, n, k ≥ 1` and a CPU with `L`'s instruction set.
pub(super) unsafe fn gemm<L: Lanes>(k: usize, a: Strided, b: Strided, c: CTile) -> bool {
    // (vectors, M, x with x_j[p] at x.at(j, p), y)
    for (vectors, mat, x, y) in [(c.cols, a, b.t(), c), (c.rows, b.t(), a, c.t())] {
        if vectors <= MAX_VECTORS && (mat.rs == 1 || mat.cs == 1) {
            run::<L>(k, mat, x, y);
            return true;
        }
    }
    false
}

/// `y ← α·M·xᵀ + β·y` for y of `y.rows` rows and `y.cols` (≤ 4) vectors.
unsafe fn run<L: Lanes>(k: usize, mat: Strided, x: Strided, y: CTile) {
    let rows = y.rows;
    // Unit strides both ways only when a dimension is 1: axpy for one column of M.
    let axpy = mat.rs == 1 && (mat.cs != 1 || rows >= k);
    let mut buf = VECTORS.take();
    let x = if !axpy && x.cs != 1 {
        let dst = reserve(&mut buf, y.cols * k);
        for j in 0..y.cols {
            for p in 0..k {
                *dst.at((j * k + p) as isize) = *x.at(j, p);
            }
        }
        Strided {
            ptr: dst.0,
            rs: k as isize,
            cs: 1,
        }
    } else {
        x
    };
    let chunk = block(rows, (TASK_ELEMENTS / k).max(16), 16);
    let work = rows.saturating_mul(k).saturating_mul(y.cols);
    let parallel = work >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1;
    let task = |t: usize| {
        let i0 = t * chunk;
        let mat = Strided {
            ptr: mat.at(i0, 0),
            ..mat
        };
        let y = y.sub(i0, 0, chunk.min(rows - i0), y.cols);
        match L::PATH {
            Path::Avx512 => rows_avx512(axpy, k, mat, x, y),
            _ => rows_avx2(axpy, k, mat, x, y),
        }
    };
    run_tasks(parallel, 0, rows.div_ceil(chunk), |_| {}, |t, _| task(t));
    VECTORS.set(buf);
}

/// [`rows_of_y`] compiled for AVX-512.
#[target_feature(enable = "avx512f")]
unsafe fn rows_avx512(axpy: bool, k: usize, mat: Strided, x: Strided, y: CTile) {
    rows_of_y::<Avx512>(axpy, k, mat, x, y)
}

/// [`rows_of_y`] compiled for AVX2.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2(axpy: bool, k: usize, mat: Strided, x: Strided, y: CTile) {
    rows_of_y::<Avx2>(axpy, k, mat, x, y)
}

/// All rows of `y`, in the axpy or the dot form, blocked for its number of vectors.
#[inline(always)]
unsafe fn rows_of_y<L: Lanes>(axpy: bool, k: usize, mat: Strided, x: Strided, y: CTile) {
    if axpy {
        match y.cols {
            1 => axpy_rows::<L, 8, 1>(k, mat, x, y),
            2 => axpy_rows::<L, 4, 2>(k, mat, x, y),
            3 => axpy_rows::<L, 2, 3>(k, mat, x, y),
            _ => axpy_rows::<L, 2, 4>(k, mat, x, y),
        }
    } else {
        match y.cols {
            1 => dot_rows::<L, 4, 1>(k, mat, x, y),
            2 => dot_rows::<L, 2, 2>(k, mat, x, y),
            3 => dot_rows::<L, 1, 3>(k, mat, x, y),
            _ => dot_rows::<L, 1, 4>(k, mat, x, y),
        }
    }
}

/// The axpy form on all rows of `y`, `N·V` at a time, for `NV = y.cols` vectors.
#[inline(always)]
unsafe fn axpy_rows<L: Lanes, const V: usize, const NV: usize>(
    k: usize,
    mat: Strided,
    x: Strided,
    y: CTile,
) {
    for i0 in (0..y.rows).step_by(L::N * V) {
        let rows = (y.rows - i0).min(L::N * V);
        let valid: [usize; V] = std::array::from_fn(|v| rows.saturating_sub(L::N * v).min(L::N));
        let mut masks = [L::mask(0); V];
        for v in 0..V {
            masks[v] = L::mask(valid[v]);
        }
        let mut acc = [[L::zero(); V]; NV];
        for p in 0..k {
            let column = mat.at(i0, p);
            let mut m = [L::zero(); V];
            for v in 0..V {
                // `wrapping_add`: past the last row the mask is empty and nothing is read.
                m[v] = L::load(masks[v], column.wrapping_add(L::N * v));
            }
            for (j, acc) in acc.iter_mut().enumerate() {
                let xj = L::splat(*x.at(j, p));
                for v in 0..V {
                    acc[v] = L::fma(m[v], xj, acc[v]);
                }
            }
        }
        for (j, acc) in acc.iter().enumerate() {
            for v in 0..V {
                if valid[v] > 0 {
                    let out =
                        y.c.offset((i0 + L::N * v) as isize * y.rsc + j as isize * y.csc);
                    L::store(acc[v], valid[v], out, y.rsc, y.alpha, y.beta);
                }
            }
        }
    }
}

/// The dot form on all rows of `y`, `R` at a time (the rest one at a time: each row's sum
/// is the same either way), for `NV = y.cols` vectors, contiguous in `x` (`x.cs = 1`).
#[inline(always)]
unsafe fn dot_rows<L: Lanes, const R: usize, const NV: usize>(
    k: usize,
    mat: Strided,
    x: Strided,
    y: CTile,
) {
    let full = y.rows / R * R;
    for i in (0..full).step_by(R) {
        dots::<L, R, NV>(k, mat, i, x, y);
    }
    for i in full..y.rows {
        dots::<L, 1, NV>(k, mat, i, x, y);
    }
}

/// Rows `i0..i0 + R` of the dot form.
#[inline(always)]
unsafe fn dots<L: Lanes, const R: usize, const NV: usize>(
    k: usize,
    mat: Strided,
    i0: usize,
    x: Strided,
    y: CTile,
) {
    let n = L::N;
    let mut acc = [[[L::zero(); 2]; NV]; R];
    let mut p = 0;
    while p + 2 * n <= k {
        dot_step::<L, R, NV>(&mut acc, (mat, i0), x, p, n, 0);
        dot_step::<L, R, NV>(&mut acc, (mat, i0), x, p + n, n, 1);
        p += 2 * n;
    }
    for h in 0..2 {
        let len = (k - p).min(n);
        if len > 0 {
            dot_step::<L, R, NV>(&mut acc, (mat, i0), x, p, len, h);
            p += len;
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (j, acc) in acc.iter().enumerate() {
            let s = L::sum(L::add(acc[0], acc[1]));
            let out = y.c.offset((i0 + r) as isize * y.rsc + j as isize * y.csc);
            *out = if y.beta == 0.0 {
                y.alpha * s
            } else {
                y.alpha * s + y.beta * *out
            };
        }
    }
}

/// One block of p of [`dots`], `len` (≤ N) values from `p` on, into accumulator `h`.
#[inline(always)]
unsafe fn dot_step<L: Lanes, const R: usize, const NV: usize>(
    acc: &mut [[[L::V; 2]; NV]; R],
    (mat, i0): (Strided, usize),
    x: Strided,
    p: usize,
    len: usize,
    h: usize,
) {
    let mask = L::mask(len);
    let mut xv = [L::zero(); NV];
    for (j, xv) in xv.iter_mut().enumerate() {
        *xv = L::load(mask, x.at(j, p));
    }
    for (r, acc) in acc.iter_mut().enumerate() {
        let m = L::load(mask, mat.at(i0 + r, p));
        for (acc, xv) in acc.iter_mut().zip(&xv) {
            acc[h] = L::fma(m, *xv, acc[h]);
        }
    }
}
