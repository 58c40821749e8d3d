//! Packing for the AVX-512 kernel: copying a block of A or B into the panel layout the
//! microkernel streams (`pack_avx2` packs the same layout for the AVX2 kernel).
//!
//! - A block (`mc×kc`) → panels of `MR` rows; panel `q` holds `A[q·MR + i][p]` at
//!   `q·MR·kc + p·MR + i`. A short last panel is not padded: its kernel reads only its rows.
//! - B block (`kc×nc`) → panels of `NR` columns; panel `q` holds `B[p][q·NR + j]` at
//!   `q·NR·kc + p·NR + j`, zero-padded to `NR` columns.
//!
//! The panel layout is "p-major": one kernel step reads one contiguous row of each panel.
//! So a unit stride along p on the source (A row-major, B transposed) means a transpose,
//! done 16×16 in registers; a unit stride across the panel (A transposed, B row-major) is a
//! plain masked copy per p; any other stride goes element by element.

use std::arch::x86_64::*;

use super::kernel_avx512::{MR, NR};
use super::operands::Strided;

/// The first `n` lanes of a 16-lane mask.
pub(super) fn first_lanes(n: usize) -> __mmask16 {
    ((1u32 << n.min(16)) - 1) as __mmask16
}

/// Packs one A panel: rows `0..rows` (≤ MR) and columns `0..kc` of `a` into `dst`
/// (`kc·MR` floats).
///
/// # Safety
/// `a` addresses a valid `rows×kc` matrix, `dst` holds `kc·MR` floats, the CPU has
/// AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pack_a_panel(kc: usize, rows: usize, a: Strided, dst: *mut f32) {
    if a.rs == 1 {
        // Column-major A (a transposed view): the panel's rows are contiguous per p.
        let mask = first_lanes(rows);
        for p in 0..kc {
            let v = _mm512_maskz_loadu_ps(mask, a.at(0, p));
            _mm512_mask_storeu_ps(dst.add(p * MR), mask, v);
        }
    } else if a.cs == 1 {
        // Row-major A: transpose 16 columns of p at a time.
        transpose_into(kc, rows, |i| a.at(i, 0), rows, MR, dst);
    } else {
        for p in 0..kc {
            for i in 0..rows {
                *dst.add(p * MR + i) = *a.at(i, p);
            }
        }
    }
}

/// Packs one B panel: rows `0..kc` and columns `0..cols` (≤ NR) of `b` into `dst`
/// (`kc·NR` floats), zero-padded to `NR` columns.
///
/// # Safety
/// `b` addresses a valid `kc×cols` matrix, `dst` holds `kc·NR` floats (64-byte aligned),
/// the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pack_b_panel(kc: usize, cols: usize, b: Strided, dst: *mut f32) {
    if b.cs == 1 {
        // Row-major B: each p is a contiguous run of columns.
        let (m0, m1) = (first_lanes(cols), first_lanes(cols.saturating_sub(16)));
        for p in 0..kc {
            let src = b.at(p, 0);
            _mm512_store_ps(dst.add(p * NR), _mm512_maskz_loadu_ps(m0, src));
            // `wrapping_add`: past a narrow panel's end the address is not in the matrix (the
            // mask is then empty, so nothing is read).
            let hi = _mm512_maskz_loadu_ps(m1, src.wrapping_add(16));
            _mm512_store_ps(dst.add(p * NR + 16), hi);
        }
    } else if b.rs == 1 {
        // Transposed B: each column is contiguous along p; transpose each 16-column half.
        for half in 0..NR / 16 {
            let c0 = 16 * half;
            let width = cols.saturating_sub(c0).min(16);
            transpose_into(kc, width, |j| b.at(0, c0 + j), 16, NR, dst.add(c0));
        }
    } else {
        for p in 0..kc {
            for j in 0..NR {
                *dst.add(p * NR + j) = if j < cols { *b.at(p, j) } else { 0.0 };
            }
        }
    }
}

