//! Short k: `C ← α·A·B + β·C` for `k ≤ MAX_K`, C summed straight from A and B's rows.
//!
//! Math: `C[i][j] ← α·Σₚ A[i][p]·B[p][j] + β·C[i][j]`, each sum a chain of k fused
//! multiply-adds in increasing p, started from zero.
//!
//! With k this short, C is most of the data and the packed GEMM's packing and tile edges
//! are most of its time. Here a register block of `R ≤ 6` rows × `V` vectors of C (`V`
//! = 4 of 16 lanes on AVX-512, 2 of 8 on AVX2: 24 or 12 accumulators) takes A's elements
//! one by one (broadcast, any strides) and B's rows as vectors, read in place when B is
//! row-major and otherwise first copied, for the task's columns, into a row-major block.
//! C needs a unit stride along its rows (or its columns: then `Cᵀ = Bᵀ·Aᵀ`) and at least
//! 16 elements along it; other products are left to the packed GEMM.
//!
//! Tasks are blocks of C of a size fixed by the shape (column chunks of at most
//! [`COLUMN_CHUNK`], row chunks of about [`TASK_ELEMENTS`] elements), and each element's
//! sum is the same whatever block computes it, so the result is the same on any number of
//! threads.

use std::cell::Cell;

use super::blocking::{block, reserve, Line};
use super::kernel_avx2::Avx2;
use super::kernel_avx512::Avx512;
use super::lanes::Lanes;
use super::operands::{CTile, Strided};
use super::threads::run_tasks;
use crate::simd::Path;

/// Deepest k this path takes.
pub(super) const MAX_K: usize = 16;
/// Rows of C per register block.
const ROWS: usize = 6;
/// Vectors of `L` lanes across a register block: `ROWS` rows of them as accumulators,
/// one row of B and a broadcast fill the registers (AVX-512: 24 + 4 + 1 of 32; AVX2:
/// 12 + 2 + 1 of 16).
const fn vectors<L: Lanes>() -> usize {
    if L::N == 16 {
        4
    } else {
        2
    }
}
/// Widest column chunk of a task: its block of B (at most 16×512, 32 KiB) stays in L1.
const COLUMN_CHUNK: usize = 512;
/// Elements of C per task.
const TASK_ELEMENTS: usize = 1 << 14;
/// Products writing at least this many elements of C use rayon.
const PARALLEL_ELEMENTS: usize = 1 << 15;

