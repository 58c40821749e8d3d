//! Batch norm's per-channel affine map as one primitive, forward and VJP side by side:
//! `y[n, c, …] = x[n, c, …]·a[c] + b[c]` in one pass, where `x * a + b` with broadcasting
//! takes two and a tensor in between.

use gantry_tensor::Element;

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
        let inputs = [self.index, a.index, b.index];
        self.tape.record(
            value,
            Op::ChannelAffine(inputs[0], inputs[1], inputs[2]),
            &inputs,
        )
    }
}

/// The VJP of `y = x·a[c] + b[c]`: `ḡx = g·a[c]`, `ḡa[c] = Σ g·x` and `ḡb[c] = Σ g`, the
/// sums over every axis but the channels'; each only if `needs` it. Made of `Var` ops, so
/// it is differentiable again.
pub(crate) fn channel_affine_vjp<'t, E: Element>(
    x: Var<'t, E>,
    a: Var<'t, E>,
    g: Var<'t, E>,
    needs: [bool; 3],
) -> [Option<Var<'t, E>>; 3] {
    let shape = x.shape();
    let mut per_channel = vec![1; shape.len()];
    per_channel[1] = shape[1];
    let others: Vec<usize> = (0..shape.len()).filter(|&i| i != 1).collect();
    [
        needs[0].then(|| g * a.reshape(&per_channel)),
        needs[1].then(|| (g * x).sum_axes(&others, false)),
        needs[2].then(|| g.sum_axes(&others, false)),
    ]
}
