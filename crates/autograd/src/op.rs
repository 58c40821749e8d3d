//! The closed set of primitive ops.
//!
//! Every value on a tape was made by exactly one of these. Each family lives in its own
//! file with its forward kernel call and its vector-Jacobian product (VJP) side by side;
//! this file only dispatches. A new primitive does not compile until the exhaustive `match`
//! below knows its VJP.
//!
//! Each variant saves exactly what its VJP needs: input indices, and scalars or shapes;
//! input *values* are read back from the tape.

use std::sync::Arc;

use gantry_tensor::{ColumnLayout, Element, Rectifier, Window2d};

use crate::binary::Binary;
use crate::layout::Layout;
use crate::reduce::Reduce;
use crate::tape::Var;
use crate::unary::Unary;

/// How a node was computed (inputs are tape indices).
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// A leaf: `tape.var` or `tape.constant`, or any value not being differentiated.
    Leaf,
    /// `y = f(x)` elementwise.
    Unary(Unary, usize),
    /// `y = f(a, b)` elementwise with broadcasting.
    Binary(Binary, usize, usize),
    /// A reduction over axes.
    Reduce(Reduce, usize),
    /// A shape op (reshape, permute, broadcast, sum_to, narrow).
    Layout(Layout, usize),
    /// Concatenation of the inputs along an axis.
    Concat(Vec<usize>, usize),
    /// Batched matrix product `a · b`.
    MatMul(usize, usize),
    /// `a·b + bias` for matrices `a`, `b` and a bias row (inputs `a`, `b`, `bias`), then
    /// the rectifier if any.
    MatMulBias(Option<Rectifier>, usize, usize, usize),
    /// `x[n, c, …]·a[c] + b[c]`, or `x[n, c, …] + b[c]` without `a` (inputs `x`, `a`, `b`),
    /// then the rectifier if any.
    ChannelAffine(Option<Rectifier>, usize, Option<usize>, usize),
    /// `fold(a·b)` from batched columns, never storing `a·b` (the image size is the node's
    /// own shape).
    MatMulFold(Window2d, usize, usize),
    /// A convolution's product `w·cols` where `cols = unfold(x)` (batched): inputs `w`,
    /// `cols` and `x`, so that `x̄` is one [`Op::MatMulFold`] instead of a product then fold.
    ConvMatMul(Window2d, usize, usize, usize),
    /// im2col into a column layout.
    Unfold(Window2d, ColumnLayout, usize),
    /// col2im from a column layout (the image size is the node's own shape).
    Fold(Window2d, ColumnLayout, usize),
    /// Rows of a table picked by the indices (an embedding lookup).
    IndexRows(Arc<[u32]>, usize),
    /// Rows summed into the rows the indices name (the row count is the node's own shape).
    ScatterAddRows(Arc<[u32]>, usize),
}

impl Op {
    /// Whether `pred` holds for any tape index this node was computed from.
    pub(crate) fn any_input(&self, mut pred: impl FnMut(usize) -> bool) -> bool {
        match self {
            Op::Leaf => false,
            Op::Unary(_, x)
            | Op::Reduce(_, x)
            | Op::Layout(_, x)
            | Op::Unfold(_, _, x)
            | Op::Fold(_, _, x)
            | Op::IndexRows(_, x)
            | Op::ScatterAddRows(_, x) => pred(*x),
            Op::Binary(_, a, b) | Op::MatMul(a, b) | Op::MatMulFold(_, a, b) => {
                pred(*a) || pred(*b)
            }
            Op::ConvMatMul(_, a, b, c) | Op::MatMulBias(_, a, b, c) => {
                pred(*a) || pred(*b) || pred(*c)
            }
            Op::ChannelAffine(_, x, a, b) => pred(*x) || a.is_some_and(&mut pred) || pred(*b),
            Op::Concat(parts, _) => parts.iter().any(|&p| pred(p)),
        }
    }
}

