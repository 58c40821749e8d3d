//! `unfold` (im2col) and `fold` (col2im): the two kernels convolution is built from.
//!
//! `unfold` copies every receptive field of an image batch `[N, C, H, W]` into a column:
//! `cols[n, (c·kh + i)·kw + j, y·ow + x] = img[n, c, y·sh − ph + i·dh, x·sw − pw + j·dw]`
//! (zero outside the image), giving `[N, C·kh·kw, oh·ow]`, exactly as PyTorch's `F.unfold`.
//! `fold` is its adjoint: it adds every column entry back onto the pixel it came from
//! (`F.fold`), so `⟨fold(a), b⟩ = ⟨a, unfold(b)⟩`. A convolution is then one matmul of the
//! weight `[O, C·kh·kw]` with the columns.
//!
//! The same columns can also be laid out `[C·kh·kw, N·L]` ([`ColumnLayout::Batched`]), the
//! images side by side, so that a convolution over the whole batch is a single large GEMM.
//!
//! Work is split over whole output rows (unfold) or (image, channel) planes (fold), which
//! are disjoint, so the parallel result equals the serial one bit for bit.

use std::mem::MaybeUninit;

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::gather::prefetch;
use crate::parallel::{filled, PARALLEL_MIN_LEN};
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
}

/// Where the columns of image `n`, channel `c`, kernel tap `t` lie in an unfolded tensor.
///
/// Either way, the `L = oh·ow` window positions of one (image, channel, tap) are one
/// contiguous row; the layouts differ in how those rows are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnLayout {
    /// `[N, C·kh·kw, L]`, PyTorch's `F.unfold`: row `(n·C + c)·kh·kw + t`. A convolution is
    /// then one small product `W·cols[n]` per image.
    PerImage,
    /// `[C·kh·kw, N·L]`: row `(c·kh·kw + t)·N + n`, the images side by side. A convolution is
    /// then **one** GEMM `W_{[O, C·kh·kw]}·cols` over the whole batch, as large as it gets.
    Batched,
}

impl ColumnLayout {
    /// The offset of the row of image `n`, channel `c`, tap `t` (`kk = kh·kw` taps, `l`
    /// positions per row).
    fn row(self, [n, c, t]: [usize; 3], [batch, channels, kk, l]: [usize; 4]) -> usize {
        match self {
            ColumnLayout::PerImage => ((n * channels + c) * kk + t) * l,
            ColumnLayout::Batched => ((c * kk + t) * batch + n) * l,
        }
    }

    /// The tensor shape of the columns.
    fn shape(self, [batch, channels, kk, l]: [usize; 4]) -> Vec<usize> {
        match self {
            ColumnLayout::PerImage => vec![batch, channels * kk, l],
            ColumnLayout::Batched => vec![channels * kk, batch * l],
        }
    }
}

/// For every kernel tap `t` and window position `p`, the pixel (`iy·w + ix`) of an `h×w`
/// plane that tap reads there, or `h·w` where it falls in the padding: `kh·kw` rows of
/// `oh·ow` offsets. Built once per call, it turns both kernels into one short, branch-light
/// loop per row, whatever the stride, padding or dilation.
pub(crate) struct TapOffsets {
    offsets: Vec<u32>,
    taps: usize,
    positions: usize,
    pixels: usize,
    /// The positions' grid if the window doubles the image ([`crate::doubling`]).
    doubling: Option<[usize; 2]>,
}

impl TapOffsets {
    pub(crate) fn new(win: &Window2d, [h, w]: [usize; 2], [oh, ow]: [usize; 2]) -> Self {
        let pixels = h * w;
        let at = |axis: usize, o: usize, t: usize, len: usize| {
            (o * win.stride[axis] + t * win.dilation[axis])
                .checked_sub(win.padding[axis])
                .filter(|&v| v < len)
        };
        let mut offsets = Vec::with_capacity(win.kernel[0] * win.kernel[1] * oh * ow);
        for i in 0..win.kernel[0] {
            for j in 0..win.kernel[1] {
                for y in 0..oh {
                    for x in 0..ow {
                        let pixel = match (at(0, y, i, h), at(1, x, j, w)) {
                            (Some(iy), Some(ix)) => iy * w + ix,
                            _ => pixels,
                        };
                        offsets.push(pixel as u32);
                    }
                }
            }
        }
        TapOffsets {
            offsets,
            taps: win.kernel[0] * win.kernel[1],
            positions: oh * ow,
            pixels,
            doubling: crate::doubling::grid(win, [h, w], [oh, ow]),
        }
    }

