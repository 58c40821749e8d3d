//! Reductions over any set of axes (sum, mean, max), and `sum_to`, the adjoint of
//! broadcasting.

use ndarray::Axis;

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
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
        let mut a = self.data.sum_axis(Axis(last));
        for &ax in rest.iter().rev() {
            a = a.sum_axis(Axis(ax));
        }
        // `reshape`, not ndarray's `into_shape_with_order`: a strided input (a transposed
        // view, say) leaves `a` in a non-row-major layout that the latter refuses.
        Ok(Self::from_array(a).reshape(&reduced_shape(self.shape(), &axes, keepdim)))
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
