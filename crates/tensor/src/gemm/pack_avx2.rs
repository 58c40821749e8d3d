//! Packing for the AVX2 kernel (6×16 tiles): the layouts of `pack`, with 8-lane vectors.
//!
//! - A panel: `A[i][p]` at `p·MR + i`, `rows ≤ MR` rows (a short panel's rows past `rows`
//!   hold zeros; its kernel never reads them).
//! - B panel: `B[p][j]` at `p·NR + j`, zero-padded to `NR` columns, 32-byte aligned.
//!
//! A unit stride along p on the source (A row-major, B transposed: the usual operands of
//! a layer's forward and backward products) means a transpose, done 8×8 in registers: 8
//! loads, 24 shuffles and 8 stores for 64 values, where copying one value at a time costs
//! 64 loads and 64 strided stores. A unit stride across the panel is a copy per p; any
//! other stride goes element by element. Packing only moves values, so it changes no bits.

use std::arch::x86_64::*;

use super::kernel_avx2::{MR, NR};
use super::operands::Strided;

/// A mask of the first `n` (≤ 8) lanes, for `maskload` and `maskstore` (the top bit of
/// each 32-bit lane).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn lanes(n: usize) -> __m256i {
    let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), index)
}

/// Packs one A panel: rows `0..rows` (≤ MR) and columns `0..kc` of `a` into `dst`
/// (`kc·MR` floats).
///
/// # Safety
/// `a` addresses a valid `rows×kc` matrix, `dst` holds `kc·MR` floats, the CPU has AVX2.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn pack_a_panel(kc: usize, rows: usize, a: Strided, dst: *mut f32) {
    if a.rs == 1 {
        // Column-major A (a transposed view): the panel's rows are contiguous per p.
        let mask = lanes(rows);
        for p in 0..kc {
            store_first::<MR>(dst.add(p * MR), _mm256_maskload_ps(a.at(0, p), mask));
        }
    } else if a.cs == 1 {
        // Row-major A: transpose 8 columns of p at a time.
        transpose_into::<MR>(kc, rows, |i| a.at(i, 0), MR, dst);
    } else {
        for p in 0..kc {
            for i in 0..rows {
                *dst.add(p * MR + i) = *a.at(i, p);
            }
        }
    }
}

/// Packs one B panel: rows `0..kc` and columns `0..cols` (≤ NR) of `b` into `dst`
/// (`kc·NR` floats, 32-byte aligned), zero-padded to `NR` columns.
///
/// # Safety
/// `b` addresses a valid `kc×cols` matrix, `dst` holds `kc·NR` floats (32-byte aligned),
/// the CPU has AVX2.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn pack_b_panel(kc: usize, cols: usize, b: Strided, dst: *mut f32) {
    if b.cs == 1 {
        // Row-major B: each p is a contiguous run of columns.
        if cols == NR {
            for p in 0..kc {
                let src = b.at(p, 0);
                _mm256_store_ps(dst.add(p * NR), _mm256_loadu_ps(src));
                _mm256_store_ps(dst.add(p * NR + 8), _mm256_loadu_ps(src.add(8)));
            }
            return;
        }
        let (m0, m1) = (lanes(cols), lanes(cols.saturating_sub(8)));
        for p in 0..kc {
            let src = b.at(p, 0);
            _mm256_store_ps(dst.add(p * NR), _mm256_maskload_ps(src, m0));
            // `wrapping_add`: past a narrow panel's end the address is not in the matrix (the
            // mask is then empty, so nothing is read).
            let hi = _mm256_maskload_ps(src.wrapping_add(8), m1);
            _mm256_store_ps(dst.add(p * NR + 8), hi);
        }
    } else if b.rs == 1 {
        // Transposed B: each column is contiguous along p; transpose each 8-column half.
        for half in 0..NR / 8 {
            let c0 = 8 * half;
            let width = cols.saturating_sub(c0).min(8);
            transpose_into::<8>(kc, width, |j| b.at(0, c0 + j), NR, dst.add(c0));
        }
    } else {
        for p in 0..kc {
            for j in 0..NR {
                *dst.add(p * NR + j) = if j < cols { *b.at(p, j) } else { 0.0 };
            }
        }
    }
}