    /// The offsets of tap `t`.
    fn tap(&self, t: usize) -> &[u32] {
        &self.offsets[t * self.positions..(t + 1) * self.positions]
    }

    /// `row[p] = img[offset[p]]` (zero in the padding): one row of unfold, every entry
    /// written.
    fn gather<E: Element>(&self, t: usize, img: &[E], row: &mut [MaybeUninit<E>]) {
        E::gather(&img[..self.pixels], self.tap(t), row);
    }

    /// fold's table, the inverse of this one: for every pixel, where its column entries
    /// are, as offsets from the first tap's row of its (image, channel) when tap `t`'s row
    /// starts `t·tap_stride` after it. `sources` rows (the most taps any pixel has) of
    /// `pixels` entries, row `s` holding every pixel's `s`-th source in increasing tap
    /// order, `u32::MAX` where a pixel has fewer. `None` if an offset would not fit in 31
    /// bits (the vector gather's signed index).
    pub(crate) fn sources(&self, tap_stride: usize) -> Option<PixelSources> {
        let span = (self.taps - 1) * tap_stride + self.positions;
        if span >= 1 << 31 {
            return None;
        }
        let mut count = vec![0usize; self.pixels];
        let mut idx: Vec<u32> = Vec::new();
        for t in 0..self.taps {
            for (p, &q) in self.tap(t).iter().enumerate() {
                let Some(slot) = count.get_mut(q as usize) else {
                    continue;
                };
                if idx.len() <= *slot * self.pixels {
                    idx.resize((*slot + 1) * self.pixels, u32::MAX);
                }
                idx[*slot * self.pixels + q as usize] = (t * tap_stride + p) as u32;
                *slot += 1;
            }
        }
        Some(PixelSources {
            idx,
            span,
            tap_stride,
            doubling: self.doubling,
        })
    }
}

/// For every pixel of a plane, the column entries that fold adds onto it (see
/// [`TapOffsets::sources`]), and how far past the plane's first row they reach.
pub(crate) struct PixelSources {
    idx: Vec<u32>,
    span: usize,
    tap_stride: usize,
    doubling: Option<[usize; 2]>,
}

impl PixelSources {
    /// One plane of fold: `dst[q]` = the sum of pixel `q`'s sources in `src`, which starts
    /// at the first tap's row of the plane's (image, channel). The doubling window takes
    /// [`Element::fold_doubling`] where the path has it, any other the gathers.
    pub(crate) fn fold_plane<E: Element>(&self, src: &[E], dst: &mut [MaybeUninit<E>]) {
        let src = &src[..self.span];
        let doubled = self
            .doubling
            .is_some_and(|grid| E::fold_doubling(src, self.tap_stride, grid, dst));
        if !doubled {
            E::gather_sum(src, &self.idx, dst);
        }
    }
}

/// Channels from which batched unfold is split into whole channels (fewer would leave a
/// core idle; the split never changes the values, only which thread writes them).
const BLOCKED_MIN_CHANNELS: usize = 4;

impl<E: Element> Tensor<E> {
    /// im2col: `[N, C, H, W]` → `[N, C·kh·kw, oh·ow]` (PyTorch's layout).
    pub fn try_unfold(&self, win: &Window2d) -> Result<Self, ShapeError> {
        self.try_unfold_as(win, ColumnLayout::PerImage)
    }

    /// im2col, panicking with the shapes on error.
    pub fn unfold(&self, win: &Window2d) -> Self {
        or_panic(self.try_unfold(win))
    }

