//! Reductions over any set of axes (sum, mean, variance, max), and `sum_to`, the adjoint
//! of broadcasting.

use ndarray::Axis;
use rayon::prelude::*;

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::parallel::PARALLEL_MIN_LEN;
use crate::shape::{broadcasts_to, normalize_axes, reduced_shape};
use crate::tensor::Tensor;

impl<E: Element> Tensor<E> {
    /// Folds `axes` away with `f` (starting from `init`), keeping them as size 1 if `keepdim`.
    fn try_fold_axes(
        &self,
        op: &'static str,
        axes: &[usize],
        keepdim: bool,
        init: E,
        f: impl Fn(E, E) -> E + Copy,
    ) -> Result<Self, ShapeError> {
        let axes = self.checked_axes(op, axes)?;
        let Some((&last, rest)) = axes.split_last() else {
            return Ok(self.clone());
        };
        // Highest axis first, so the lower axis numbers stay valid.
        let mut a = self.data.fold_axis(Axis(last), init, |&acc, &x| f(acc, x));
        for &ax in rest.iter().rev() {
            a = a.fold_axis(Axis(ax), init, |&acc, &x| f(acc, x));
        }
        // `reshape`, not ndarray's `into_shape_with_order`: a strided input (a transposed
        // view, say) leaves `a` in a non-row-major layout that the latter refuses.
        Ok(Self::from_array(a).reshape(&reduced_shape(self.shape(), &axes, keepdim)))
    }

    /// `axes` sorted and deduplicated; an error names the op, the bad axis and the shape.
    fn checked_axes(&self, op: &'static str, axes: &[usize]) -> Result<Vec<usize>, ShapeError> {
        normalize_axes(op, axes, self.ndim())
            .map_err(|e| ShapeError::new(op, format!("{} (shape {:?})", e.message, self.shape())))
    }

    /// `Σ` over `axes`; an error names the bad axis and the shape.
    pub fn try_sum_axes(&self, axes: &[usize], keepdim: bool) -> Result<Self, ShapeError> {
        let axes = self.checked_axes("sum", axes)?;
        // Highest axis first, so the lower axis numbers stay valid; the first sum reads the
        // input in place (no copy).
        let Some((&last, rest)) = axes.split_last() else {
            return Ok(self.clone());
        };
        let out_shape = reduced_shape(self.shape(), &axes, keepdim);
        if let (Some(x), Some([outer, mid, inner])) = (self.as_slice(), around(self.shape(), &axes))
        {
            let sums = sum_around(x, outer, mid, inner, |_, v| v);
            return Ok(Self::from_vec(sums, &out_shape));
        }
        let mut a = self.data.sum_axis(Axis(last));
        for &ax in rest.iter().rev() {
            a = a.sum_axis(Axis(ax));
        }
        // `reshape`, not ndarray's `into_shape_with_order`: a strided input (a transposed
        // view, say) leaves `a` in a non-row-major layout that the latter refuses.
        Ok(Self::from_array(a).reshape(&out_shape))
    }

    /// `Σ` over `axes` (panics on an invalid axis).
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        or_panic(self.try_sum_axes(axes, keepdim))
    }

    /// The mean over `axes` (NaN where the reduced axes hold no element, as in PyTorch).
    pub fn mean_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        let axes = or_panic(self.checked_axes("mean", axes));
        let s = self.sum_axes(&axes, keepdim);
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        s.mul_scalar(E::one() / E::from_usize(count).expect("count fits"))
    }

    /// The biased variance over `axes`, `mean((x − μ)²)` with `μ = mean(x)` (÷ N, like
    /// batch norm's batch statistics; NaN where the axes hold no element). Over a leading
    /// and a trailing run of axes, the deviations are squared and summed in one pass,
    /// without a tensor of them, in the order `(x − μ).square().mean_axes(axes)` sums them:
    /// the same bits.
    pub fn var_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        let axes = or_panic(self.checked_axes("var", axes));
        let mean = self.mean_axes(&axes, true);
        if let (Some(x), Some([outer, mid, inner]), Some(mu)) = (
            self.as_slice(),
            around(self.shape(), &axes),
            mean.as_slice(),
        ) {
            if !axes.is_empty() {
                let sums = sum_around(x, outer, mid, inner, |m, v| {
                    let d = v - mu[m];
                    d * d
                });
                let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
                let out_shape = reduced_shape(self.shape(), &axes, keepdim);
                return Self::from_vec(sums, &out_shape)
                    .mul_scalar(E::one() / E::from_usize(count).expect("count fits"));
            }
        }
        self.sub(&mean).square().mean_axes(&axes, keepdim)
    }

    /// The maximum over `axes` (NaN-propagating).
    pub fn max_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        let r = self.try_fold_axes("max", axes, keepdim, E::neg_infinity(), |acc, x| {
            if x > acc || x.is_nan() {
                x
            } else {
                acc
            }
        });
        or_panic(r)
    }

    /// The sum of all elements, as a rank-0 tensor.
    pub fn sum(&self) -> Self {
        Self::scalar(self.data.sum())
    }

    /// The mean of all elements, as a rank-0 tensor.
    pub fn mean(&self) -> Self {
        Self::scalar(self.data.sum() / E::from_usize(self.len()).expect("len fits"))
    }

    /// Sums broadcast axes away so that the result has `shape`: the adjoint of
    /// [`Tensor::broadcast_to`]. `shape` must broadcast to `self.shape()`.
    pub fn try_sum_to(&self, shape: &[usize]) -> Result<Self, ShapeError> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        if !broadcasts_to(shape, self.shape()) {
            return Err(ShapeError::new(
                "sum_to",
                format!("shape {shape:?} does not broadcast to {:?}", self.shape()),
            ));
        }
        let lead = self.ndim() - shape.len();
        let axes: Vec<usize> = (0..self.ndim())
            .filter(|&i| i < lead || (shape[i - lead] == 1 && self.shape()[i] != 1))
            .collect();
        let s = self.sum_axes(&axes, true);
        Ok(s.reshape(shape))
    }

    /// [`Tensor::try_sum_to`], panicking with both shapes on error.
    pub fn sum_to(&self, shape: &[usize]) -> Self {
        or_panic(self.try_sum_to(shape))
    }
}

