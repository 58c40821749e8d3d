//! `fold(A·B)`: a matrix product whose result is folded (col2im) straight away, as in a
//! transposed convolution (`fold(Wᵀ·X)`) and in a convolution's input gradient
//! (`fold(Wᵀ·Ḡ)`), computed without ever storing the columns `A·B`.
//!
//! `A·B` is `[C·kh·kw, N·L]`, batched columns ([`ColumnLayout::Batched`]): row `c·kh·kw + t`
//! holds tap `t` of channel `c`, column `n·L + p` window position `p` of image `n`, so a
//! pixel of image `n`, channel `c` sums entries of that channel's `kh·kw` rows and that
//! image's `L` columns only. The product is therefore computed one block of whole channels
//! × whole images at a time ([`crate::gemm::sgemm_blocks`]), each block folded onto its own
//! image planes while it is still in cache: the columns (12.8 MB for a DCGAN layer of batch
//! 64) never go through memory.
//!
//! Values: every column entry is the packed GEMM's sum and every pixel sums its entries in
//! increasing tap order, as [`Tensor::fold_as`] does, so on gantry's own kernels the result
//! has the bits of `a.matmul(b).fold_as(..)` whenever that product takes the packed path.
//! Elsewhere (`f64`, the `scalar` path, off x86-64) it is computed as that composition.

use std::mem::MaybeUninit;

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::parallel::SendPtr;
use crate::tensor::Tensor;
use crate::unfold::{ColumnLayout, TapOffsets, Window2d};

/// Rows of the column matrix per block, about: a block is whole channels, at least this many
/// rows (one AVX2 or AVX-512 tile height times a few), so that its A panels are full.
const BLOCK_ROWS: usize = 48;
/// Columns per block, about (whole images, at least one): with the block's rows, a few
/// hundred KiB of scratch, which stays in L2 for the fold.
const BLOCK_COLUMNS: usize = 256;
/// Most floats of B one block's columns may pack (all of k), so that they stay in L2 too.
const BLOCK_B: usize = 1 << 16;

impl<E: Element> Tensor<E> {
    /// `fold(A·B)` onto `[N, C, size[0], size[1]]`, for `A: [C·kh·kw, K]` and `B: [K, N·L]`
    /// (any strides), where `L` is the window's positions over `size`: the same value as
    /// `a.matmul(b).fold_as(size, win, ColumnLayout::Batched)`, computed block by block
    /// without storing `A·B` (see the module documentation). An error names the shapes.
    pub fn try_matmul_fold(
        &self,
        b: &Self,
        size: [usize; 2],
        win: &Window2d,
    ) -> Result<Self, ShapeError> {
        match self.fused_matmul_fold(b, size, win) {
            Some(out) => Ok(out),
            None => self
                .try_matmul(b)?
                .try_fold_as(size, win, ColumnLayout::Batched),
        }
    }

    /// [`Tensor::try_matmul_fold`], panicking with the shapes on error.
    pub fn matmul_fold(&self, b: &Self, size: [usize; 2], win: &Window2d) -> Self {
        or_panic(self.try_matmul_fold(b, size, win))
    }

    /// The blockwise product and fold, or `None` where it does not apply (shapes that are
    /// not batched columns of this window, which the composition reports, or no blockwise
    /// kernel for this element type and path).
    fn fused_matmul_fold(&self, b: &Self, size: [usize; 2], win: &Window2d) -> Option<Self> {
        let (&[rows, k], &[k_b, cols]) = (self.shape(), b.shape()) else {
            return None;
        };
        let out_size = win.output_size("fold", size[0], size[1]).ok()?;
        let (kk, l) = (win.kernel[0] * win.kernel[1], out_size[0] * out_size[1]);
        if k != k_b || k == 0 || rows == 0 || cols == 0 || rows % kk != 0 || l == 0 || cols % l != 0
        {
            return None;
        }
        let (channels, images, plane) = (rows / kk, cols / l, size[0] * size[1]);
        let block_channels = BLOCK_ROWS.div_ceil(kk).min(channels);
        let block_images = (BLOCK_COLUMNS / l).min(BLOCK_B / (k * l)).clamp(1, images);
        let ld = block_images * l;
        let sources = TapOffsets::new(win, size, out_size).sources(ld)?;
        let len = images * channels * plane;
        let mut out: Vec<E> = Vec::with_capacity(len);
        let dst = SendPtr(out.spare_capacity_mut().as_mut_ptr());
        // Block (first row i0, first column j0): channels from i0 / kk, images from j0 / l.
        let fold_block = |i0: usize, j0: usize, block: &[E], ld: usize| {
            debug_assert_eq!(ld, block_images * l, "the row stride the sources assume");
            let (c0, n0) = (i0 / kk, j0 / l);
            for nn in n0..images.min(n0 + block_images) {
                for cc in c0..channels.min(c0 + block_channels) {
                    let first = (cc - c0) * kk * ld + (nn - n0) * l;
                    // SAFETY: plane (nn, cc) lies inside `out`'s capacity, and only this
                    // block (the one holding channel cc of image nn) writes it.
                    let plane_out: &mut [MaybeUninit<E>] = unsafe {
                        std::slice::from_raw_parts_mut(
                            dst.get().add((nn * channels + cc) * plane),
                            plane,
                        )
                    };
                    sources.fold_plane(&block[first..], plane_out);
                }
            }
        };
        let operand = |t: &Self| {
            let s = t.data.strides();
            (t.data.as_ptr(), s[0], s[1])
        };
        // SAFETY: both operands are valid 2-D views with these strides, alive for the call.
        let done = unsafe {
            E::gemm_blocks(
                [rows, k, cols],
                operand(self),
                operand(b),
                [block_channels * kk, ld],
                &fold_block,
            )
        };
        if !done {
            return None;
        }
        crate::matmul::count_flops(2 * rows * k * cols);
        // SAFETY: the blocks cover every (image, channel) plane once, and `gather_sum` wrote
        // every pixel of each.
        unsafe { out.set_len(len) };
        Some(Tensor::from_vec(out, &[images, channels, size[0], size[1]]))
    }
}