/// `dst[p·ld + l] = *line(l).add(p)` for `l < lines` (≤ 8) and `p < kc`: gathers `lines`
/// contiguous source lines of length `kc` into p-major rows of stride `ld`, 8×8 at a time.
/// Each destination row gets `W` (≥ `lines`; 6 or 8) lanes written, zeros past `lines`.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn transpose_into<const W: usize>(
    kc: usize,
    lines: usize,
    line: impl Fn(usize) -> *const f32,
    ld: usize,
    dst: *mut f32,
) {
    // A whole panel (the common case) with its line count known to the compiler, so the
    // loads are not each behind a test.
    if lines == W {
        transpose_lines::<W, true>(kc, lines, line, ld, dst)
    } else {
        transpose_lines::<W, false>(kc, lines, line, ld, dst)
    }
}

/// [`transpose_into`] for `lines = W` when `WHOLE`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn transpose_lines<const W: usize, const WHOLE: bool>(
    kc: usize,
    lines: usize,
    line: impl Fn(usize) -> *const f32,
    ld: usize,
    dst: *mut f32,
) {
    let lines = if WHOLE { W } else { lines };
    let src: [*const f32; 8] =
        std::array::from_fn(|l| if l < lines { line(l) } else { std::ptr::null() });
    let mut p = 0;
    while p + 8 <= kc {
        let rows: [__m256; 8] = std::array::from_fn(|l| {
            if l < lines {
                _mm256_loadu_ps(src[l].add(p))
            } else {
                _mm256_setzero_ps()
            }
        });
        // With a row after this block still to come, a 6-lane row is stored as 8 lanes: the
        // 2 extra land on the next row's first 2 slots (ld = 6), which its own store
        // overwrites. One store instead of two.
        let spill = W == 8 || (ld == W && p + 8 < kc);
        for (q, col) in transpose8(rows).iter().enumerate() {
            if spill {
                _mm256_storeu_ps(dst.add((p + q) * ld), *col);
            } else {
                store_first::<W>(dst.add((p + q) * ld), *col);
            }
        }
        p += 8;
    }
    if p < kc {
        let len = kc - p;
        let mask = lanes(len);
        let rows: [__m256; 8] = std::array::from_fn(|l| {
            if l < lines {
                _mm256_maskload_ps(src[l].add(p), mask)
            } else {
                _mm256_setzero_ps()
            }
        });
        for (q, col) in transpose8(rows).iter().enumerate().take(len) {
            store_first::<W>(dst.add((p + q) * ld), *col);
        }
    }
}

/// Stores the first `W` lanes of `v` at `dst`: all 8 (a B panel's half), or an A panel's
/// 6 rows as 4 + 2 lanes (a masked store is slow on some CPUs).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_first<const W: usize>(dst: *mut f32, v: __m256) {
    const { assert!(W == 6 || W == 8) };
    if W == 8 {
        _mm256_storeu_ps(dst, v);
    } else {
        _mm_storeu_ps(dst, _mm256_castps256_ps128(v));
        let hi = _mm_castps_si128(_mm256_extractf128_ps::<1>(v));
        _mm_storel_epi64(dst.add(4).cast(), hi);
    }
}

/// Transposes an 8×8 block held as 8 row vectors: `out[j][i] = rows[i][j]`.
///
/// Interleave 32-bit pairs of rows, then 64-bit pairs (each 128-bit half now holds 4 rows
/// of one column), then swap 128-bit halves to bring each column's two row groups together.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let mut t = [_mm256_setzero_ps(); 8];
    for g in 0..4 {
        t[2 * g] = _mm256_unpacklo_ps(r[2 * g], r[2 * g + 1]);
        t[2 * g + 1] = _mm256_unpackhi_ps(r[2 * g], r[2 * g + 1]);
    }
    // u[4h + c]: the low half holds rows 4h..4h+4 of column c, the high half of column c + 4.
    let mut u = [_mm256_setzero_ps(); 8];
    for h in 0..2 {
        let (t0, t1, t2, t3) = (t[4 * h], t[4 * h + 1], t[4 * h + 2], t[4 * h + 3]);
        u[4 * h] = _mm256_shuffle_ps::<0x44>(t0, t2);
        u[4 * h + 1] = _mm256_shuffle_ps::<0xee>(t0, t2);
        u[4 * h + 2] = _mm256_shuffle_ps::<0x44>(t1, t3);
        u[4 * h + 3] = _mm256_shuffle_ps::<0xee>(t1, t3);
    }
    let mut out = [_mm256_setzero_ps(); 8];
    for c in 0..4 {
        out[c] = _mm256_permute2f128_ps::<0x20>(u[c], u[4 + c]);
        out[c + 4] = _mm256_permute2f128_ps::<0x31>(u[c], u[4 + c]);
    }
    out
}
