//! Shape primitives: reshape, permute, broadcast_to, sum_to, narrow, concat.
//!
//! They come in adjoint pairs, so their VJPs close the set: reshape ↔ reshape back,
//! permute ↔ inverse permute, broadcast_to ↔ sum_to, narrow ↔ concat with zeros.

use gantry_tensor::{Element, Tensor};

use crate::op::Op;
use crate::tape::{Tape, Var};

/// The one-input shape primitives.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    Reshape,
    Permute(Vec<usize>),
    BroadcastTo,
    SumTo,
    Narrow {
        axis: usize,
        start: usize,
        len: usize,
    },
}

impl Layout {
    /// `ḡx` (the input's shape is read from the tape).
    pub(crate) fn vjp<'t, E: Element>(&self, x: Var<'t, E>, g: Var<'t, E>) -> Var<'t, E> {
        let shape = x.shape();
        match self {
            Layout::Reshape => g.reshape(&shape),
            Layout::Permute(perm) => {
                let mut inverse = vec![0; perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inverse[p] = i;
                }
                g.permute(&inverse)
            }
            Layout::BroadcastTo => g.sum_to(&shape),
            Layout::SumTo => g.broadcast_to(&shape),
            Layout::Narrow { axis, start, len } => {
                let zeros = |n: usize| {
                    let mut s = shape.clone();
                    s[*axis] = n;
                    x.constant(Tensor::zeros(&s))
                };
                let after = shape[*axis] - start - len;
                let mut parts = Vec::new();
                if *start > 0 {
                    parts.push(zeros(*start));
                }
                parts.push(g);
                if after > 0 {
                    parts.push(zeros(after));
                }
                Var::concat(&parts, *axis)
            }
        }
    }
}

/// `ḡ` of each concatenated part: its slice of `g`.
pub(crate) fn concat_vjp<'t, E: Element>(
    tape: &'t Tape<E>,
    parts: &[usize],
    axis: usize,
    g: Var<'t, E>,
) -> Vec<(usize, Var<'t, E>)> {
    let mut offset = 0;
    parts
        .iter()
        .map(|&p| {
            let len = tape.at(p).shape()[axis];
            let slice = g.narrow(axis, offset, len);
            offset += len;
            (p, slice)
        })
        .collect()
}

impl<'t, E: Element> Var<'t, E> {
    fn layout(self, l: Layout, value: Tensor<E>) -> Var<'t, E> {
        self.tape
            .record(value, Op::Layout(l, self.index), &[self.index])
    }

    /// The same elements with a new shape.
    pub fn reshape(self, shape: &[usize]) -> Var<'t, E> {
        if self.shape() == shape {
            return self;
        }
        let value = self.value().reshape(shape);
        self.layout(Layout::Reshape, value)
    }

    /// Reorders axes: output axis `i` is input axis `perm[i]`.
    pub fn permute(self, perm: &[usize]) -> Var<'t, E> {
        let value = self.value().permute(perm);
        self.layout(Layout::Permute(perm.to_vec()), value)
    }

    /// Swaps two axes.
    pub fn transpose(self, a: usize, b: usize) -> Var<'t, E> {
        let mut perm: Vec<usize> = (0..self.shape().len()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Swaps the last two axes (batched matrix transpose).
    pub fn t(self) -> Var<'t, E> {
        let n = self.shape().len();
        assert!(
            n >= 2,
            "t: needs at least 2 axes, got shape {:?}",
            self.shape()
        );
        self.transpose(n - 2, n - 1)
    }

    /// Repeats size-1 (or missing leading) axes to reach `shape`.
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'t, E> {
        if self.shape() == shape {
            return self;
        }
        let value = self.value().broadcast_to(shape);
        self.layout(Layout::BroadcastTo, value)
    }

    /// Sums broadcast axes away to reach `shape` (the adjoint of `broadcast_to`).
    pub fn sum_to(self, shape: &[usize]) -> Var<'t, E> {
        if self.shape() == shape {
            return self;
        }
        let value = self.value().sum_to(shape);
        self.layout(Layout::SumTo, value)
    }

    /// Elements `start..start + len` along `axis`.
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Var<'t, E> {
        let value = self.value().narrow(axis, start, len);
        self.layout(Layout::Narrow { axis, start, len }, value)
    }

    /// Joins `parts` (all on one tape) along `axis`.
    pub fn concat(parts: &[Var<'t, E>], axis: usize) -> Var<'t, E> {
        let first = parts.first().expect("concat: no Vars to join");
        parts.iter().for_each(|p| first.same_tape(p, "concat"));
        let values: Vec<Tensor<E>> = parts.iter().map(|p| p.value()).collect();
        let value = Tensor::concat(&values, axis);
        let idx: Vec<usize> = parts.iter().map(|p| p.index).collect();
        first
            .tape
            .record(value, Op::Concat(idx.clone(), axis), &idx)
    }
}
