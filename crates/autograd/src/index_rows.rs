//! Rows picked by integer labels (an embedding lookup) and its adjoint, forward and VJP
//! side by side. The two are linear and each other's transpose, so the set is closed under
//! differentiation, as unfold/fold are:
//!
//! - `y = T[idx]` (`y[i, …] = T[idx[i], …]`) ⇒ `T̄ = scatter_add(ȳ, idx)`;
//! - `s = scatter_add(x, idx)` (`s[r, …] = Σ_{idx[i] = r} x[i, …]`) ⇒ `x̄ = s̄[idx]`.
//!
//! Each VJP is the other op on the tape, so a gradient through an embedding can be
//! differentiated again (a projection critic under WGAN-GP needs exactly that).

use std::sync::Arc;

use gantry_tensor::Element;

use crate::op::Op;
use crate::tape::Var;

impl<'t, E: Element> Var<'t, E> {
    /// `y[i, …] = self[idx[i], …]`: the rows of a table `[R, …]` picked by `idx` (each
    /// `< R`), shape `[idx.len(), …]` (PyTorch's `F.embedding`, or `table[idx]`).
    ///
    /// # Panics
    /// If an index is out of range or `self` is a scalar, naming the index and the shape.
    pub fn index_rows(self, idx: &[u32]) -> Var<'t, E> {
        let value = self
            .value()
            .try_index_rows(idx)
            .unwrap_or_else(|e| panic!("{e}"));
        let op = Op::IndexRows(Arc::from(idx), self.index);
        self.tape.record(value, op, &[self.index])
    }

    /// `s[r, …] = Σ_{i : idx[i] = r} self[i, …]` into `rows` rows: `self: [n, …]` with one
    /// index per row (PyTorch's `zeros(rows, …).index_add_(0, idx, self)`).
    ///
    /// # Panics
    /// If the counts differ or an index is `≥ rows`, naming them.
    pub fn scatter_add_rows(self, idx: &[u32], rows: usize) -> Var<'t, E> {
        let value = self
            .value()
            .try_scatter_add_rows(idx, rows)
            .unwrap_or_else(|e| panic!("{e}"));
        let op = Op::ScatterAddRows(Arc::from(idx), self.index);
        self.tape.record(value, op, &[self.index])
    }
}

/// `y = T[idx]` ⇒ `T̄ = scatter_add(ȳ, idx)` onto `T`'s rows.
pub(crate) fn index_rows_vjp<'t, E: Element>(
    table: Var<'t, E>,
    idx: &[u32],
    g: Var<'t, E>,
) -> Var<'t, E> {
    g.scatter_add_rows(idx, table.shape()[0])
}

/// `s = scatter_add(x, idx)` ⇒ `x̄ = s̄[idx]`.
pub(crate) fn scatter_add_rows_vjp<'t, E: Element>(idx: &[u32], g: Var<'t, E>) -> Var<'t, E> {
    g.index_rows(idx)
}
