//! Matrix product and the convolution kernels (unfold, fold): forward and VJP side by side.

use gantry_tensor::{ColumnLayout, Element, Rectifier, Tensor, Window2d};

use crate::op::Op;
use crate::tape::Var;

/// `C = A·B` ⇒ `Ā = C̄·Bᵀ`, `B̄ = Aᵀ·C̄` (each summed back over broadcast batch axes),
/// each computed only if `needs` says so. Transposes are strided views, so no operand is
/// copied.
///
/// When a matrix is shared across a batch (`[m, k] · [B, k, n]`, as a convolution's weight
/// is), its gradient `Σ_b C̄_b·B_bᵀ` is one GEMM with the batch folded into the inner
/// dimension, `C̄_{[m, B·n]}·B_{[k, B·n]}ᵀ`, rather than `B` products summed afterwards.
pub(crate) fn matmul_vjp<'t, E: Element>(
    a: Var<'t, E>,
    b: Var<'t, E>,
    g: Var<'t, E>,
    needs: [bool; 2],
) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
    let (sa, sb) = (a.shape(), b.shape());
    if (sa.len(), sb.len()) == (2, 2) {
        return matrix_vjp(a, b, g, needs);
    }
    let ga = needs[0].then(|| match (sa.len(), sb.len()) {
        (2, 3) => {
            let (batch, k, n) = (sb[0], sb[1], sb[2]);
            let g2 = g.permute(&[1, 0, 2]).reshape(&[sa[0], batch * n]);
            g2.matmul(b.permute(&[1, 0, 2]).reshape(&[k, batch * n]).t())
        }
        _ => g.matmul(b.t()).sum_to(&sa),
    });
    let gb = needs[1].then(|| match (sa.len(), sb.len()) {
        (3, 2) => {
            let (rows, k) = (sa[0] * sa[1], sa[2]);
            a.reshape(&[rows, k]).t().matmul(g.reshape(&[rows, sb[1]]))
        }
        _ => a.t().matmul(g).sum_to(&sb),
    });
    (ga, gb)
}

/// [`matmul_vjp`] for two matrices: `Ā = C̄·Bᵀ` and `B̄ = Aᵀ·C̄`. A transposed operand (`Wᵀ`
/// in `x·Wᵀ`) gets its gradient transposed too: computed as `(B·C̄ᵀ)ᵀ` or `(C̄ᵀ·A)ᵀ`, a view
/// whose transpose back (the VJP of `t`) is contiguous.
///
/// The two products are computed first, side by side when both are needed
/// ([`Tensor::matmul_pair`]), then recorded as if each had been computed where it is
/// recorded: the tape is the same node for node as with two [`Var::matmul`]s.
fn matrix_vjp<'t, E: Element>(
    a: Var<'t, E>,
    b: Var<'t, E>,
    g: Var<'t, E>,
    needs: [bool; 2],
) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
    let (ta, tb) = (is_transposed(a), is_transposed(b));
    // Ā is `x·yᵀ` (transposed back when A is transposed), B̄ is `xᵀ·y` (likewise for B).
    let (xa, ya) = if ta { (b, g) } else { (g, b) };
    let (xb, yb) = if tb { (g, a) } else { (a, g) };
    let for_a = (xa.value(), ya.value().t());
    let for_b = (xb.value().t(), yb.value());
    let product = |(x, y): &(Tensor<E>, Tensor<E>)| x.matmul(y);
    let (pa, pb) = match needs {
        [true, true] => {
            let (pa, pb) = Tensor::matmul_pair((&for_a.0, &for_a.1), (&for_b.0, &for_b.1));
            (Some(pa), Some(pb))
        }
        _ => (
            needs[0].then(|| product(&for_a)),
            needs[1].then(|| product(&for_b)),
        ),
    };
    let transposed_if = |flag: bool, v: Var<'t, E>| if flag { v.t() } else { v };
    let ga = pa.map(|p| transposed_if(ta, xa.matmul_computed(ya.t(), p)));
    let gb = pb.map(|p| transposed_if(tb, xb.t().matmul_computed(yb, p)));
    (ga, gb)
}

/// `C = A·B + 1·biasᵀ` ⇒ `Ā`, `B̄` as for the product ([`matmul_vjp`]) and `b̄ias = Σᵢ
/// C̄[i][..]`, the cotangent summed over the rows the bias was added to.
pub(crate) fn matmul_bias_vjp<'t, E: Element>(
    a: Var<'t, E>,
    b: Var<'t, E>,
    bias: Var<'t, E>,
    g: Var<'t, E>,
    [needs_a, needs_b, needs_bias]: [bool; 3],
) -> [Option<Var<'t, E>>; 3] {
    let (ga, gb) = matmul_vjp(a, b, g, [needs_a, needs_b]);
    [ga, gb, needs_bias.then(|| g.sum_to(&bias.shape()))]
}