/// `dst[p·ld + l] = *line(l).add(p)` for `l < lines` (≤ 16) and `p < kc`: gathers `lines`
/// contiguous source lines of length `kc` into p-major rows of stride `ld`, 16×16 at a time.
/// Each destination row gets `width` (≥ `lines`) lanes written, zeros past `lines`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn transpose_into(
    kc: usize,
    lines: usize,
    line: impl Fn(usize) -> *const f32,
    width: usize,
    ld: usize,
    dst: *mut f32,
) {
    let store_mask = first_lanes(width);
    let mut p = 0;
    if lines == 16 && width == 16 {
        // Whole 16×16 blocks with constant trip counts, so the 16 vectors stay in registers
        // (with `lines` and `len` unknown to the compiler they go through the stack).
        let src: [*const f32; 16] = std::array::from_fn(&line);
        while p + 16 <= kc {
            let rows: [__m512; 16] = std::array::from_fn(|l| _mm512_loadu_ps(src[l].add(p)));
            let cols = transpose16(rows);
            for (q, col) in cols.iter().enumerate() {
                _mm512_storeu_ps(dst.add((p + q) * ld), *col);
            }
            p += 16;
        }
    }
    while p < kc {
        let len = (kc - p).min(16);
        let load_mask = first_lanes(len);
        let mut rows = [_mm512_setzero_ps(); 16];
        for (l, r) in rows.iter_mut().enumerate().take(lines) {
            *r = _mm512_maskz_loadu_ps(load_mask, line(l).add(p));
        }
        let cols = transpose16(rows);
        for (q, col) in cols.iter().enumerate().take(len) {
            _mm512_mask_storeu_ps(dst.add((p + q) * ld), store_mask, *col);
        }
        p += len;
    }
}

/// Transposes a 16×16 block held as 16 row vectors: `out[j][i] = rows[i][j]`.
///
/// Three stages: interleave 32-bit pairs of rows, then 64-bit pairs (each 128-bit lane now
/// holds 4 rows of one column), then two 128-bit lane shuffles bring the 4 row groups of
/// each column together.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn transpose16(r: [__m512; 16]) -> [__m512; 16] {
    let mut t = [_mm512_setzero_ps(); 16];
    for g in 0..8 {
        t[2 * g] = _mm512_unpacklo_ps(r[2 * g], r[2 * g + 1]);
        t[2 * g + 1] = _mm512_unpackhi_ps(r[2 * g], r[2 * g + 1]);
    }
    // u[4g + c]: 128-bit lane l holds rows 4g..4g+4 of column c + 4l.
    let mut u = [_mm512_setzero_ps(); 16];
    for g in 0..4 {
        let (t0, t1) = (_mm512_castps_pd(t[4 * g]), _mm512_castps_pd(t[4 * g + 1]));
        let (t2, t3) = (
            _mm512_castps_pd(t[4 * g + 2]),
            _mm512_castps_pd(t[4 * g + 3]),
        );
        u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    let mut out = [_mm512_setzero_ps(); 16];
    for c in 0..4 {
        let v0 = _mm512_shuffle_f32x4::<0x88>(u[c], u[4 + c]);
        let v1 = _mm512_shuffle_f32x4::<0xdd>(u[c], u[4 + c]);
        let w0 = _mm512_shuffle_f32x4::<0x88>(u[8 + c], u[12 + c]);
        let w1 = _mm512_shuffle_f32x4::<0xdd>(u[8 + c], u[12 + c]);
        out[c] = _mm512_shuffle_f32x4::<0x88>(v0, w0);
        out[c + 4] = _mm512_shuffle_f32x4::<0x88>(v1, w1);
        out[c + 8] = _mm512_shuffle_f32x4::<0xdd>(v0, w0);
        out[c + 12] = _mm512_shuffle_f32x4::<0xdd>(v1, w1);
    }
    out
}
