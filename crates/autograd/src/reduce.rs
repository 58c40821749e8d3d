//! Reduction primitives (sum, biased variance and max over axes): forward and VJP side by
//! side.

use gantry_tensor::shape::{normalize_axes, reduced_shape};
use gantry_tensor::{Element, Tensor};

use crate::op::Op;
use crate::tape::Var;

/// The reductions; `axes` are sorted and valid.
#[derive(Clone, Debug)]
pub(crate) enum Reduce {
    Sum { axes: Vec<usize>, keepdim: bool },
    Var { axes: Vec<usize>, keepdim: bool },
    Max { axes: Vec<usize>, keepdim: bool },
}

impl Reduce {
    fn forward<E: Element>(&self, x: &Tensor<E>) -> Tensor<E> {
        match self {
            Reduce::Sum { axes, keepdim } => x.sum_axes(axes, *keepdim),
            Reduce::Var { axes, keepdim } => x.var_axes(axes, *keepdim),
            Reduce::Max { axes, keepdim } => x.max_axes(axes, *keepdim),
        }
    }

    /// Spreads `g` back over the reduced axes: every input of a sum gets `g`; of a variance
    /// `(2/N)·(x − μ)·g` (the terms through `μ` cancel, as `Σ(x − μ) = 0`); for a max, the
    /// maximal inputs share it equally (as PyTorch's `amax` does).
    pub(crate) fn vjp<'t, E: Element>(
        &self,
        x: Var<'t, E>,
        y: Var<'t, E>,
        g: Var<'t, E>,
    ) -> Var<'t, E> {
        let shape = x.shape();
        let (Reduce::Sum { axes, .. } | Reduce::Var { axes, .. } | Reduce::Max { axes, .. }) = self;
        let kept = reduced_shape(&shape, axes, true);
        let g = g.reshape(&kept);
        match self {
            Reduce::Sum { .. } => g.broadcast_to(&shape),
            Reduce::Var { .. } => {
                // The factor on the small `g`, then one broadcast product: two passes over x.
                let count: usize = axes.iter().map(|&a| shape[a]).product();
                let two_over_n = E::from_f64_lossy(2.0 / count as f64);
                (x - x.mean_axes(axes, true)) * g.mul_scalar(two_over_n)
            }
            Reduce::Max { .. } => {
                let g = g.broadcast_to(&shape);
                let winners = x.value().eq_mask(&y.value().reshape(&kept));
                let share = winners.div(&winners.sum_axes(axes, true));
                g * x.constant(share)
            }
        }
    }
}

impl<'t, E: Element> Var<'t, E> {
    fn reduce(
        self,
        op: &'static str,
        axes: &[usize],
        keepdim: bool,
        make: fn(Vec<usize>, bool) -> Reduce,
    ) -> Var<'t, E> {
        let axes = normalize_axes(op, axes, self.shape().len()).unwrap_or_else(|e| panic!("{e}"));
        let r = make(axes, keepdim);
        let value = r.forward(&self.value());
        self.tape
            .record(value, Op::Reduce(r, self.index), &[self.index])
    }

    /// `Σ` over `axes`, keeping them as size 1 if `keepdim`.
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Var<'t, E> {
        self.reduce("sum", axes, keepdim, |axes, keepdim| Reduce::Sum {
            axes,
            keepdim,
        })
    }

    /// The biased variance over `axes`, `mean((x − mean(x))²)` (÷ N, batch norm's batch
    /// statistic), in one pass without a tensor of deviations.
    pub fn var_axes(self, axes: &[usize], keepdim: bool) -> Var<'t, E> {
        self.reduce("var", axes, keepdim, |axes, keepdim| Reduce::Var {
            axes,
            keepdim,
        })
    }

    /// The maximum over `axes`.
    pub fn max_axes(self, axes: &[usize], keepdim: bool) -> Var<'t, E> {
        self.reduce("max", axes, keepdim, |axes, keepdim| Reduce::Max {
            axes,
            keepdim,
        })
    }

    /// `Σ` of all elements, a rank-0 `Var`.
    pub fn sum(self) -> Var<'t, E> {
        let all: Vec<usize> = (0..self.shape().len()).collect();
        self.sum_axes(&all, false)
    }
}
