//! The AVX-512 microkernel: one `R×(16·V)` tile of C (at most `MR×NR` = 12×32) from one
//! packed panel of A and one of B.
//!
//! Math: as in `kernel` (one fused multiply-add per p, in increasing order, then the α/β
//! store).
//!
//! Registers: `R·V ≤ 24` accumulators, the `V ≤ 2` vectors of the B row, and one broadcast
//! A value per FMA (folded by LLVM into the FMA's `{1to16}` memory operand). Each step p
//! loads `V` vectors and `R` scalars for `R·V` FMAs, so a 12×32 tile keeps both FMA ports
//! busy with loads to spare.
//!
//! Layouts (written by `pack`): the A panel holds `Ã[p][i]` at `p·MR + i`, the B panel
//! `B̃[p][j]` at `p·NR + j`, 64-byte aligned. A tile of fewer than `R` rows or `16·V`
//! columns (the edges of C) uses the kernel instantiated for exactly its rows and
//! vectors; columns past the edge inside the last vector are masked off when C is stored.

use std::arch::x86_64::*;

use super::kernel::Microkernel;
use super::operands::{CTile, Strided};
use super::pack;

/// Rows of C per microkernel tile (the A panel height).
pub(super) const MR: usize = 12;
/// Columns of C per microkernel tile (the B panel width): two 16-lane vectors.
pub(super) const NR: usize = 32;

/// The AVX-512F kernel (12×32) and its packing.
#[derive(Clone, Copy)]
pub(super) struct Avx512;

impl Microkernel for Avx512 {
    const MR: usize = MR;
    const NR: usize = NR;

    unsafe fn tile(kc: usize, a: *const f32, b: *const f32, t: &CTile) {
        tile(kc, a, b, t)
    }

    unsafe fn pack_a(kc: usize, rows: usize, a: Strided, dst: *mut f32) {
        pack::pack_a_panel(kc, rows, a, dst)
    }

    unsafe fn pack_b(kc: usize, cols: usize, b: Strided, dst: *mut f32) {
        pack::pack_b_panel(kc, cols, b, dst)
    }

    unsafe fn add_bias(t: &CTile) {
        super::bias::add_avx512(t)
    }
}

/// Runs the kernel instantiated for the tile's rows (1..=MR) and vectors (1 or 2).
///
/// # Safety
/// `a` and `b` are packed panels of at least `kc` steps; the tile addresses valid memory;
/// the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn tile(kc: usize, a: *const f32, b: *const f32, t: &CTile) {
    macro_rules! by_rows {
        ($($r:literal)*) => {
            match (t.rows, t.cols > 16) {
                $(
                    ($r, false) => kernel::<$r, 1>(kc, a, b, t),
                    ($r, true) => kernel::<$r, 2>(kc, a, b, t),
                )*
                _ => unreachable!("tile of {}x{} exceeds {MR}x{NR}", t.rows, t.cols),
            }
        };
    }
    by_rows!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// The `R×16V` tile: accumulate over the panels, then store with α, β.
#[target_feature(enable = "avx512f")]
unsafe fn kernel<const R: usize, const V: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    t: &CTile,
) {
    // A zero LLVM cannot see through: a known zero makes it fill the array with a memset
    // on the stack and load the registers from it, a cost on every call (short k).
    // (`vpxord`, AVX-512F, as the register may be zmm16..31.)
    let zero: __m512;
    std::arch::asm!(
        "vpxord {0}, {0}, {0}",
        out(zmm_reg) zero,
        options(pure, nomem, nostack, preserves_flags)
    );
    let mut acc = [[zero; V]; R];
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
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn step<const R: usize, const V: usize>(
    acc: &mut [[__m512; V]; R],
    a: *const f32,
    b: *const f32,
) {
    let mut bv = [_mm512_setzero_ps(); V];
    for (v, x) in bv.iter_mut().enumerate() {
        *x = _mm512_load_ps(b.add(16 * v));
        // An empty asm makes the loaded row opaque: otherwise LLVM folds the B load into
        // each of the R FMAs that use it (R loads instead of one), which leaves the kernel
        // bound by the load ports instead of the FMA ports.
        std::arch::asm!(
            "/* {0} */",
            inout(zmm_reg) * x,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    for (i, row) in acc.iter_mut().enumerate() {
        let ai = _mm512_set1_ps(*a.add(i));
        for (x, bx) in row.iter_mut().zip(&bv) {
            *x = _mm512_fmadd_ps(ai, *bx, *x);
        }
    }
}

/// `C ← α·acc + β·C` on the valid part of the tile: masked vector stores when C's rows are
/// contiguous, element by element (same rounding) otherwise.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store<const R: usize, const V: usize>(acc: &[[__m512; V]; R], t: &CTile) {
    let lanes = |v: usize| -> __mmask16 {
        let valid = t.cols.saturating_sub(16 * v).min(16);
        ((1u32 << valid) - 1) as __mmask16
    };
    let alpha = _mm512_set1_ps(t.alpha);
    let beta = _mm512_set1_ps(t.beta);
    for (i, row) in acc.iter().enumerate() {
        let c_row = t.c.offset(i as isize * t.rsc);
        for (v, x) in row.iter().enumerate() {
            let mask = lanes(v);
            let ab = _mm512_mul_ps(*x, alpha);
            if t.csc == 1 {
                let ptr = c_row.add(16 * v);
                let out = if t.beta == 0.0 {
                    ab
                } else {
                    let old = _mm512_maskz_loadu_ps(mask, ptr);
                    let old = if t.beta == 1.0 {
                        old
                    } else {
                        _mm512_mul_ps(old, beta)
                    };
                    _mm512_add_ps(ab, old)
                };
                _mm512_mask_storeu_ps(ptr, mask, out);
            } else {
                let mut tmp = [0.0f32; 16];
                _mm512_storeu_ps(tmp.as_mut_ptr(), ab);
                for (j, &ab) in tmp
                    .iter()
                    .enumerate()
                    .take(t.cols.saturating_sub(16 * v).min(16))
                {
                    let ptr = c_row.offset((16 * v + j) as isize * t.csc);
                    *ptr = if t.beta == 0.0 {
                        ab
                    } else {
                        ab + t.beta * *ptr
                    };
                }
            }
        }
    }
}