/// Whether a matrix is stored column-major (a transposed view of a row-major one).
fn is_transposed<E: Element>(m: Var<'_, E>) -> bool {
    let v = m.value();
    !v.is_contiguous() && v.t().is_contiguous()
}

/// `Y = fold(A·B)` (batched columns) ⇒ with the columns' cotangent `unfold(Ȳ)` (fold's
/// adjoint), `Ā = unfold(Ȳ)·Bᵀ` and `B̄ = Aᵀ·unfold(Ȳ)`: the product's VJP ([`matmul_vjp`]).
pub(crate) fn matmul_fold_vjp<'t, E: Element>(
    a: Var<'t, E>,
    b: Var<'t, E>,
    win: &Window2d,
    g: Var<'t, E>,
    needs: [bool; 2],
) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
    matmul_vjp(a, b, g.unfold_as(win, ColumnLayout::Batched), needs)
}

/// `Y = W·cols` with `cols = unfold(x)` ⇒ `W̄ = Ȳ·colsᵀ` ([`matmul_vjp`]) and
/// `x̄ = fold(Wᵀ·Ȳ)`, one [`Var::matmul_fold`]: the columns' cotangent `Wᵀ·Ȳ` is never
/// stored. `cols` itself gets no cotangent (its dependence on `x` is `x̄`), but `W̄` is a
/// product with it, so that differentiating `W̄` again reaches `x` through `cols`.
pub(crate) fn conv_matmul_vjp<'t, E: Element>(
    w: Var<'t, E>,
    cols: Var<'t, E>,
    x: Var<'t, E>,
    win: &Window2d,
    g: Var<'t, E>,
    [needs_w, needs_x]: [bool; 2],
) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
    let gw = matmul_vjp(w, cols, g, [needs_w, false]).0;
    let s = x.shape();
    let gx = needs_x.then(|| w.t().matmul_fold(g, [s[2], s[3]], win));
    (gw, gx)
}

/// `unfold` is linear; its adjoint is `fold` (same layout) onto the input's image size.
pub(crate) fn unfold_vjp<'t, E: Element>(
    x: Var<'t, E>,
    win: &Window2d,
    layout: ColumnLayout,
    g: Var<'t, E>,
) -> Var<'t, E> {
    let s = x.shape();
    g.fold_as([s[2], s[3]], win, layout)
}

/// `fold` is linear; its adjoint is `unfold` (same layout).
pub(crate) fn fold_vjp<'t, E: Element>(
    win: &Window2d,
    layout: ColumnLayout,
    g: Var<'t, E>,
) -> Var<'t, E> {
    g.unfold_as(win, layout)
}