    /// im2col into either [`ColumnLayout`]: `[N, C·kh·kw, L]` or `[C·kh·kw, N·L]`.
    pub fn try_unfold_as(&self, win: &Window2d, layout: ColumnLayout) -> Result<Self, ShapeError> {
        let &[n, c, h, w] = self.shape() else {
            return Err(ShapeError::new(
                "unfold",
                format!("expected [N, C, H, W], got {:?}", self.shape()),
            ));
        };
        let out_size = win.output_size("unfold", h, w)?;
        let [kh, kw] = win.kernel;
        let (kk, l) = (kh * kw, out_size[0] * out_size[1]);
        let dims = [n, c, kk, l];
        let x = self.contiguous();
        let src = x.as_slice().expect("contiguous");
        let taps = TapOffsets::new(win, [h, w], out_size);
        // Each output row belongs to one (image, channel, tap); rows are written in chunks
        // of whole rows, so threads never share one, and every entry of a row is written
        // (zeros in the padding), so the buffer is not zero-filled first.
        let out = if layout == ColumnLayout::Batched && c >= BLOCKED_MIN_CHANNELS {
            // A channel's rows are one block, `kk·N` rows in tap-major order. Each chunk is
            // whole channels, visited image by image, so that an image plane is read once
            // for all its taps while in L1 (in row order, each tap would sweep all N planes).
            let channel = kk * n * l;
            filled(n * c * kk * l, channel, |start, chunk| {
                for (k, block) in chunk.chunks_mut(channel).enumerate() {
                    let cc = start / channel + k;
                    let plane = |nn: usize| &src[(nn * c + cc) * h * w..(nn * c + cc + 1) * h * w];
                    for nn in 0..n {
                        let img = plane(nn);
                        // The next image's plane, read while this one is gathered.
                        if nn + 1 < n {
                            prefetch(plane(nn + 1));
                        }
                        for t in 0..kk {
                            let row = (t * n + nn) * l;
                            taps.gather(t, img, &mut block[row..row + l]);
                        }
                    }
                }
            })
        } else {
            let fill = |first_row: usize, rows: &mut [MaybeUninit<E>]| {
                for (r, row) in rows.chunks_mut(l).enumerate() {
                    let (nn, cc, t) = match layout {
                        ColumnLayout::PerImage => {
                            let r = first_row + r;
                            (r / (c * kk), r / kk % c, r % kk)
                        }
                        ColumnLayout::Batched => {
                            let r = first_row + r;
                            (r % n, r / (kk * n), r / n % kk)
                        }
                    };
                    debug_assert_eq!(layout.row([nn, cc, t], dims), (first_row + r) * l);
                    let img = &src[(nn * c + cc) * h * w..(nn * c + cc + 1) * h * w];
                    taps.gather(t, img, row);
                }
            };
            let rows_per_chunk = (PARALLEL_MIN_LEN / 4 / l.max(1)).max(1);
            filled(n * c * kk * l, rows_per_chunk * l.max(1), |start, rows| {
                fill(start / l.max(1), rows)
            })
        };
        Tensor::try_from_vec(out, &layout.shape(dims))
    }

    /// [`Tensor::try_unfold_as`], panicking with the shapes on error.
    pub fn unfold_as(&self, win: &Window2d, layout: ColumnLayout) -> Self {
        or_panic(self.try_unfold_as(win, layout))
    }

    /// col2im: `[N, C·kh·kw, oh·ow]` → `[N, C, H, W]`, summing overlapping entries;
    /// the adjoint of [`Tensor::unfold`] for an image of size `(h, w)`.
    pub fn try_fold(&self, size: [usize; 2], win: &Window2d) -> Result<Self, ShapeError> {
        self.try_fold_as(size, win, ColumnLayout::PerImage)
    }

    /// col2im, panicking with the shapes on error.
    pub fn fold(&self, size: [usize; 2], win: &Window2d) -> Self {
        or_panic(self.try_fold(size, win))
    }