thread_local! {
    /// This thread's row-major copy of B.
    static B_ROWS: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// `C ← α·A·B + β·C` (`c` is m×n, with its α and β) when `k ≤ MAX_K` and C has a unit
/// stride along at least 16 elements; returns whether it did.
///
/// # Safety
/// As for [`super::sgemm`], with `m, n, k ≥ 1` and a CPU with `L`'s instruction set.
pub(super) unsafe fn gemm<L: Lanes>(k: usize, a: Strided, b: Strided, c: CTile) -> bool {
    if k > MAX_K {
        return false;
    }
    let (a, b, c) = if c.csc == 1 && c.cols >= 16 {
        (a, b, c)
    } else if c.rsc == 1 && c.rows >= 16 {
        (b.t(), a.t(), c.t())
    } else {
        return false;
    };
    let (m, n) = (c.rows, c.cols);
    let cols = block(n, COLUMN_CHUNK, 16);
    let rows = block(m, (TASK_ELEMENTS / cols).max(ROWS), ROWS);
    let (tasks_m, tasks_n) = (m.div_ceil(rows), n.div_ceil(cols));
    let parallel = m * n >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1;
    let mut buf = B_ROWS.take();
    // B's rows: in place when B is row-major, else copied once, a column chunk per packing
    // task, with rows an odd number of cache lines apart (no two of them 4 KiB apart, where
    // loads would wait on unrelated stores).
    let (b_rows, packs) = if b.cs == 1 {
        (b, 0)
    } else {
        let ld = n.div_ceil(16) | 1;
        let ptr = reserve(&mut buf, k * 16 * ld).0.cast_const();
        let rows = Strided {
            ptr,
            rs: 16 * ld as isize,
            cs: 1,
        };
        (rows, tasks_n)
    };
    let pack = |t: usize| {
        let j0 = t * cols;
        let src = Strided {
            ptr: b.at(0, j0),
            ..b
        };
        let dst = b_rows.at(0, j0).cast_mut();
        let (cols, ld) = (cols.min(n - j0), b_rows.rs as usize);
        match L::PATH {
            Path::Avx512 => copy_rows_avx512(k, cols, src, dst, ld),
            _ => copy_rows_avx2(k, cols, src, dst, ld),
        }
    };
    let compute = |t: usize| {
        let (i0, j0) = (t % tasks_m * rows, t / tasks_m * cols);
        let c = c.sub(i0, j0, rows.min(m - i0), cols.min(n - j0));
        let a = Strided {
            ptr: a.at(i0, 0),
            ..a
        };
        let b = b_rows.at(0, j0);
        match L::PATH {
            Path::Avx512 => block_of_c_avx512(k, a, b, b_rows.rs, c),
            _ => block_of_c_avx2(k, a, b, b_rows.rs, c),
        }
    };
    run_tasks(parallel, packs, tasks_m * tasks_n, pack, |t, _| compute(t));
    B_ROWS.set(buf);
    true
}

/// [`copy_rows`] compiled for AVX-512.
#[target_feature(enable = "avx512f")]
unsafe fn copy_rows_avx512(k: usize, cols: usize, b: Strided, dst: *mut f32, ld: usize) {
    copy_rows::<Avx512>(k, cols, b, dst, ld)
}

/// [`copy_rows`] compiled for AVX2.
#[target_feature(enable = "avx2,fma")]
unsafe fn copy_rows_avx2(k: usize, cols: usize, b: Strided, dst: *mut f32, ld: usize) {
    copy_rows::<Avx2>(k, cols, b, dst, ld)
}

/// Copies `B[p][j]` (`p < k`, `j < cols`) to `dst[p·ld + j]`.
#[inline(always)]
unsafe fn copy_rows<L: Lanes>(k: usize, cols: usize, b: Strided, dst: *mut f32, ld: usize) {
    if b.rs == 1 {
        // Transposed B: its columns are contiguous along p; transpose N at a time.
        for j in (0..cols).step_by(L::N) {
            let lines = (cols - j).min(L::N);
            L::transpose_into(k, lines, |l| b.at(0, j + l), ld, dst.add(j));
        }
    } else {
        for p in 0..k {
            for j in 0..cols {
                *dst.add(p * ld + j) = *b.at(p, j);
            }
        }
    }
}

/// [`block_of_c`] compiled for AVX-512.
#[target_feature(enable = "avx512f")]
unsafe fn block_of_c_avx512(k: usize, a: Strided, b: *const f32, ldb: isize, c: CTile) {
    block_of_c::<Avx512>(k, a, b, ldb, c)
}

/// [`block_of_c`] compiled for AVX2.
#[target_feature(enable = "avx2,fma")]
unsafe fn block_of_c_avx2(k: usize, a: Strided, b: *const f32, ldb: isize, c: CTile) {
    block_of_c::<Avx2>(k, a, b, ldb, c)
}

/// The block `c` of C, `ROWS` rows at a time, from B's rows at `b + p·ldb`.
#[inline(always)]
unsafe fn block_of_c<L: Lanes>(k: usize, a: Strided, b: *const f32, ldb: isize, c: CTile) {
    for i in (0..c.rows).step_by(ROWS) {
        let a = Strided {
            ptr: a.at(i, 0),
            ..a
        };
        let c = c.sub(i, 0, (c.rows - i).min(ROWS), c.cols);
        match c.rows {
            1 => rows_of_c::<L, 1>(k, a, b, ldb, c),
            2 => rows_of_c::<L, 2>(k, a, b, ldb, c),
            3 => rows_of_c::<L, 3>(k, a, b, ldb, c),
            4 => rows_of_c::<L, 4>(k, a, b, ldb, c),
            5 => rows_of_c::<L, 5>(k, a, b, ldb, c),
            _ => rows_of_c::<L, 6>(k, a, b, ldb, c),
        }
    }
}

/// `R` rows of C, a register block's columns at a time (64 on AVX-512, 16 on AVX2: row 0's
/// cache lines, one per register block or one per vector).
#[inline(always)]
unsafe fn rows_of_c<L: Lanes, const R: usize>(
    k: usize,
    a: Strided,
    b: *const f32,
    ldb: isize,
    c: CTile,
) {
    // The columns before row 0's first cache line, in a block of their own: a vector store
    // across two lines costs two.
    let lead = (16 - (c.c as usize / std::mem::size_of::<f32>()) % 16) % 16;
    let mut j = 0;
    while j < c.cols {
        let width = if j == 0 && lead > 0 {
            lead
        } else {
            L::N * vectors::<L>()
        };
        let width = width.min(c.cols - j);
        let (b, c) = (b.add(j), c.sub(0, j, R, width));
        match width.div_ceil(L::N) {
            1 => register_block::<L, R, 1>(k, a, b, ldb, c),
            2 => register_block::<L, R, 2>(k, a, b, ldb, c),
            3 => register_block::<L, R, 3>(k, a, b, ldb, c),
            _ => register_block::<L, R, 4>(k, a, b, ldb, c),
        }
        j += width;
    }
}

/// `R` rows × `N·(V − 1) + 1 ..= N·V` columns of C, in registers:
/// `acc[r][j] = Σₚ A[r][p]·B[p][j]`.
#[inline(always)]
unsafe fn register_block<L: Lanes, const R: usize, const V: usize>(
    k: usize,
    a: Strided,
    b: *const f32,
    ldb: isize,
    c: CTile,
) {
    let valid: [usize; V] = std::array::from_fn(|v| c.cols.saturating_sub(L::N * v).min(L::N));
    let mut masks = [L::mask(0); V];
    for v in 0..V {
        masks[v] = L::mask(valid[v]);
    }
    let mut acc = [[L::zero(); V]; R];
    for p in 0..k {
        let row = b.offset(p as isize * ldb);
        let mut bv = [L::zero(); V];
        for v in 0..V {
            bv[v] = L::load(masks[v], row.add(L::N * v));
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let ar = L::splat(*a.at(r, p));
            for v in 0..V {
                acc[v] = L::fma(ar, bv[v], acc[v]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for v in 0..V {
            let out = c.c.offset(r as isize * c.rsc).add(L::N * v);
            L::store(acc[v], valid[v], out, 1, c.alpha, c.beta);
        }
    }
}
