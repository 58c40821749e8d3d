//! The scalar types a tensor can hold: `f32` for training, `f64` for gradient checks.

use std::fmt::{Debug, Display};
use std::mem::MaybeUninit;

use num_traits::{Float, FromPrimitive, ToPrimitive};
use rand_distr::uniform::SampleUniform;

use crate::rectifier::Rectifier;

/// A floating-point element type. Implemented for `f32` and `f64` only.
///
/// Besides arithmetic it knows how to call the matching SIMD GEMM (gantry's own AVX-512
/// [`crate::gemm::sgemm`] for `f32`, `matrixmultiply::dgemm` for `f64`), the indexed reads of
/// unfold and fold ([`crate::gather`], vectorized for `f32`), `tanh` over a slice
/// ([`crate::tanh`] for `f32`) and its safetensors dtype name.
pub trait Element:
    Float
    + FromPrimitive
    + ToPrimitive
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + SampleUniform
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// The safetensors / NumPy dtype name (`"F32"` or `"F64"`).
    const DTYPE: &'static str;

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64_lossy(x: f64) -> Self;

    /// `C ← α·A·B + β·C` for row-major-or-not matrices given by element strides.
    ///
    /// With `β = 0`, C is only written (zeros when `k = 0`), so it may be uninitialized.
    ///
    /// # Safety
    /// The pointers with the given strides must address valid `m×k`, `k×n` and `m×n`
    /// matrices, and `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    /// `C = A·B + 1·biasᵀ` (`[m, k, n]`, `bias[j]` added to column j of the product), C
    /// row-major with row stride `rsc` and only written: the bits of [`Element::gemm`]'s
    /// product (α = 1, β = 0) followed by the addition of the bias and then the `rectifier`
    /// if any, here in a pass of its own; `f32` does both inside the GEMM
    /// ([`crate::gemm::sgemm_bias`]).
    ///
    /// # Safety
    /// As for [`Element::gemm`] with `csc = 1`, and `bias` addresses `n` elements.
    unsafe fn gemm_bias(
        [m, k, n]: [usize; 3],
        (a, rsa, csa): (*const Self, isize, isize),
        (b, rsb, csb): (*const Self, isize, isize),
        bias: *const Self,
        rectifier: Option<Rectifier>,
        c: *mut Self,
        rsc: isize,
    ) {
        Self::gemm(
            m,
            k,
            n,
            Self::one(),
            a,
            rsa,
            csa,
            b,
            rsb,
            csb,
            Self::zero(),
            c,
            rsc,
            1,
        );
        crate::gemm::add_bias_rows(m, n, (bias, rectifier), c, rsc);
    }

    /// `C = A·B` handed to `consume` one block at a time ([`crate::gemm::sgemm_blocks`]
    /// for `f32`); returns `false`, having done nothing, where there is no such kernel (on
    /// the `scalar` path, off x86-64, and for `f64`), and the caller computes C whole.
    ///
    /// # Safety
    /// The pointers with the given strides address valid `m×k` and `k×n` matrices.
    unsafe fn gemm_blocks(
        mkn: [usize; 3],
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        blocks: [usize; 2],
        consume: &crate::gemm::ConsumeBlock<'_, Self>,
    ) -> bool {
        let _ = (mkn, a, b, blocks, consume);
        false
    }

    /// [`crate::gather::gather`]: `dst[p] = src[idx[p]]`, zero for an index past `src`.
    fn gather(src: &[Self], idx: &[u32], dst: &mut [MaybeUninit<Self>]) {
        crate::gather::gather(src, idx, dst)
    }

    /// [`crate::gather::gather_sum`]: `dst[q] = Σₛ src[idx[s·P + q]]`, skipping indices
    /// past `src`.
    fn gather_sum(src: &[Self], idx: &[u32], dst: &mut [MaybeUninit<Self>]) {
        crate::gather::gather_sum(src, idx, dst)
    }

    /// One plane of fold for the doubling window ([`crate::doubling`]): `dst`, a
    /// `2ih × 2iw` plane, from `src`, whose tap `t` row starts at `t·tap_stride`, with the
    /// bits of [`Element::gather_sum`] over the same sources. `false` (nothing written)
    /// where this type and path have no such kernel, and the caller gathers.
    fn fold_doubling(
        src: &[Self],
        tap_stride: usize,
        grid: [usize; 2],
        dst: &mut [MaybeUninit<Self>],
    ) -> bool {
        let _ = (src, tap_stride, grid, dst);
        false
    }

    /// `dst[i] = tanh(src[i])` over slices of equal length: libm's `tanh` by default; for
    /// `f32`, the vectorized [`crate::tanh`] (within 1 ulp of the correctly rounded result).
    fn tanh_slice(src: &[Self], dst: &mut [MaybeUninit<Self>]) {
        assert_eq!(src.len(), dst.len(), "tanh: source and destination lengths");
        for (d, &x) in dst.iter_mut().zip(src) {
            d.write(x.tanh());
        }
    }
}

