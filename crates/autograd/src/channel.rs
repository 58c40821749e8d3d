//! Per-channel primitives of `[N, C, …]` tensors, forward and VJP side by side: batch
//! norm's affine map `y[n, c, …] = x[n, c, …]·a[c] + b[c]` and a bias `x[n, c, …] + b[c]`,
//! each one pass where broadcasting takes one per operation (and, for a convolution's
//! output, one more to copy it out of its channels-major layout first); either followed by
//! a ReLU or LeakyReLU in the same pass.

use gantry_tensor::{Element, Rectifier};

use crate::op::Op;
use crate::tape::Var;

impl<'t, E: Element> Var<'t, E> {
    /// `y[n, c, …] = x[n, c, …]·a[c] + b[c]` for `x: [N, C, …]` and `a, b: [C]` (channels
    /// on axis 1), rounded as `(x·a) + b`.
    ///
    /// # Panics
    /// On shape mismatches, naming the three shapes.
    pub fn channel_affine(self, a: Var<'t, E>, b: Var<'t, E>) -> Var<'t, E> {
        let value = self
            .value()
            .try_channel_affine(&a.value(), &b.value())
            .unwrap_or_else(|e| panic!("{e}"));
        let op = Op::ChannelAffine(None, self.index, Some(a.index), b.index);
        self.tape.record(value, op, &[self.index, a.index, b.index])
    }

    /// `y[n, c, …] = x[n, c, …] + b[c]` for `x: [N, C, …]` and `b: [C]`; `x` may be a
    /// channels-major view (see `gantry_tensor::channel`), the result is contiguous.
    ///
    /// # Panics
    /// On shape mismatches, naming both shapes.
    pub fn add_channel_bias(self, b: Var<'t, E>) -> Var<'t, E> {
        let value = self
            .value()
            .try_add_channel_bias(&b.value())
            .unwrap_or_else(|e| panic!("{e}"));
        let op = Op::ChannelAffine(None, self.index, None, b.index);
        self.tape.record(value, op, &[self.index, b.index])
    }

    /// `rectifier(x·a[c] + b[c])`, or `rectifier(x + b[c])` without `a` (batch norm and
    /// its ReLU, a convolution's bias and its LeakyReLU): the value and the gradients of
    /// [`Var::channel_affine`] (or [`Var::add_channel_bias`]) followed by `.relu()` or
    /// `.leaky_relu(slope)`, in one pass and one node on the tape.
    ///
    /// # Panics
    /// On shape mismatches, naming the shapes; for a LeakyReLU slope that is negative or NaN
    /// (see [`Var::matmul_bias_rectified`]).
    pub fn channel_affine_rectified(
        self,
        a: Option<Var<'t, E>>,
        b: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Var<'t, E> {
        crate::unary::check_gate_on_output("channel_affine_rectified", rectifier);
        let a_value = a.map(|a| a.value());
        let value = self
            .value()
            .try_channel_affine_rectified(a_value.as_ref(), &b.value(), rectifier)
            .unwrap_or_else(|e| panic!("{e}"));
        let op = Op::ChannelAffine(Some(rectifier), self.index, a.map(|a| a.index), b.index);
        let inputs: Vec<usize> = [Some(self.index), a.map(|a| a.index), Some(b.index)]
            .into_iter()
            .flatten()
            .collect();
        self.tape.record(value, op, &inputs)
    }
}

/// The VJP of `y = x·a[c] + b[c]` (`a = 1` when absent): `ḡx = g·a[c]`, `ḡa[c] = Σ g·x`
/// and `ḡb[c] = Σ g`, the sums over every axis but the channels'; each only if `needs` it
/// (in the order x, a, b). Made of `Var` ops, so it is differentiable again.
pub(crate) fn channel_affine_vjp<'t, E: Element>(
    x: Var<'t, E>,
    a: Option<Var<'t, E>>,
    g: Var<'t, E>,
    needs: [bool; 3],
) -> [Option<Var<'t, E>>; 3] {
    let shape = x.shape();
    let mut per_channel = vec![1; shape.len()];
    per_channel[1] = shape[1];
    let others: Vec<usize> = (0..shape.len()).filter(|&i| i != 1).collect();
    [
        needs[0].then(|| match a {
            Some(a) => g * a.reshape(&per_channel),
            None => g,
        }),
        needs[1].then(|| (g * x).sum_axes(&others, false)),
        needs[2].then(|| g.sum_axes(&others, false)),
    ]
}
