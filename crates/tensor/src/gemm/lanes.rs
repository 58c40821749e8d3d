//! One vector of `f32` lanes, for the thin paths (`matvec`, `small_k`) written once for
//! both instruction sets: 16 lanes on AVX-512 ([`Avx512`]), 8 on AVX2 ([`Avx2`]).
//!
//! Every operation is one IEEE operation per lane (a fused multiply-add rounds once), so a
//! sum written with these rounds the same way on either width; only the cross-lane
//! [`Lanes::sum`] and how a sum is cut into vectors depend on the width.
//!
//! The methods are `#[inline(always)]` and carry no `#[target_feature]` themselves: the
//! generic code that calls them is `#[inline(always)]` too and is compiled into one
//! `#[target_feature]` wrapper per instruction set ([`Lanes::PATH`] picks the wrapper), where
//! the intrinsics inline (see `crate::simd`).

use std::arch::x86_64::*;

use super::kernel_avx2::Avx2;
use super::kernel_avx512::Avx512;
use super::pack::first_lanes;
use super::{pack, pack_avx2};
use crate::simd::Path;

/// A vector width and its operations. All methods need the CPU to have [`Lanes::PATH`]'s
/// instruction set, and to be inlined into code compiled with it.
pub(super) trait Lanes: Copy + Send + Sync {
    /// The path whose instruction set this is.
    const PATH: Path;
    /// Lanes per vector.
    const N: usize;
    /// A vector of `N` lanes.
    type V: Copy;
    /// Which lanes a masked load or store touches: the first `n`.
    type Mask: Copy;

    /// The first `n` (≤ N) lanes.
    unsafe fn mask(n: usize) -> Self::Mask;
    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// `x` in every lane.
    unsafe fn splat(x: f32) -> Self::V;
    /// The mask's lanes from `ptr` (nothing else is read), zeros in the others.
    unsafe fn load(mask: Self::Mask, ptr: *const f32) -> Self::V;
    /// `a·b + c` in each lane, rounded once.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b` in each lane.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// The lanes' sum, in a fixed order.
    unsafe fn sum(x: Self::V) -> f32;
    /// `x > 0 ? x : 0` in each lane ([`crate::rectifier::relu`]: NaN and −0 give +0).
    unsafe fn relu(x: Self::V) -> Self::V;
    /// `x > 0 ? x : slope·x` in each lane ([`crate::rectifier::leaky_relu`]).
    unsafe fn leaky_relu(x: Self::V, slope: Self::V) -> Self::V;
    /// `a · b` in each lane.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// Writes the mask's lanes of `x` to `ptr` (nothing else is written).
    unsafe fn store_masked(mask: Self::Mask, ptr: *mut f32, x: Self::V);

    /// `c[l·stride] ← α·x[l] + β·c[l·stride]` for the first `valid` lanes, rounded as
    /// `(α·x) + (β·c)` (`α·x` alone when `β = 0`, which never reads C): a masked vector
    /// store for a unit stride, lane by lane (same rounding) otherwise.
    #[inline(always)]
    unsafe fn store(x: Self::V, valid: usize, c: *mut f32, stride: isize, alpha: f32, beta: f32) {
        let ab = Self::mul(x, Self::splat(alpha));
        if stride == 1 {
            let mask = Self::mask(valid);
            let out = if beta == 0.0 {
                ab
            } else {
                let old = Self::load(mask, c);
                let old = if beta == 1.0 {
                    old
                } else {
                    Self::mul(old, Self::splat(beta))
                };
                Self::add(ab, old)
            };
            Self::store_masked(mask, c, out);
        } else {
            let mut tmp = [0.0f32; 16];
            Self::store_masked(Self::mask(Self::N), tmp.as_mut_ptr(), ab);
            for (l, &ab) in tmp.iter().enumerate().take(valid) {
                let ptr = c.offset(l as isize * stride);
                *ptr = if beta == 0.0 { ab } else { ab + beta * *ptr };
            }
        }
    }

    /// `dst[p·ld + l] = *line(l).add(p)` for `l < lines` (≤ N) and `p < kc`, each
    /// destination row written `N` lanes wide (zeros past `lines`).
    unsafe fn transpose_into(
        kc: usize,
        lines: usize,
        line: impl Fn(usize) -> *const f32,
        ld: usize,
        dst: *mut f32,
    );
}