impl<'t, E: Element> Var<'t, E> {
    /// Batched matrix product `[.., m, k] · [.., k, n]` with broadcast batch axes.
    pub fn matmul(self, other: Var<'t, E>) -> Var<'t, E> {
        self.same_tape(&other, "matmul");
        let value = self.value().matmul(&other.value());
        self.matmul_computed(other, value)
    }

    /// Records `self·other` whose value `product` was computed already (by
    /// [`Tensor::matmul_pair`], beside another product).
    fn matmul_computed(self, other: Var<'t, E>, product: Tensor<E>) -> Var<'t, E> {
        self.tape.record(
            product,
            Op::MatMul(self.index, other.index),
            &[self.index, other.index],
        )
    }

    /// `self·b + bias` for `self: [m, k]`, `b: [k, n]` and `bias: [n]` (a linear layer's
    /// `x·Wᵀ + b`): the value of `self.matmul(b) + bias`, with the bias added inside the
    /// product ([`Tensor::matmul_bias`]) and one node on the tape instead of two.
    ///
    /// [`Tensor::matmul_bias`]: gantry_tensor::Tensor::matmul_bias
    pub fn matmul_bias(self, b: Var<'t, E>, bias: Var<'t, E>) -> Var<'t, E> {
        self.same_tape(&b, "matmul_bias");
        self.same_tape(&bias, "matmul_bias");
        let value = self.value().matmul_bias(&b.value(), &bias.value());
        self.tape.record(
            value,
            Op::MatMulBias(None, self.index, b.index, bias.index),
            &[self.index, b.index, bias.index],
        )
    }

    /// `rectifier(self·b + bias)`, shapes as for [`Var::matmul_bias`] (a linear layer and
    /// its ReLU or LeakyReLU): the value and the gradients of `self.matmul_bias(b,
    /// bias).relu()` (or `.leaky_relu(slope)`), with the rectifier applied inside the
    /// product ([`Tensor::matmul_bias_rectified`]) and one node on the tape instead of two.
    ///
    /// # Panics
    /// For a LeakyReLU slope that is negative or NaN: the VJP reads the gate from the output,
    /// which has the input's sign only for a slope ≥ 0.
    ///
    /// [`Tensor::matmul_bias_rectified`]: gantry_tensor::Tensor::matmul_bias_rectified
    pub fn matmul_bias_rectified(
        self,
        b: Var<'t, E>,
        bias: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Var<'t, E> {
        self.same_tape(&b, "matmul_bias_rectified");
        self.same_tape(&bias, "matmul_bias_rectified");
        crate::unary::check_gate_on_output("matmul_bias_rectified", rectifier);
        let value = self
            .value()
            .matmul_bias_rectified(&b.value(), &bias.value(), rectifier);
        self.tape.record(
            value,
            Op::MatMulBias(Some(rectifier), self.index, b.index, bias.index),
            &[self.index, b.index, bias.index],
        )
    }

    /// `fold(self·b)` onto `[N, C, size.0, size.1]` for batched columns (`self: [C·kh·kw,
    /// K]`, `b: [K, N·L]`), without storing the product ([`Tensor::matmul_fold`]).
    ///
    /// [`Tensor::matmul_fold`]: gantry_tensor::Tensor::matmul_fold
    pub fn matmul_fold(self, b: Var<'t, E>, size: [usize; 2], win: &Window2d) -> Var<'t, E> {
        self.same_tape(&b, "matmul_fold");
        let value = self.value().matmul_fold(&b.value(), size, win);
        self.tape.record(
            value,
            Op::MatMulFold(*win, self.index, b.index),
            &[self.index, b.index],
        )
    }

    /// A convolution's product `self·cols` (`self: [O, C·kh·kw]`), where `cols` is
    /// `x.unfold_as(win, ColumnLayout::Batched)`: the value of `self.matmul(cols)`, whose
    /// input gradient `x̄ = fold(selfᵀ·Ȳ)` is one fused [`Var::matmul_fold`].
    ///
    /// # Panics
    /// If `cols` does not have the shape of `x`'s batched columns for `win`.
    pub fn conv_matmul(self, cols: Var<'t, E>, x: Var<'t, E>, win: &Window2d) -> Var<'t, E> {
        self.same_tape(&cols, "conv_matmul");
        self.same_tape(&x, "conv_matmul");
        let (xs, cs) = (x.shape(), cols.shape());
        let columns = (xs.len() == 4)
            .then(|| win.output_size("conv_matmul", xs[2], xs[3]).ok())
            .flatten()
            .map(|[oh, ow]| vec![xs[1] * win.kernel[0] * win.kernel[1], xs[0] * oh * ow]);
        assert!(
            columns.as_deref() == Some(&cs[..]),
            "conv_matmul: columns {cs:?} are not the batched columns of input {xs:?} for {win:?}"
        );
        let value = self.value().matmul(&cols.value());
        self.tape.record(
            value,
            Op::ConvMatMul(*win, self.index, cols.index, x.index),
            &[self.index, cols.index, x.index],
        )
    }

    /// im2col: `[N, C, H, W]` → `[N, C·kh·kw, oh·ow]` (PyTorch's `F.unfold`).
    pub fn unfold(self, win: &Window2d) -> Var<'t, E> {
        self.unfold_as(win, ColumnLayout::PerImage)
    }

    /// im2col into either column layout (`[C·kh·kw, N·oh·ow]` for a batch-wide GEMM).
    pub fn unfold_as(self, win: &Window2d, layout: ColumnLayout) -> Var<'t, E> {
        let value = self.value().unfold_as(win, layout);
        self.tape
            .record(value, Op::Unfold(*win, layout, self.index), &[self.index])
    }

    /// col2im onto `[N, C, size.0, size.1]`, summing overlaps (PyTorch's `F.fold`).
    pub fn fold(self, size: [usize; 2], win: &Window2d) -> Var<'t, E> {
        self.fold_as(size, win, ColumnLayout::PerImage)
    }

    /// col2im from either column layout.
    pub fn fold_as(self, size: [usize; 2], win: &Window2d, layout: ColumnLayout) -> Var<'t, E> {
        let value = self.value().fold_as(size, win, layout);
        self.tape
            .record(value, Op::Fold(*win, layout, self.index), &[self.index])
    }
}
