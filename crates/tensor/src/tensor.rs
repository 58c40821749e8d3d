//! `Tensor<E>`: an immutable, cheaply clonable n-d array, and its constructors and readers.

use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::parallel::{filled, SendPtr, PARALLEL_MIN_LEN};

/// An immutable n-dimensional array of `E` (`f32` by default).
///
/// A newtype over `ndarray::ArcArray<E, IxDyn>`: cloning shares the buffer, and views made
/// by shape ops (transpose, narrow, broadcast) share it too, so they cost no copy. Every op
/// returns a new tensor; nothing is mutated in place.
#[derive(Clone, Debug)]
pub struct Tensor<E: Element = f32> {
    pub(crate) data: ArcArray<E, IxDyn>,
}

impl<E: Element> PartialEq for Tensor<E> {
    /// Equal shapes and equal elements (so `NaN != NaN`, as for floats).
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl<E: Element> Tensor<E> {
    /// Wraps an ndarray array.
    pub fn from_array(a: ArrayD<E>) -> Self {
        Tensor {
            data: a.into_shared(),
        }
    }

    /// Wraps a shared ndarray array (no copy).
    pub fn from_shared(data: ArcArray<E, IxDyn>) -> Self {
        Tensor { data }
    }

    /// A tensor of `shape` holding `data` in row-major order; errors if the lengths differ.
    pub fn try_from_vec(data: Vec<E>, shape: &[usize]) -> Result<Self, ShapeError> {
        let expected: usize = shape.iter().product();
        if data.len() != expected {
            return Err(ShapeError::new(
                "from_vec",
                format!(
                    "{} values cannot fill shape {shape:?} ({expected} elements)",
                    data.len()
                ),
            ));
        }
        let a = ArrayD::from_shape_vec(IxDyn(shape), data).expect("length checked above");
        Ok(Self::from_array(a))
    }

    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape` (use [`Tensor::try_from_vec`] for data
    /// that comes from outside the program).
    pub fn from_vec(data: Vec<E>, shape: &[usize]) -> Self {
        or_panic(Self::try_from_vec(data, shape))
    }

    /// A tensor filled with `value`.
    pub fn full(shape: &[usize], value: E) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(shape), value))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, E::zero())
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, E::one())
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: E) -> Self {
        Self::full(&[], value)
    }

    /// The shape (sizes of each axis).
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.data.ndim()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order (copied).
    pub fn to_vec(&self) -> Vec<E> {
        match self.data.as_slice() {
            Some(s) => s.to_vec(),
            None => self.contiguous().to_vec(),
        }
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    pub fn item(&self) -> E {
        assert!(
            self.len() == 1,
            "item: tensor of shape {:?} holds {} elements, not 1",
            self.shape(),
            self.len()
        );
        *self.data.iter().next().expect("one element")
    }

    /// The underlying ndarray (shared, possibly a strided view of a larger buffer).
    pub fn array(&self) -> &ArcArray<E, IxDyn> {
        &self.data
    }

    /// Whether the elements lie in row-major order with no gaps.
    pub fn is_contiguous(&self) -> bool {
        self.data.is_standard_layout()
    }

    /// The same values in a fresh row-major buffer (a no-op clone if already contiguous).
    pub fn contiguous(&self) -> Self {
        if self.is_contiguous() {
            return self.clone();
        }
        if let Some(t) = self.transposed_matrix_copy() {
            return t;
        }
        if let Some(t) = self.row_copy() {
            return t;
        }
        Self::from_array(self.data.as_standard_layout().into_owned())
    }

    /// A row-major copy of a view whose last axis has unit stride (a permutation that keeps
    /// the last axis, such as `[O, N, L] → [N, O, L]`, or a slice): each row is copied whole,
    /// and large copies split their rows over threads in fixed-size chunks. A row is the last
    /// axis together with every axis before it laid out contiguously with it (`[oh, ow]` of
    /// a permuted `[O, N, oh, ow]` is one row of `oh·ow`), so short axes do not make short
    /// copies. `None` for any other layout.
    fn row_copy(&self) -> Option<Self> {
        let (shape, strides) = (self.shape(), self.data.strides());
        if strides.last() != Some(&1) || self.is_empty() {
            return None;
        }
        let mut outer = shape.len() - 1;
        let mut row = shape[outer];
        while outer > 0 && strides[outer - 1] == row as isize {
            outer -= 1;
            row *= shape[outer];
        }
        let rows = RowStarts {
            shape: &shape[..outer],
            strides: &strides[..outer],
        };
        let base = SendPtr(self.data.as_ptr());
        let rows_per_chunk = (PARALLEL_MIN_LEN / 4 / row).max(1);
        let out = filled(self.len(), rows_per_chunk * row, |first, dst| {
            let starts = rows.from(first / row);
            for (d, start) in dst.chunks_mut(row).zip(starts) {
                // SAFETY: `start` is the offset of a row of this view, whose `row` elements
                // at unit stride lie inside the view's storage; `d` holds `row` elements.
                unsafe {
                    let src = base.get().offset(start);
                    std::ptr::copy_nonoverlapping(src, d.as_mut_ptr().cast::<E>(), row);
                }
            }
        });
        Some(Self::from_vec(out, shape))
    }

    /// A row-major copy of a 2-D matrix stored column-major (the transpose of a contiguous
    /// matrix, as weight gradients come out of `x·Wᵀ`), copied in 32×32 tiles so that both
    /// the reads and the writes stay in cache; `None` for any other layout.
    fn transposed_matrix_copy(&self) -> Option<Self> {
        const TILE: usize = 32;
        let (&[rows, cols], &[1, col_stride]) = (self.shape(), self.data.strides()) else {
            return None;
        };
        if col_stride != rows as isize || rows < 2 || cols < 2 {
            return None;
        }
        // SAFETY: with strides (1, rows) the rows·cols elements from the first one are the
        // buffer of the untransposed [cols, rows] matrix, all inside this array's storage.
        let src = unsafe { std::slice::from_raw_parts(self.data.as_ptr(), rows * cols) };
        let mut out = vec![E::zero(); rows * cols];
        for r0 in (0..rows).step_by(TILE) {
            for c0 in (0..cols).step_by(TILE) {
                for c in c0..(c0 + TILE).min(cols) {
                    for r in r0..(r0 + TILE).min(rows) {
                        out[r * cols + c] = src[c * rows + r];
                    }
                }
            }
        }
        Some(Self::from_vec(out, &[rows, cols]))
    }

    /// The elements as a mutable row-major slice, for in-place updates (optimizers).
    /// Copy-on-write: if the buffer is shared or strided it is first copied, so no other
    /// tensor ever sees the change.
    pub fn make_mut(&mut self) -> &mut [E] {
        if !self.is_contiguous() {
            *self = self.contiguous();
        }
        self.data
            .as_slice_mut()
            .expect("contiguous after the copy above")
    }

    /// The elements as a row-major slice, when contiguous.
    pub fn as_slice(&self) -> Option<&[E]> {
        self.data.as_slice()
    }

    /// Converts every element to another element type.
    pub fn cast<F: Element>(&self) -> Tensor<F> {
        Tensor::from_array(
            self.data
                .mapv(|x| F::from_f64_lossy(x.to_f64().unwrap_or(f64::NAN))),
        )
    }

    /// Whether every element is finite (no NaN, no ±∞).
    pub fn all_finite(&self) -> bool {
        // Whole chunks without an early exit inside, so the test vectorizes.
        let chunk_finite = |c: &[E]| c.iter().fold(true, |ok, x| ok & x.is_finite());
        match self.as_slice_memory_order() {
            Some(s) => s.chunks(1024).all(chunk_finite),
            None => self.data.fold(true, |ok, x| ok && x.is_finite()),
        }
    }

    /// The elements in memory order (any order of axes, no gaps), when they have one.
    fn as_slice_memory_order(&self) -> Option<&[E]> {
        self.data.as_slice_memory_order()
    }

    /// `Σ x²` over all elements, accumulated in `f64` (so that finite `f32` values whose
    /// squares overflow `f32` still give a finite sum), read in memory order in fixed chunks
    /// of 2¹⁴ elements, each summed in eight independent partial sums, the chunk sums then
    /// added in order: the order is fixed, so the result is too. (The optimizer sums its
    /// gradients' squares itself, chunk by chunk during the update: Adam in its own loop
    /// with [`square`], the other rules with [`squared_sum`].)
    pub fn squared_norm(&self) -> f64 {
        match self.as_slice_memory_order() {
            Some(s) => s.chunks(NORM_CHUNK).map(squared_sum).sum(),
            None => self.data.fold(0.0, |acc, x| acc + square(x)),
        }
    }
}

/// Elements per partial sum of [`Tensor::squared_norm`].
const NORM_CHUNK: usize = 1 << 14;

/// `x²` in `f64` (NaN if `x` has no `f64` value).
#[inline]
pub fn square<E: Element>(x: &E) -> f64 {
    let x = x.to_f64().unwrap_or(f64::NAN);
    x * x
}

/// `Σ x²` over a slice, accumulated in `f64` in eight interleaved partial sums: the sum of
/// one chunk of [`Tensor::squared_norm`] (SGD and RMSprop use it on the gradient chunks
/// they update, while they are in cache).
pub fn squared_sum<E: Element>(s: &[E]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [0f64; LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for (acc, x) in lanes.iter_mut().zip(c) {
            *acc += square(x);
        }
    }
    lanes.iter().sum::<f64>() + chunks.remainder().iter().map(square).sum::<f64>()
}

/// The storage offsets of the rows of a view, in row-major order over its outer axes
/// (`shape`, with `strides` in elements).
#[derive(Clone, Copy)]
struct RowStarts<'a> {
    shape: &'a [usize],
    strides: &'a [isize],
}

impl<'a> RowStarts<'a> {
    /// The offsets of rows `first..`: the first found by dividing `first` into an index per
    /// axis, each later one by stepping that index on, the last axis fastest (an odometer).
    fn from(self, first: usize) -> impl Iterator<Item = isize> + 'a {
        let mut index = vec![0; self.shape.len()];
        let mut rest = first;
        for (i, &len) in index.iter_mut().zip(self.shape).rev() {
            *i = rest % len;
            rest /= len;
        }
        let mut offset: isize = index
            .iter()
            .zip(self.strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        std::iter::from_fn(move || {
            let current = offset;
            for ((i, &len), &stride) in index.iter_mut().zip(self.shape).zip(self.strides).rev() {
                *i += 1;
                offset += stride;
                if *i < len {
                    break;
                }
                *i = 0;
                offset -= len as isize * stride;
            }
            Some(current)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_readers() {
        let t = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(Tensor::<f64>::scalar(2.5).item(), 2.5);
        assert_eq!(Tensor::<f32>::ones(&[2]).to_vec(), vec![1.0, 1.0]);
        let e = Tensor::<f32>::try_from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "from_vec: 5 values cannot fill shape [2, 3] (6 elements)"
        );
    }

    #[test]
    fn contiguous_copies_of_transposes_keep_the_values() {
        for (r, c) in [(2, 3), (33, 70), (64, 31)] {
            let t = Tensor::<f32>::from_vec((0..r * c).map(|i| i as f32).collect(), &[r, c]);
            let tt = t.t();
            let expected: Vec<f32> = (0..c)
                .flat_map(|j| (0..r).map(move |i| (i * c + j) as f32))
                .collect();
            assert_eq!(tt.contiguous().to_vec(), expected);
            assert!(tt.contiguous().is_contiguous());
        }
    }

    #[test]
    #[should_panic(expected = "item: tensor of shape [2] holds 2 elements, not 1")]
    fn item_of_many_panics_clearly() {
        Tensor::<f32>::zeros(&[2]).item();
    }
}