impl Lanes for Avx512 {
    const PATH: Path = Path::Avx512;
    const N: usize = 16;
    type V = __m512;
    type Mask = __mmask16;

    #[inline(always)]
    unsafe fn mask(n: usize) -> __mmask16 {
        first_lanes(n)
    }

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }

    #[inline(always)]
    unsafe fn load(mask: __mmask16, ptr: *const f32) -> __m512 {
        _mm512_maskz_loadu_ps(mask, ptr)
    }

    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }

    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }

    #[inline(always)]
    unsafe fn sum(x: __m512) -> f32 {
        _mm512_reduce_add_ps(x)
    }

    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }

    /// `vmaxps x, 0` returns its second operand unless `x > 0` (so for NaN and −0 too).
    #[inline(always)]
    unsafe fn relu(x: __m512) -> __m512 {
        _mm512_max_ps(x, _mm512_setzero_ps())
    }

    #[inline(always)]
    unsafe fn leaky_relu(x: __m512, slope: __m512) -> __m512 {
        let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, _mm512_setzero_ps());
        _mm512_mask_blend_ps(positive, _mm512_mul_ps(slope, x), x)
    }

    #[inline(always)]
    unsafe fn store_masked(mask: __mmask16, ptr: *mut f32, x: __m512) {
        _mm512_mask_storeu_ps(ptr, mask, x)
    }

    #[inline(always)]
    unsafe fn transpose_into(
        kc: usize,
        lines: usize,
        line: impl Fn(usize) -> *const f32,
        ld: usize,
        dst: *mut f32,
    ) {
        pack::transpose_into(kc, lines, line, 16, ld, dst)
    }
}

/// An AVX2 mask: the top bit of each 32-bit lane, and whether all 8 are set (then loads
/// and stores are plain ones, which some CPUs run much faster than masked ones).
#[derive(Clone, Copy)]
pub(super) struct Mask8 {
    bits: __m256i,
    full: bool,
}

impl Lanes for Avx2 {
    const PATH: Path = Path::Avx2;
    const N: usize = 8;
    type V = __m256;
    type Mask = Mask8;

    #[inline(always)]
    unsafe fn mask(n: usize) -> Mask8 {
        let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        Mask8 {
            bits: _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), index),
            full: n >= 8,
        }
    }

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }

    #[inline(always)]
    unsafe fn load(mask: Mask8, ptr: *const f32) -> __m256 {
        if mask.full {
            _mm256_loadu_ps(ptr)
        } else {
            _mm256_maskload_ps(ptr, mask.bits)
        }
    }

    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }

    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }

    /// `((x₀ + x₄) + (x₂ + x₆)) + ((x₁ + x₅) + (x₃ + x₇))`.
    #[inline(always)]
    unsafe fn sum(x: __m256) -> f32 {
        let four = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
        let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
        _mm_cvtss_f32(_mm_add_ss(two, _mm_movehdup_ps(two)))
    }

    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }

    /// `vmaxps x, 0` returns its second operand unless `x > 0` (so for NaN and −0 too).
    #[inline(always)]
    unsafe fn relu(x: __m256) -> __m256 {
        _mm256_max_ps(x, _mm256_setzero_ps())
    }

    #[inline(always)]
    unsafe fn leaky_relu(x: __m256, slope: __m256) -> __m256 {
        let positive = _mm256_cmp_ps::<_CMP_GT_OQ>(x, _mm256_setzero_ps());
        _mm256_blendv_ps(_mm256_mul_ps(slope, x), x, positive)
    }

    #[inline(always)]
    unsafe fn store_masked(mask: Mask8, ptr: *mut f32, x: __m256) {
        if mask.full {
            _mm256_storeu_ps(ptr, x)
        } else {
            _mm256_maskstore_ps(ptr, mask.bits, x)
        }
    }

    #[inline(always)]
    unsafe fn transpose_into(
        kc: usize,
        lines: usize,
        line: impl Fn(usize) -> *const f32,
        ld: usize,
        dst: *mut f32,
    ) {
        pack_avx2::transpose_into::<8>(kc, lines, line, ld, dst)
    }
}
