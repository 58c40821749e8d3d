//! `unfold` (im2col) and `fold` (col2im): the two kernels convolution is built from.
//!
//! `unfold` copies every receptive field of an image batch `[N, C, H, W]` into a column:
//! `cols[n, (c·kh + i)·kw + j, y·ow + x] = img[n, c, y·sh − ph + i·dh, x·sw − pw + j·dw]`
//! (zero outside the image), giving `[N, C·kh·kw, oh·ow]`, exactly as PyTorch's `F.unfold`.
//! `fold` is its adjoint: it adds every column entry back onto the pixel it came from
//! (`F.fold`), so `⟨fold(a), b⟩ = ⟨a, unfold(b)⟩`. A convolution is then one matmul of the
//! weight `[O, C·kh·kw]` with the columns.
//!
//! Work is split over (image, channel) planes, which write disjoint outputs, so the
//! parallel result equals the serial one bit for bit.

use rayon::prelude::*;

use crate::element::Element;
use crate::elementwise::PARALLEL_MIN_LEN;
use crate::error::{or_panic, ShapeError};
use crate::shape::conv_out_len;
use crate::tensor::Tensor;

/// The sliding window of a 2-D convolution: kernel size, stride, zero padding and dilation,
/// each as (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    /// Kernel size `(kh, kw)`.
    pub kernel: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
    /// Zeros added on each side.
    pub padding: [usize; 2],
    /// Spacing between kernel taps.
    pub dilation: [usize; 2],
}

impl Window2d {
    /// A square window: kernel `k`, stride `s`, padding `p`, dilation 1.
    pub fn square(k: usize, s: usize, p: usize) -> Self {
        Window2d {
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [1, 1],
        }
    }

    /// The output grid `(oh, ow)` for an input of `(h, w)`, or an error naming the sizes.
    pub fn output_size(
        &self,
        op: &'static str,
        h: usize,
        w: usize,
    ) -> Result<[usize; 2], ShapeError> {
        let oh = conv_out_len(
            h,
            self.kernel[0],
            self.stride[0],
            self.padding[0],
            self.dilation[0],
        );
        let ow = conv_out_len(
            w,
            self.kernel[1],
            self.stride[1],
            self.padding[1],
            self.dilation[1],
        );
        match (oh, ow, self.dilation.iter().all(|&d| d > 0)) {
            (Some(oh), Some(ow), true) => Ok([oh, ow]),
            _ => Err(ShapeError::new(
                op,
                format!("window {self:?} does not fit an input of {h}x{w}"),
            )),
        }
    }

    /// The input coordinate read by output position `o` and kernel tap `t` on `axis`,
    /// or `None` when it falls in the padding.
    #[inline]
    fn source(&self, axis: usize, o: usize, t: usize, len: usize) -> Option<usize> {
        let pos = (o * self.stride[axis] + t * self.dilation[axis]) as isize
            - self.padding[axis] as isize;
        (pos >= 0 && (pos as usize) < len).then_some(pos as usize)
    }

    /// The output positions `o` whose tap `t` on `axis` reads inside the input (not the
    /// padding), as a range `lo..hi`, and the input coordinate read at `lo`; consecutive
    /// positions then read `stride` apart. Solving `0 ≤ o·s + t·d − p < len` for `o` once
    /// per tap keeps bounds checks out of the inner loops.
    #[inline]
    fn valid_span(
        &self,
        axis: usize,
        t: usize,
        out_len: usize,
        len: usize,
    ) -> (usize, usize, usize) {
        let (s, offset) = (
            self.stride[axis] as isize,
            (t * self.dilation[axis]) as isize - self.padding[axis] as isize,
        );
        let lo = if offset >= 0 {
            0
        } else {
            ((-offset + s - 1) / s) as usize
        };
        let last = len as isize - 1 - offset; // o·s ≤ last
        let hi = if last < 0 {
            0
        } else {
            ((last / s) as usize + 1).min(out_len)
        };
        let lo = lo.min(hi);
        (lo, hi, (lo as isize * s + offset).max(0) as usize)
    }
}