/// When the reduced `axes` (sorted) are a leading run and a trailing run of `shape` (either
/// may be empty), the sizes `(outer, mid, inner)` of `[reduced…, kept…, reduced…]`: a
/// row-major tensor is then `outer` blocks of `mid` runs of `inner` elements. This covers
/// the bias gradients (`[N, C, H, W] → [C]`, `[N, F] → [F]`) and batch-norm statistics.
fn around(shape: &[usize], axes: &[usize]) -> Option<[usize; 3]> {
    let lead = axes
        .iter()
        .enumerate()
        .take_while(|&(i, &a)| i == a)
        .count();
    let trail = &axes[lead..];
    let first_trailing = shape.len() - trail.len();
    if trail
        .iter()
        .enumerate()
        .any(|(i, &a)| a != first_trailing + i)
    {
        return None;
    }
    let size = |r: std::ops::Range<usize>| shape[r].iter().product::<usize>();
    if size(lead..first_trailing) == 1 {
        // Everything is reduced into one output: one long run.
        return Some([1, 1, shape.iter().product()]);
    }
    Some([
        size(0..lead),
        size(lead..first_trailing),
        size(first_trailing..shape.len()),
    ])
}

/// `out[m] = Σ_o Σ_i term(m, x[o, m, i])` over a row-major `[outer, mid, inner]` block
/// (`term` is `|_, v| v` for a plain sum). Each output is summed in a fixed order whatever
/// the number of threads (its runs in `o` order, each run in [`LANES`] interleaved partial
/// sums then added pairwise; for `inner = 1`, rows in order), and outputs are split over
/// threads in fixed-size groups.
fn sum_around<E: Element>(
    x: &[E],
    outer: usize,
    mid: usize,
    inner: usize,
    term: impl Fn(usize, E) -> E + Sync,
) -> Vec<E> {
    let sum_group = |first: usize, out: &mut [E]| {
        if inner == 1 {
            // Rows added in order, a vector of outputs at a time.
            for row in x.chunks_exact(mid) {
                for (j, (o, &v)) in out.iter_mut().zip(&row[first..]).enumerate() {
                    *o = *o + term(first + j, v);
                }
            }
            return;
        }
        for (j, o) in out.iter_mut().enumerate() {
            let m = first + j;
            for b in 0..outer {
                let start = (b * mid + m) * inner;
                *o = *o + lane_sum(&x[start..start + inner], |v| term(m, v));
            }
        }
    };
    let mut out = vec![E::zero(); mid];
    if x.len() < PARALLEL_MIN_LEN || mid < 2 {
        sum_group(0, &mut out);
    } else {
        // Groups of about `PARALLEL_MIN_LEN / 4` inputs each.
        let group = (PARALLEL_MIN_LEN / 4 / (outer * inner)).clamp(1, mid.div_ceil(2));
        out.par_chunks_mut(group)
            .enumerate()
            .for_each(|(i, c)| sum_group(i * group, c));
    }
    out
}

/// Partial sums kept in a run's sum: enough independent additions to fill a vector.
const LANES: usize = 16;

/// `Σ term(v)` over a run as [`LANES`] interleaved partial sums (element `i` into lane
/// `i mod LANES`), added pairwise at the end, then the tail in order.
#[inline]
fn lane_sum<E: Element>(run: &[E], term: impl Fn(E) -> E) -> E {
    let mut lanes = [E::zero(); LANES];
    let mut chunks = run.chunks_exact(LANES);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = *l + term(v);
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] = lanes[i] + lanes[i + width];
        }
    }
    chunks
        .remainder()
        .iter()
        .fold(lanes[0], |acc, &v| acc + term(v))
}
