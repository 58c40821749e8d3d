//! Short k: `C ← α·A·B + β·C` for `k ≤ MAX_K`, C summed straight from A and B's rows.
//!
//! Math: `C[i][j] ← α·Σₚ A[i][p]·B[p][j] + β·C[i][j]`, each sum a chain of k fused
//! multiply-adds in increasing p, started from zero.
//!
//! With k this short, C is most of the data and the packed GEMM's packing and 12×32 tile
//! edges are most of its time. Here a register block of `R ≤ 6` rows × 64 columns of C
//! takes A's elements one by one (broadcast, any strides) and B's rows as vectors, read in
//! place when B is row-major and otherwise first copied, for the task's columns, into a
//! row-major block. C needs a unit stride along its rows (or its columns: then
//! `Cᵀ = Bᵀ·Aᵀ`) and at least 16 elements along it; other products are left to the
//! packed GEMM.
//!
//! Tasks are blocks of C of a size fixed by the shape (column chunks of at most
//! [`COLUMN_CHUNK`], row chunks of about [`TASK_ELEMENTS`] elements), and each element's
//! sum is the same whatever block computes it, so the result is the same on any number of
//! threads.

use std::arch::x86_64::*;
use std::cell::Cell;

use super::blocking::{block, reserve, Line};
use super::kernel_avx512::store_lanes;
use super::operands::{CTile, Strided};
use super::pack::{first_lanes, transpose_into};
use super::threads::run_tasks;

/// Deepest k this path takes.
pub(super) const MAX_K: usize = 16;
/// Rows of C per register block (6 × 4 vectors: 24 accumulators).
const ROWS: usize = 6;
/// Vectors of 16 columns per register block.
const VECTORS: usize = 4;
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
/// As for [`super::sgemm`], with `m, n, k ≥ 1` and a CPU with AVX-512F.
pub(super) unsafe fn gemm(k: usize, a: Strided, b: Strided, c: CTile) -> bool {
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
        copy_rows(k, cols.min(n - j0), src, dst, b_rows.rs as usize);
    };
    let compute = |t: usize| {
        let (i0, j0) = (t % tasks_m * rows, t / tasks_m * cols);
        let c = c.sub(i0, j0, rows.min(m - i0), cols.min(n - j0));
        let a = Strided {
            ptr: a.at(i0, 0),
            ..a
        };
        block_of_c(k, a, b_rows.at(0, j0), b_rows.rs, c);
    };
    run_tasks(parallel, packs, tasks_m * tasks_n, pack, compute);
    B_ROWS.set(buf);
    true
}

/// Copies `B[p][j]` (`p < k`, `j < cols`) to `dst[p·ld + j]`.
#[target_feature(enable = "avx512f")]
unsafe fn copy_rows(k: usize, cols: usize, b: Strided, dst: *mut f32, ld: usize) {
    if b.rs == 1 {
        // Transposed B: its columns are contiguous along p; transpose 16 at a time.
        for j in (0..cols).step_by(16) {
            let lines = (cols - j).min(16);
            transpose_into(k, lines, |l| b.at(0, j + l), 16, ld, dst.add(j));
        }
    } else {
        for p in 0..k {
            for j in 0..cols {
                *dst.add(p * ld + j) = *b.at(p, j);
            }
        }
    }
}

/// The block `c` of C, `ROWS` rows at a time, from B's rows at `b + p·ldb`.
#[target_feature(enable = "avx512f")]
unsafe fn block_of_c(k: usize, a: Strided, b: *const f32, ldb: isize, c: CTile) {
    for i in (0..c.rows).step_by(ROWS) {
        let a = Strided {
            ptr: a.at(i, 0),
            ..a
        };
        let c = c.sub(i, 0, (c.rows - i).min(ROWS), c.cols);
        match c.rows {
            1 => rows_of_c::<1>(k, a, b, ldb, c),
            2 => rows_of_c::<2>(k, a, b, ldb, c),
            3 => rows_of_c::<3>(k, a, b, ldb, c),
            4 => rows_of_c::<4>(k, a, b, ldb, c),
            5 => rows_of_c::<5>(k, a, b, ldb, c),
            _ => rows_of_c::<6>(k, a, b, ldb, c),
        }
    }
}

/// `R` rows of C, 64 columns (one cache line of row 0 per vector) at a time.
#[target_feature(enable = "avx512f")]
unsafe fn rows_of_c<const R: usize>(k: usize, a: Strided, b: *const f32, ldb: isize, c: CTile) {
    // The columns before row 0's first cache line, in a block of their own: a vector store
    // across two lines costs two.
    let lead = (16 - (c.c as usize / std::mem::size_of::<f32>()) % 16) % 16;
    let mut j = 0;
    while j < c.cols {
        let width = if j == 0 && lead > 0 {
            lead
        } else {
            16 * VECTORS
        };
        let width = width.min(c.cols - j);
        let (b, c) = (b.add(j), c.sub(0, j, R, width));
        match width.div_ceil(16) {
            1 => register_block::<R, 1>(k, a, b, ldb, c),
            2 => register_block::<R, 2>(k, a, b, ldb, c),
            3 => register_block::<R, 3>(k, a, b, ldb, c),
            _ => register_block::<R, VECTORS>(k, a, b, ldb, c),
        }
        j += width;
    }
}

/// `R` rows × `16·(V − 1) + 1 ..= 16·V` columns of C, in registers: `acc[r][j] = Σₚ A[r][p]·B[p][j]`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn register_block<const R: usize, const V: usize>(
    k: usize,
    a: Strided,
    b: *const f32,
    ldb: isize,
    c: CTile,
) {
    let mut valid = [0; V];
    let mut masks = [0; V];
    for v in 0..V {
        valid[v] = c.cols.saturating_sub(16 * v).min(16);
        masks[v] = first_lanes(valid[v]);
    }
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for p in 0..k {
        let row = b.offset(p as isize * ldb);
        let mut bv = [_mm512_setzero_ps(); V];
        for v in 0..V {
            bv[v] = _mm512_maskz_loadu_ps(masks[v], row.add(16 * v));
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let ar = _mm512_set1_ps(*a.at(r, p));
            for v in 0..V {
                acc[v] = _mm512_fmadd_ps(ar, bv[v], acc[v]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for v in 0..V {
            let out = c.c.offset(r as isize * c.rsc).add(16 * v);
            store_lanes(acc[v], valid[v], out, 1, c.alpha, c.beta);
        }
    }
}
