//! Convolution and transposed convolution, **composed** from unfold, the products
//! `conv_matmul` and `matmul_fold` (`fold(A·B)` without storing `A·B`), and reshape. They
//! have no VJP of their own, so they get double backward for free (WGAN-GP through a conv
//! critic needs exactly that).
//!
//! Both use the batched column layout `[C·kh·kw, N·L]` (see `gantry_tensor::ColumnLayout`),
//! so that each convolution, and each of its gradients, is a single GEMM over the whole
//! batch instead of one small product per image; where that GEMM's columns are folded (a
//! transposed convolution, a convolution's input gradient), the fold is fused onto it.

use gantry_tensor::{ColumnLayout, Element, Rectifier, Tensor, Window2d};

use crate::tape::Var;

/// Stride, zero padding and dilation of a 2-D convolution, each as (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// Step between windows.
    pub stride: [usize; 2],
    /// Zeros added on each side of the input.
    pub padding: [usize; 2],
    /// Spacing between kernel taps.
    pub dilation: [usize; 2],
}

impl ConvOptions {
    /// Square stride `s` and padding `p`, dilation 1.
    pub fn new(stride: usize, padding: usize) -> Self {
        ConvOptions {
            stride: [stride, stride],
            padding: [padding, padding],
            dilation: [1, 1],
        }
    }

    fn window(&self, kh: usize, kw: usize) -> Window2d {
        Window2d {
            kernel: [kh, kw],
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
        }
    }
}

impl Default for ConvOptions {
    fn default() -> Self {
        Self::new(1, 0)
    }
}

/// Adds a per-channel bias `[C]` to `[N, C, H, W]`, in one pass ([`Var::add_channel_bias`]).
fn add_channel_bias<'t, E: Element>(y: Var<'t, E>, bias: Option<Var<'t, E>>) -> Var<'t, E> {
    match bias {
        Some(b) => y.add_channel_bias(b),
        None => y,
    }
}

/// 2-D cross-correlation with PyTorch's semantics (`F.conv2d`):
/// `x: [N, C, H, W]`, `w: [O, C, kh, kw]`, `bias: [O]` → `[N, O, oh, ow]`, computed as
/// one GEMM `Y_{[O, N·L]} = W_{[O, C·kh·kw]} · unfold(x)_{[C·kh·kw, N·L]}`, whose
/// `[O, N, L]` blocks are then reordered to `[N, O, L]` (by the bias pass, when there is a
/// bias). The product is a [`Var::conv_matmul`], so `x̄ = fold(Wᵀ·Ȳ)` is one fused op.
///
/// # Panics
/// On shape mismatches, naming both shapes.
pub fn conv2d<'t, E: Element>(
    x: Var<'t, E>,
    w: Var<'t, E>,
    bias: Option<Var<'t, E>>,
    opt: ConvOptions,
) -> Var<'t, E> {
    let y = channels_major_product(x, w, opt);
    match bias {
        Some(b) => y.add_channel_bias(b),
        None => y.reshape(&y.shape()),
    }
}

/// `rectifier(conv2d(x, w, bias))` (a critic's convolution and its LeakyReLU), with the
/// rectifier applied in the bias's pass ([`Var::channel_affine_rectified`]): the values and
/// gradients of [`conv2d`] followed by `.relu()` or `.leaky_relu(slope)`, one pass fewer.
///
/// # Panics
/// As [`conv2d`], and for a LeakyReLU slope that is negative or NaN.
pub fn conv2d_rectified<'t, E: Element>(
    x: Var<'t, E>,
    w: Var<'t, E>,
    bias: Var<'t, E>,
    opt: ConvOptions,
    rectifier: Rectifier,
) -> Var<'t, E> {
    channels_major_product(x, w, opt).channel_affine_rectified(None, bias, rectifier)
}

/// [`conv2d`]'s product as the `[N, O, oh, ow]` view of its `[O, N, oh, ow]` result.
fn channels_major_product<'t, E: Element>(
    x: Var<'t, E>,
    w: Var<'t, E>,
    opt: ConvOptions,
) -> Var<'t, E> {
    let (xs, ws) = (x.shape(), w.shape());
    assert!(
        xs.len() == 4 && ws.len() == 4 && xs[1] == ws[1],
        "conv2d: input {xs:?} and weight {ws:?} do not match (need [N, C, H, W] and [O, C, kh, kw])"
    );
    let win = opt.window(ws[2], ws[3]);
    let [oh, ow] = win
        .output_size("conv2d", xs[2], xs[3])
        .unwrap_or_else(|e| panic!("{e}"));
    let (n, o) = (xs[0], ws[0]);
    let cols = x.unfold_as(&win, ColumnLayout::Batched);
    // `[O, N, oh, ow]` seen as `[N, O, oh, ow]`: the bias pass reads this channels-major
    // view and writes the contiguous output, so the reorder costs no pass of its own.
    w.reshape(&[o, ws[1] * ws[2] * ws[3]])
        .conv_matmul(cols, x, &win)
        .reshape(&[o, n, oh, ow])
        .permute(&[1, 0, 2, 3])
}