    /// col2im from either [`ColumnLayout`], the adjoint of [`Tensor::unfold_as`] with the
    /// same layout. Each pixel sums its taps in the same order in both layouts, so the two
    /// give the same bits.
    pub fn try_fold_as(
        &self,
        size: [usize; 2],
        win: &Window2d,
        layout: ColumnLayout,
    ) -> Result<Self, ShapeError> {
        let [h, w] = size;
        let [kh, kw] = win.kernel;
        let out_size = win.output_size("fold", h, w)?;
        let (kk, l) = (kh * kw, out_size[0] * out_size[1]);
        let bad = || {
            ShapeError::new(
                "fold",
                format!(
                    "columns {:?} do not match a {kh}x{kw} window over {h}x{w} ({l} positions{})",
                    self.shape(),
                    match layout {
                        ColumnLayout::PerImage => "",
                        ColumnLayout::Batched => " per image, batched layout",
                    }
                ),
            )
        };
        let (n, c) = match (layout, self.shape()) {
            (ColumnLayout::PerImage, &[n, ckk, cols_l]) if ckk % kk == 0 && cols_l == l => {
                (n, ckk / kk)
            }
            (ColumnLayout::Batched, &[ckk, nl]) if ckk % kk == 0 && l > 0 && nl % l == 0 => {
                (nl / l, ckk / kk)
            }
            (ColumnLayout::PerImage, &[_, _, _]) | (ColumnLayout::Batched, &[_, _]) => {
                return Err(bad())
            }
            _ => {
                return Err(ShapeError::new(
                    "fold",
                    format!(
                        "expected {} columns, got {:?}",
                        match layout {
                            ColumnLayout::PerImage => "[N, C*kh*kw, L]",
                            ColumnLayout::Batched => "[C*kh*kw, N*L]",
                        },
                        self.shape()
                    ),
                ))
            }
        };
        let dims = [n, c, kk, l];
        let cols = self.contiguous();
        let src = cols.as_slice().expect("contiguous");
        let taps = TapOffsets::new(win, size, out_size);
        // Tap t's row of an (image, channel) is t·stride after its tap 0's, in both layouts.
        let tap_stride = match layout {
            ColumnLayout::PerImage => l,
            ColumnLayout::Batched => n * l,
        };
        let sources = taps.sources(tap_stride).ok_or_else(|| {
            ShapeError::new(
                "fold",
                format!("columns {:?} too large to fold", self.shape()),
            )
        })?;
        // Each pixel is the sum of its sources in increasing tap order, written once: the
        // planes are independent, so chunks of whole planes go to rayon. The planes are
        // visited in the order of their columns: per image for `PerImage`, per channel for
        // `Batched` (where consecutive images' rows are adjacent, so the reads stream), and
        // the channel-major planes are then put in image order.
        let plane = h * w;
        let planes_per_chunk = (PARALLEL_MIN_LEN / 4 / plane.max(1)).max(1);
        let order = |i: usize| match layout {
            ColumnLayout::PerImage => (i / c, i % c),
            ColumnLayout::Batched => (i % n, i / n),
        };
        let folded = filled(
            n * c * plane,
            planes_per_chunk * plane.max(1),
            |start, chunk| {
                let planes = chunk.len() / plane.max(1);
                for (k, dst) in chunk.chunks_mut(plane.max(1)).enumerate() {
                    let (nn, cc) = order(start / plane.max(1) + k);
                    let first = layout.row([nn, cc, 0], dims);
                    // The next plane's column rows, read while this one is summed.
                    if let Some((nn, cc)) =
                        (k + 1 < planes).then(|| order(start / plane.max(1) + k + 1))
                    {
                        let next = layout.row([nn, cc, 0], dims);
                        for t in 0..kk {
                            prefetch(&src[next + t * tap_stride..next + t * tap_stride + l]);
                        }
                    }
                    sources.fold_plane(&src[first..], dst);
                }
            },
        );
        let out = if layout == ColumnLayout::Batched && c > 1 && n > 1 {
            filled(
                n * c * plane,
                planes_per_chunk * plane.max(1),
                |start, chunk| {
                    for (k, dst) in chunk.chunks_mut(plane.max(1)).enumerate() {
                        let i = start / plane.max(1) + k;
                        let (nn, cc) = (i / c, i % c);
                        let from = (cc * n + nn) * plane;
                        for (d, &v) in dst.iter_mut().zip(&folded[from..from + plane]) {
                            d.write(v);
                        }
                    }
                },
            )
        } else {
            folded
        };
        Tensor::try_from_vec(out, &[n, c, h, w])
    }

    /// [`Tensor::try_fold_as`], panicking with the shapes on error.
    pub fn fold_as(&self, size: [usize; 2], win: &Window2d, layout: ColumnLayout) -> Self {
        or_panic(self.try_fold_as(size, win, layout))
    }
}
