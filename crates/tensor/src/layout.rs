//! Shape ops: reshape, permute / transpose, broadcast_to, narrow, concat.
//!
//! Permute, transpose, narrow and broadcast_to return strided views of the same buffer (no
//! copy); reshape copies only when the source is not contiguous.

use ndarray::{Axis, IxDyn, Slice};

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::shape::broadcasts_to;
use crate::tensor::Tensor;

impl<E: Element> Tensor<E> {
    /// The same elements (row-major order) with a new shape of equal element count.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Self, ShapeError> {
        let n: usize = shape.iter().product();
        if n != self.len() {
            return Err(ShapeError::new(
                "reshape",
                format!(
                    "cannot reshape {:?} ({} elements) to {shape:?} ({n} elements)",
                    self.shape(),
                    self.len()
                ),
            ));
        }
        let src = self.contiguous();
        let data = src
            .data
            .into_shape_with_order(IxDyn(shape))
            .expect("contiguous, same count");
        Ok(Self::from_shared(data))
    }

    /// [`Tensor::try_reshape`], panicking with both shapes on error.
    pub fn reshape(&self, shape: &[usize]) -> Self {
        or_panic(self.try_reshape(shape))
    }

    /// Reorders the axes: output axis `i` is input axis `perm[i]` (a view, no copy).
    pub fn try_permute(&self, perm: &[usize]) -> Result<Self, ShapeError> {
        let mut seen = vec![false; self.ndim()];
        let valid = perm.len() == self.ndim()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(ShapeError::new(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the axes of shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(Self::from_shared(
            self.data.clone().permuted_axes(IxDyn(perm)),
        ))
    }

    /// [`Tensor::try_permute`], panicking on a bad permutation.
    pub fn permute(&self, perm: &[usize]) -> Self {
        or_panic(self.try_permute(perm))
    }

    /// Swaps axes `a` and `b` (a view, no copy).
    pub fn transpose(&self, a: usize, b: usize) -> Self {
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        assert!(
            a < perm.len() && b < perm.len(),
            "transpose: axes ({a}, {b}) out of range for shape {:?}",
            self.shape()
        );
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Swaps the last two axes (a view): the matrix transpose, batched.
    pub fn t(&self) -> Self {
        let n = self.ndim();
        assert!(
            n >= 2,
            "t: needs at least 2 axes, got shape {:?}",
            self.shape()
        );
        self.transpose(n - 2, n - 1)
    }

    /// Repeats size-1 (or missing leading) axes to reach `shape`, NumPy style (a view).
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Self, ShapeError> {
        if !broadcasts_to(self.shape(), shape) {
            return Err(ShapeError::new(
                "broadcast_to",
                format!("shape {:?} cannot be broadcast to {shape:?}", self.shape()),
            ));
        }
        if let Some(out) = crate::elementwise::repeat_block(self, shape) {
            return Ok(out);
        }
        let view = self.data.broadcast(IxDyn(shape)).expect("checked above");
        // Views of broadcast arrays cannot be shared; materialize only when needed.
        Ok(Self::from_array(view.to_owned()))
    }

    /// [`Tensor::try_broadcast_to`], panicking with both shapes on error.
    pub fn broadcast_to(&self, shape: &[usize]) -> Self {
        or_panic(self.try_broadcast_to(shape))
    }

    /// Elements `start..start + len` along `axis` (a view, no copy).
    pub fn try_narrow(&self, axis: usize, start: usize, len: usize) -> Result<Self, ShapeError> {
        if axis >= self.ndim() || start + len > self.shape()[axis] {
            return Err(ShapeError::new(
                "narrow",
                format!(
                    "range {start}..{} on axis {axis} is outside shape {:?}",
                    start + len,
                    self.shape()
                ),
            ));
        }
        let mut data = self.data.clone();
        data.slice_axis_inplace(Axis(axis), Slice::from(start..start + len));
        Ok(Self::from_shared(data))
    }

    /// [`Tensor::try_narrow`], panicking on an out-of-range slice.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Self {
        or_panic(self.try_narrow(axis, start, len))
    }

    /// Joins tensors along `axis`; all other axes must agree.
    pub fn try_concat(parts: &[Self], axis: usize) -> Result<Self, ShapeError> {
        let first = parts
            .first()
            .ok_or_else(|| ShapeError::new("concat", "no tensors to join"))?;
        for p in parts {
            let same_rank = p.ndim() == first.ndim() && axis < p.ndim();
            let agree =
                same_rank && (0..p.ndim()).all(|i| i == axis || p.shape()[i] == first.shape()[i]);
            if !agree {
                return Err(ShapeError::new(
                    "concat",
                    format!(
                        "shapes {:?} and {:?} cannot be joined on axis {axis}",
                        first.shape(),
                        p.shape()
                    ),
                ));
            }
        }
        let views: Vec<_> = parts.iter().map(|p| p.data.view()).collect();
        let out = ndarray::concatenate(Axis(axis), &views).expect("checked above");
        Ok(Self::from_array(out))
    }

    /// [`Tensor::try_concat`], panicking with the shapes on error.
    pub fn concat(parts: &[Self], axis: usize) -> Self {
        or_panic(Self::try_concat(parts, axis))
    }
}