/// The gradient contributions of one node: for each input index that `needs` a gradient,
/// `ḡ_input` given the node's output `y` and its cotangent `g`. Written with `Var` ops
/// only, so that with `create_graph` the backward pass is itself recorded and can be
/// differentiated again. Inputs that need no gradient cost no work (a weight's gradient is
/// not computed when only the input gradient is asked for, as in a gradient penalty).
pub(crate) fn vjp<'t, E: Element>(
    op: &Op,
    y: Var<'t, E>,
    g: Var<'t, E>,
    needs: impl Fn(usize) -> bool,
) -> Vec<(usize, Var<'t, E>)> {
    let tape = y.tape;
    if !op.any_input(&needs) {
        return Vec::new();
    }
    match op {
        Op::Leaf => Vec::new(),
        Op::Unary(u, x) => vec![(*x, u.vjp(tape.at(*x), y, g))],
        Op::Binary(b, lhs, rhs) => {
            let (ga, gb) = b.vjp(tape.at(*lhs), tape.at(*rhs), g, [needs(*lhs), needs(*rhs)]);
            present([(*lhs, ga), (*rhs, gb)])
        }
        Op::Reduce(r, x) => vec![(*x, r.vjp(tape.at(*x), y, g))],
        Op::Layout(l, x) => vec![(*x, l.vjp(tape.at(*x), g))],
        Op::Concat(parts, axis) => crate::layout::concat_vjp(tape, parts, *axis, g),
        Op::MatMul(a, b) => {
            let (ga, gb) =
                crate::linalg::matmul_vjp(tape.at(*a), tape.at(*b), g, [needs(*a), needs(*b)]);
            present([(*a, ga), (*b, gb)])
        }
        Op::MatMulBias(rectifier, a, b, bias) => {
            let needs = [needs(*a), needs(*b), needs(*bias)];
            let g = rectifier.map_or(g, |r| crate::unary::rectifier_gate(r, y, g));
            let [ga, gb, gbias] =
                crate::linalg::matmul_bias_vjp(tape.at(*a), tape.at(*b), tape.at(*bias), g, needs);
            present([(*a, ga), (*b, gb), (*bias, gbias)])
        }
        Op::MatMulFold(win, a, b) => {
            let (ga, gb) = crate::linalg::matmul_fold_vjp(
                tape.at(*a),
                tape.at(*b),
                win,
                g,
                [needs(*a), needs(*b)],
            );
            present([(*a, ga), (*b, gb)])
        }
        Op::ConvMatMul(win, w, cols, x) => {
            let (gw, gx) = crate::linalg::conv_matmul_vjp(
                tape.at(*w),
                tape.at(*cols),
                tape.at(*x),
                win,
                g,
                [needs(*w), needs(*x)],
            );
            present([(*w, gw), (*x, gx)])
        }
        Op::ChannelAffine(rectifier, x, a, b) => {
            let needs = [needs(*x), a.is_some_and(&needs), needs(*b)];
            let g = rectifier.map_or(g, |r| crate::unary::rectifier_gate(r, y, g));
            let grads =
                crate::channel::channel_affine_vjp(tape.at(*x), a.map(|a| tape.at(a)), g, needs);
            [Some(*x), *a, Some(*b)]
                .into_iter()
                .zip(grads)
                .filter_map(|(i, v)| Some((i?, v?)))
                .collect()
        }
        Op::Unfold(win, layout, x) => {
            vec![(*x, crate::linalg::unfold_vjp(tape.at(*x), win, *layout, g))]
        }
        Op::Fold(win, layout, x) => vec![(*x, crate::linalg::fold_vjp(win, *layout, g))],
        Op::IndexRows(idx, x) => {
            vec![(*x, crate::index_rows::index_rows_vjp(tape.at(*x), idx, g))]
        }
        Op::ScatterAddRows(idx, x) => {
            vec![(*x, crate::index_rows::scatter_add_rows_vjp(idx, g))]
        }
    }
}

/// The gradients of an op's inputs that were computed (an input that needs none gets `None`).
fn present<'t, E: Element, const N: usize>(
    grads: [(usize, Option<Var<'t, E>>); N],
) -> Vec<(usize, Var<'t, E>)> {
    grads
        .into_iter()
        .filter_map(|(i, v)| Some((i, v?)))
        .collect()
}
