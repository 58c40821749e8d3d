//! The AVX2 + FMA microkernel: one `R×(8·V)` tile of C (at most `MR×NR` = 6×16) from one
//! packed panel of A and one of B.
//!
//! Math: as in `kernel` (one fused multiply-add per p, in increasing order, then the α/β
//! store), so it rounds exactly like the AVX-512 kernel; only the tile size differs.
//!
//! Registers: AVX2 has 16 vector registers of 8 lanes. `R·V ≤ 12` accumulators, the `V ≤ 2`
//! vectors of the B row and one broadcast A value: 15 in use (the 6×16 shape of BLIS's
//! Haswell kernel). Each step p loads 2 vectors and broadcasts 6 scalars for 12 FMAs.
//!
//! A tile of fewer than `R` rows or `8·V` columns (the edges of C) uses the kernel
//! instantiated for exactly its rows and vectors; columns past the edge inside the last
//! vector are masked off when C is stored.

use std::arch::x86_64::*;

use super::kernel::Microkernel;
use super::operands::{CTile, Strided};
use super::pack_avx2::{self, lanes};

/// Rows of C per microkernel tile (the A panel height).
pub(super) const MR: usize = 6;
/// Columns of C per microkernel tile (the B panel width): two 8-lane vectors.
pub(super) const NR: usize = 16;

/// The AVX2 + FMA kernel (6×16) and its packing.
#[derive(Clone, Copy)]
pub(super) struct Avx2;

impl Microkernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;

    unsafe fn tile(kc: usize, a: *const f32, b: *const f32, t: &CTile) {
        tile(kc, a, b, t)
    }

    unsafe fn pack_a(kc: usize, rows: usize, a: Strided, dst: *mut f32) {
        pack_avx2::pack_a_panel(kc, rows, a, dst)
    }

    unsafe fn pack_b(kc: usize, cols: usize, b: Strided, dst: *mut f32) {
        pack_avx2::pack_b_panel(kc, cols, b, dst)
    }

    unsafe fn add_bias(t: &CTile) {
        super::bias::add_avx2(t)
    }
}

/// Runs the kernel instantiated for the tile's rows (1..=MR) and vectors (1 or 2).
///
/// # Safety
/// `a` and `b` are packed panels of at least `kc` steps; the tile addresses valid memory;
/// the CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile(kc: usize, a: *const f32, b: *const f32, t: &CTile) {
    macro_rules! by_rows {
        ($($r:literal)*) => {
            match (t.rows, t.cols > 8) {
                $(
                    ($r, false) => kernel::<$r, 1>(kc, a, b, t),
                    ($r, true) => kernel::<$r, 2>(kc, a, b, t),
                )*
                _ => unreachable!("tile of {}x{} exceeds {MR}x{NR}", t.rows, t.cols),
            }
        };
    }
    by_rows!(1 2 3 4 5 6)
}

/// The `R×8V` tile: accumulate over the panels, then store with α, β.
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel<const R: usize, const V: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    t: &CTile,
) {
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    let (mut a, mut b) = (a, b);
    // The k loop, unrolled by 4 so loop overhead is off the FMA ports' critical path.
    for _ in 0..kc / 4 {
        for u in 0..4 {
            step::<R, V>(&mut acc, a.add(u * MR), b.add(u * NR));
        }
        a = a.add(4 * MR);
        b = b.add(4 * NR);
    }
    for _ in 0..kc % 4 {
        step::<R, V>(&mut acc, a, b);
        a = a.add(MR);
        b = b.add(NR);
    }
    store::<R, V>(&acc, t);
}

/// One rank-1 update: `acc[i] += Ã[p][i] · B̃[p][..]`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn step<const R: usize, const V: usize>(
    acc: &mut [[__m256; V]; R],
    a: *const f32,
    b: *const f32,
) {
    let mut bv = [_mm256_setzero_ps(); V];
    for (v, x) in bv.iter_mut().enumerate() {
        *x = _mm256_load_ps(b.add(8 * v));
    }
    for (i, row) in acc.iter_mut().enumerate() {
        let ai = _mm256_broadcast_ss(&*a.add(i));
        for (x, bx) in row.iter_mut().zip(&bv) {
            *x = _mm256_fmadd_ps(ai, *bx, *x);
        }
    }
}

/// `C ← α·acc + β·C` on the valid part of the tile: vector stores (masked in a partial
/// last vector) when C's rows are contiguous, element by element (same rounding) otherwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store<const R: usize, const V: usize>(acc: &[[__m256; V]; R], t: &CTile) {
    let alpha = _mm256_set1_ps(t.alpha);
    let beta = _mm256_set1_ps(t.beta);
    for (i, row) in acc.iter().enumerate() {
        let c_row = t.c.offset(i as isize * t.rsc);
        for (v, x) in row.iter().enumerate() {
            let valid = t.cols.saturating_sub(8 * v).min(8);
            let ab = _mm256_mul_ps(*x, alpha);
            if t.csc == 1 {
                let ptr = c_row.add(8 * v);
                let mask = lanes(valid);
                let old = || {
                    let old = if valid == 8 {
                        _mm256_loadu_ps(ptr)
                    } else {
                        _mm256_maskload_ps(ptr, mask)
                    };
                    if t.beta == 1.0 {
                        old
                    } else {
                        _mm256_mul_ps(old, beta)
                    }
                };
                let out = if t.beta == 0.0 {
                    ab
                } else {
                    _mm256_add_ps(ab, old())
                };
                if valid == 8 {
                    _mm256_storeu_ps(ptr, out);
                } else {
                    _mm256_maskstore_ps(ptr, mask, out);
                }
            } else {
                let mut tmp = [0.0f32; 8];
                _mm256_storeu_ps(tmp.as_mut_ptr(), *x);
                for (j, &x) in tmp.iter().enumerate().take(valid) {
                    t.store_one(i, 8 * v + j, x);
                }
            }
        }
    }
}