impl<E: Element> Tensor<E> {
    /// im2col: `[N, C, H, W]` → `[N, C·kh·kw, oh·ow]`.
    pub fn try_unfold(&self, win: &Window2d) -> Result<Self, ShapeError> {
        let &[n, c, h, w] = self.shape() else {
            return Err(ShapeError::new(
                "unfold",
                format!("expected [N, C, H, W], got {:?}", self.shape()),
            ));
        };
        let [oh, ow] = win.output_size("unfold", h, w)?;
        let [kh, kw] = win.kernel;
        let sw = win.stride[1];
        let (l, plane_out) = (oh * ow, kh * kw * oh * ow);
        let x = self.contiguous();
        let src = x.as_slice().expect("contiguous");
        let mut out = vec![E::zero(); n * c * plane_out];
        let fill = |(nc, dst): (usize, &mut [E])| {
            let img = &src[nc * h * w..(nc + 1) * h * w];
            for i in 0..kh {
                for j in 0..kw {
                    let row = &mut dst[(i * kw + j) * l..(i * kw + j + 1) * l];
                    let (lo, hi, x0) = win.valid_span(1, j, ow, w);
                    if lo == hi {
                        continue; // this tap reads only padding
                    }
                    for y in 0..oh {
                        let Some(iy) = win.source(0, y, i, h) else {
                            continue;
                        };
                        let src_row = &img[iy * w..(iy + 1) * w];
                        let dst = &mut row[y * ow + lo..y * ow + hi];
                        if sw == 1 {
                            dst.copy_from_slice(&src_row[x0..x0 + (hi - lo)]);
                        } else {
                            dst.iter_mut()
                                .zip(src_row[x0..].iter().step_by(sw))
                                .for_each(|(d, &v)| *d = v);
                        }
                    }
                }
            }
        };
        if plane_out > 0 {
            if out.len() >= PARALLEL_MIN_LEN {
                out.par_chunks_mut(plane_out).enumerate().for_each(fill);
            } else {
                out.chunks_mut(plane_out).enumerate().for_each(fill);
            }
        }
        Tensor::try_from_vec(out, &[n, c * kh * kw, l])
    }

    /// im2col, panicking with the shapes on error.
    pub fn unfold(&self, win: &Window2d) -> Self {
        or_panic(self.try_unfold(win))
    }

    /// col2im: `[N, C·kh·kw, oh·ow]` → `[N, C, H, W]`, summing overlapping entries;
    /// the adjoint of [`Tensor::unfold`] for an image of size `(h, w)`.
    pub fn try_fold(&self, size: [usize; 2], win: &Window2d) -> Result<Self, ShapeError> {
        let [h, w] = size;
        let [kh, kw] = win.kernel;
        let sw = win.stride[1];
        let [oh, ow] = win.output_size("fold", h, w)?;
        let l = oh * ow;
        let &[n, ckk, cols_l] = self.shape() else {
            return Err(ShapeError::new(
                "fold",
                format!("expected [N, C*kh*kw, L], got {:?}", self.shape()),
            ));
        };
        if ckk % (kh * kw) != 0 || cols_l != l {
            return Err(ShapeError::new(
                "fold",
                format!(
                    "columns {:?} do not match a {kh}x{kw} window over {h}x{w} ({l} positions)",
                    self.shape()
                ),
            ));
        }
        let c = ckk / (kh * kw);
        let cols = self.contiguous();
        let src = cols.as_slice().expect("contiguous");
        let mut out = vec![E::zero(); n * c * h * w];
        let plane_in = kh * kw * l;
        let add = |(nc, img): (usize, &mut [E])| {
            let block = &src[nc * plane_in..(nc + 1) * plane_in];
            for i in 0..kh {
                for j in 0..kw {
                    let row = &block[(i * kw + j) * l..(i * kw + j + 1) * l];
                    let (lo, hi, x0) = win.valid_span(1, j, ow, w);
                    if lo == hi {
                        continue; // this tap reads only padding
                    }
                    for y in 0..oh {
                        let Some(iy) = win.source(0, y, i, h) else {
                            continue;
                        };
                        let dst_row = &mut img[iy * w..(iy + 1) * w];
                        let src = &row[y * ow + lo..y * ow + hi];
                        dst_row[x0..]
                            .iter_mut()
                            .step_by(sw)
                            .zip(src)
                            .for_each(|(d, &v)| *d = *d + v);
                    }
                }
            }
        };
        if h * w > 0 {
            if out.len() >= PARALLEL_MIN_LEN {
                out.par_chunks_mut(h * w).enumerate().for_each(add);
            } else {
                out.chunks_mut(h * w).enumerate().for_each(add);
            }
        }
        Tensor::try_from_vec(out, &[n, c, h, w])
    }

    /// col2im, panicking with the shapes on error.
    pub fn fold(&self, size: [usize; 2], win: &Window2d) -> Self {
        or_panic(self.try_fold(size, win))
    }
}
