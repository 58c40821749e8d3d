//! Matrix product and the convolution kernels (unfold, fold): forward and VJP side by side.

use gantry_tensor::{Element, Window2d};

use crate::op::Op;
use crate::tape::Var;

/// `C = A·B` ⇒ `Ā = C̄·Bᵀ`, `B̄ = Aᵀ·C̄` (each summed back over broadcast batch axes).
/// Transposes are strided views, so no operand is copied.
pub(crate) fn matmul_vjp<'t, E: Element>(
    a: Var<'t, E>,
    b: Var<'t, E>,
    g: Var<'t, E>,
) -> (Option<Var<'t, E>>, Option<Var<'t, E>>) {
    let ga = a
        .requires_grad()
        .then(|| g.matmul(b.t()).sum_to(&a.shape()));
    let gb = b
        .requires_grad()
        .then(|| a.t().matmul(g).sum_to(&b.shape()));
    (ga, gb)
}

/// `unfold` is linear; its adjoint is `fold` onto the input's image size.
pub(crate) fn unfold_vjp<'t, E: Element>(
    x: Var<'t, E>,
    win: &Window2d,
    g: Var<'t, E>,
) -> Var<'t, E> {
    let s = x.shape();
    g.fold([s[2], s[3]], win)
}

/// `fold` is linear; its adjoint is `unfold`.
pub(crate) fn fold_vjp<'t, E: Element>(win: &Window2d, g: Var<'t, E>) -> Var<'t, E> {
    g.unfold(win)
}

impl<'t, E: Element> Var<'t, E> {
    /// Batched matrix product `[.., m, k] · [.., k, n]` with broadcast batch axes.
    pub fn matmul(self, other: Var<'t, E>) -> Var<'t, E> {
        self.same_tape(&other, "matmul");
        let value = self.value().matmul(&other.value());
        self.tape.record(
            value,
            Op::MatMul(self.index, other.index),
            &[self.index, other.index],
        )
    }

    /// im2col: `[N, C, H, W]` → `[N, C·kh·kw, oh·ow]` (PyTorch's `F.unfold`).
    pub fn unfold(self, win: &Window2d) -> Var<'t, E> {
        let value = self.value().unfold(win);
        self.tape
            .record(value, Op::Unfold(*win, self.index), &[self.index])
    }

    /// col2im onto `[N, C, size.0, size.1]`, summing overlaps (PyTorch's `F.fold`).
    pub fn fold(self, size: [usize; 2], win: &Window2d) -> Var<'t, E> {
        let value = self.value().fold(size, win);
        self.tape
            .record(value, Op::Fold(*win, self.index), &[self.index])
    }
}