impl Element for f32 {
    const DTYPE: &'static str = "F32";

    fn from_f64_lossy(x: f64) -> Self {
        x as f32
    }

    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        crate::gemm::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    }

    unsafe fn gemm_bias(
        mkn: [usize; 3],
        a: (*const f32, isize, isize),
        b: (*const f32, isize, isize),
        bias: *const f32,
        rectifier: Option<Rectifier>,
        c: *mut f32,
        rsc: isize,
    ) {
        crate::gemm::sgemm_bias(mkn, a, b, (bias, rectifier), c, rsc);
    }

    unsafe fn gemm_blocks(
        mkn: [usize; 3],
        a: (*const f32, isize, isize),
        b: (*const f32, isize, isize),
        blocks: [usize; 2],
        consume: &crate::gemm::ConsumeBlock<'_, f32>,
    ) -> bool {
        crate::gemm::sgemm_blocks(mkn, a, b, blocks, consume)
    }

    fn gather(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        assert!(idx.len() >= dst.len() && src.len() < 1 << 31);
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx512() {
            // SAFETY: AVX-512F is present and the lengths were checked.
            return unsafe { crate::gather::avx512::gather(src, idx, dst) };
        }
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx2() {
            // SAFETY: AVX2 is present and the lengths were checked.
            return unsafe { crate::gather::avx2::gather(src, idx, dst) };
        }
        crate::gather::gather(src, idx, dst)
    }

    fn gather_sum(src: &[f32], idx: &[u32], dst: &mut [MaybeUninit<f32>]) {
        assert!(idx.len().is_multiple_of(dst.len().max(1)) && src.len() < 1 << 31);
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx512() && !dst.is_empty() {
            // SAFETY: AVX-512F is present and the lengths were checked.
            return unsafe { crate::gather::avx512::gather_sum(src, idx, dst) };
        }
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx2() && !dst.is_empty() {
            // SAFETY: AVX2 is present and the lengths were checked.
            return unsafe { crate::gather::avx2::gather_sum(src, idx, dst) };
        }
        crate::gather::gather_sum(src, idx, dst)
    }

    fn fold_doubling(
        src: &[f32],
        tap_stride: usize,
        [ih, iw]: [usize; 2],
        dst: &mut [MaybeUninit<f32>],
    ) -> bool {
        // The AVX2 path's kernel; the AVX-512 path keeps its 16-lane gathers (this kernel was
        // measured on an AVX2-only CPU, none with AVX-512).
        #[cfg(target_arch = "x86_64")]
        if crate::simd::path() == crate::simd::Path::Avx2 {
            assert!(src.len() >= 15 * tap_stride + ih * iw && dst.len() == 4 * ih * iw);
            // SAFETY: AVX2 is present and the lengths were checked.
            unsafe { crate::doubling::avx2::fold_plane(src, tap_stride, [ih, iw], dst) };
            return true;
        }
        let _ = (src, tap_stride, ih, iw, dst);
        false
    }

    fn tanh_slice(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
        crate::tanh::tanh_slice(src, dst)
    }
}

impl Element for f64 {
    const DTYPE: &'static str = "F64";

    fn from_f64_lossy(x: f64) -> Self {
        x
    }

    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    }
}