/// 2-D transposed convolution with PyTorch's semantics (`F.conv_transpose2d`):
/// `x: [N, Cin, H, W]`, `w: [Cin, Cout, kh, kw]`, `bias: [Cout]` →
/// `[N, Cout, H_out, W_out]` with `H_out = (H − 1)·s − 2p + d·(kh − 1) + output_padding + 1`.
/// It is the adjoint of `conv2d` in `x`: columns `Wᵀ_{[Cout·kh·kw, Cin]} · X_{[Cin, N·H·W]}`
/// (one GEMM for the batch), folded onto the output as they are computed
/// ([`Var::matmul_fold`]).
///
/// # Panics
/// On shape mismatches or an `output_padding` not smaller than the stride or dilation.
pub fn conv_transpose2d<'t, E: Element>(
    x: Var<'t, E>,
    w: Var<'t, E>,
    bias: Option<Var<'t, E>>,
    opt: ConvOptions,
    output_padding: [usize; 2],
) -> Var<'t, E> {
    let (xs, ws) = (x.shape(), w.shape());
    assert!(
        xs.len() == 4 && ws.len() == 4 && xs[0] > 0 && xs[1] == ws[0],
        "conv_transpose2d: input {xs:?} and weight {ws:?} do not match (need [N, Cin, H, W] and [Cin, Cout, kh, kw])"
    );
    for a in 0..2 {
        assert!(
            output_padding[a] < opt.stride[a].max(opt.dilation[a]),
            "conv_transpose2d: output_padding {output_padding:?} must be smaller than stride {:?} or dilation {:?}",
            opt.stride,
            opt.dilation
        );
    }
    let (n, cin, h, w_in) = (xs[0], xs[1], xs[2], xs[3]);
    let (cout, kh, kw) = (ws[1], ws[2], ws[3]);
    let out_len = |len: usize, a: usize, k: usize| {
        ((len - 1) * opt.stride[a] + opt.dilation[a] * (k - 1) + output_padding[a] + 1)
            .checked_sub(2 * opt.padding[a])
            .filter(|&l| l > 0)
            .unwrap_or_else(|| {
                panic!(
                    "conv_transpose2d: padding {:?} leaves no output for input {xs:?}",
                    opt.padding
                )
            })
    };
    let (oh, ow) = (out_len(h, 0, kh), out_len(w_in, 1, kw));
    let win = opt.window(kh, kw);
    let images_side_by_side = x
        .reshape(&[n, cin, h * w_in])
        .permute(&[1, 0, 2])
        .reshape(&[cin, n * h * w_in]);
    let w_t = w.reshape(&[cin, cout * kh * kw]).t();
    let y = if (0..2).all(|a| output_padding[a] < opt.stride[a]) {
        // A convolution over `oh` rows then sees exactly `h` windows, so fold can place the
        // columns (cropping the padding) directly, as the product computes them.
        w_t.matmul_fold(images_side_by_side, [oh, ow], &win)
    } else {
        fold_uncropped([h, w_in], [oh, ow], &win, w_t.matmul(images_side_by_side))
    };
    add_channel_bias(y, bias)
}

/// Folds `cols` (windows over an `input`-sized grid) onto an `out`-sized image when
/// `output_padding ≥ stride` (allowed when the dilation is larger): a convolution over
/// `out` rows would then see more than `input` windows, so fold cannot take that size.
/// Instead fold onto the whole unpadded canvas `(input − 1)·s + d·(k − 1) + 1`, crop
/// `padding` from the start, and append the zero rows that no window reaches.
fn fold_uncropped<'t, E: Element>(
    input: [usize; 2],
    out: [usize; 2],
    win: &Window2d,
    cols: Var<'t, E>,
) -> Var<'t, E> {
    let canvas: [usize; 2] = std::array::from_fn(|a| {
        (input[a] - 1) * win.stride[a] + win.dilation[a] * (win.kernel[a] - 1) + 1
    });
    let unpadded = Window2d {
        padding: [0, 0],
        ..*win
    };
    let mut y = cols.fold_as(canvas, &unpadded, ColumnLayout::Batched);
    for a in 0..2 {
        let axis = 2 + a;
        let start = win.padding[a].min(canvas[a]);
        let len = out[a].min(canvas[a] - start);
        y = y.narrow(axis, start, len);
        if len < out[a] {
            let mut shape = y.shape();
            shape[axis] = out[a] - len;
            y = Var::concat(&[y, y.constant(Tensor::zeros(&shape))], axis);
        }
    }
    y
}
