//! Rows of a table picked by integer indices, and the adjoint of that: the two kernels
//! behind an embedding (`nn.Embedding`, a class-conditional gain or bias).
//!
//! For a table `T: [R, …]` (rows along axis 0) and indices `idx: [n]`, each `< R`:
//! - **gather**, [`Tensor::index_rows`]: `Y[i, …] = T[idx[i], …]`, shape `[n, …]`;
//! - **scatter-add**, [`Tensor::scatter_add_rows`]: `S[r, …] = Σ_{i : idx[i] = r} X[i, …]`
//!   for `X: [n, …]`, shape `[R, …]`; rows no index names are zero.
//!
//! Both are linear and each is the other's transpose (`⟨gather(T), X⟩ = ⟨T, scatter(X)⟩`),
//! so each one's gradient is the other. The scatter sums in increasing `i`, so its result
//! does not depend on threads. Batches here are small (a label per sample), so both are
//! plain row copies; [`index_rows_naive`] and [`scatter_add_rows_naive`] are the
//! element-by-element definitions, kept for tests and readers.

use crate::element::Element;
use crate::error::ShapeError;
use crate::tensor::Tensor;

impl<E: Element> Tensor<E> {
    /// `Y[i, …] = T[idx[i], …]` for `self = T: [R, …]` (rank ≥ 1). An error names the
    /// table's shape and the first index `≥ R`.
    pub fn try_index_rows(&self, idx: &[u32]) -> Result<Self, ShapeError> {
        let (rows, width) = rows_and_width("index_rows", self.shape())?;
        check_indices("index_rows", idx, rows, self.shape())?;
        let table = self.contiguous();
        let t = table.as_slice().expect("contiguous");
        let mut y = Vec::with_capacity(idx.len() * width);
        for &r in idx {
            let r = r as usize;
            y.extend_from_slice(&t[r * width..(r + 1) * width]);
        }
        Ok(Self::from_vec(y, &with_rows(self.shape(), idx.len())))
    }

    /// [`Tensor::try_index_rows`], panicking with the message on error.
    pub fn index_rows(&self, idx: &[u32]) -> Self {
        self.try_index_rows(idx).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `S[r, …] = Σ_{i : idx[i] = r} X[i, …]` into `rows` rows, for `self = X: [n, …]`
    /// with `n = idx.len()`. An error names the shape and the count, or the first index
    /// `≥ rows`.
    pub fn try_scatter_add_rows(&self, idx: &[u32], rows: usize) -> Result<Self, ShapeError> {
        let (n, width) = rows_and_width("scatter_add_rows", self.shape())?;
        if n != idx.len() {
            return Err(ShapeError::new(
                "scatter_add_rows",
                format!(
                    "input {:?} has {n} rows but {} indices were given",
                    self.shape(),
                    idx.len()
                ),
            ));
        }
        let out_shape = with_rows(self.shape(), rows);
        check_indices("scatter_add_rows", idx, rows, &out_shape)?;
        let x = self.contiguous();
        let x = x.as_slice().expect("contiguous");
        let mut s = vec![E::zero(); rows * width];
        for (i, &r) in idx.iter().enumerate() {
            let r = r as usize;
            let (to, from) = (
                &mut s[r * width..(r + 1) * width],
                &x[i * width..(i + 1) * width],
            );
            for (t, &v) in to.iter_mut().zip(from) {
                *t = *t + v;
            }
        }
        Ok(Self::from_vec(s, &out_shape))
    }

    /// [`Tensor::try_scatter_add_rows`], panicking with the message on error.
    pub fn scatter_add_rows(&self, idx: &[u32], rows: usize) -> Self {
        self.try_scatter_add_rows(idx, rows)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The gather by its definition, one element at a time (reference for tests).
pub fn index_rows_naive<E: Element>(table: &Tensor<E>, idx: &[u32]) -> Tensor<E> {
    let shape = table.shape();
    let width: usize = shape[1..].iter().product();
    let t = table.to_vec();
    let mut y = vec![E::zero(); idx.len() * width];
    for (i, &r) in idx.iter().enumerate() {
        for j in 0..width {
            y[i * width + j] = t[r as usize * width + j];
        }
    }
    Tensor::from_vec(y, &with_rows(shape, idx.len()))
}

/// The scatter-add by its definition, one element at a time (reference for tests).
pub fn scatter_add_rows_naive<E: Element>(x: &Tensor<E>, idx: &[u32], rows: usize) -> Tensor<E> {
    let shape = x.shape();
    let width: usize = shape[1..].iter().product();
    let v = x.to_vec();
    let mut s = vec![E::zero(); rows * width];
    for (i, &r) in idx.iter().enumerate() {
        for j in 0..width {
            s[r as usize * width + j] = s[r as usize * width + j] + v[i * width + j];
        }
    }
    Tensor::from_vec(s, &with_rows(shape, rows))
}

/// `(rows, elements per row)` of a tensor of rank ≥ 1.
fn rows_and_width(op: &'static str, shape: &[usize]) -> Result<(usize, usize), ShapeError> {
    match shape.split_first() {
        Some((&rows, rest)) => Ok((rows, rest.iter().product())),
        None => Err(ShapeError::new(
            op,
            "needs a tensor with rows (rank ≥ 1), got a scalar",
        )),
    }
}

/// `shape` with its first axis set to `rows`.
fn with_rows(shape: &[usize], rows: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s[0] = rows;
    s
}

/// Every index is `< rows`, or an error naming the first that is not.
fn check_indices(
    op: &'static str,
    idx: &[u32],
    rows: usize,
    shape: &[usize],
) -> Result<(), ShapeError> {
    match idx.iter().position(|&r| r as usize >= rows) {
        None => Ok(()),
        Some(i) => Err(ShapeError::new(
            op,
            format!(
                "index {} (at position {i}) is out of range for a table {shape:?} of {rows} rows",
                idx[i]
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table whose entries are all distinct, so a wrong row shows.
    fn table(shape: &[usize]) -> Tensor<f64> {
        let n: usize = shape.iter().product();
        Tensor::from_vec((0..n).map(|k| k as f64 * 0.5 - 3.0).collect(), shape)
    }

    #[test]
    fn gather_matches_the_loop_for_ranks_1_to_3() {
        for shape in [vec![4], vec![5, 3], vec![3, 2, 4]] {
            let t = table(&shape);
            let idx = [2, 0, 2, 1, 0];
            let fast = t.index_rows(&idx);
            assert_eq!(fast.shape()[0], 5);
            assert_eq!(
                fast.to_vec(),
                index_rows_naive(&t, &idx).to_vec(),
                "{shape:?}"
            );
        }
        // Written out: rows 1 and 0 of a [2, 2] table.
        let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(
            t.index_rows(&[1, 0, 1]).to_vec(),
            vec![3.0, 4.0, 1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn gather_reads_a_strided_table() {
        let t = table(&[3, 4]).t(); // [4, 3], not contiguous
        let idx = [3, 1];
        assert_eq!(
            t.index_rows(&idx).to_vec(),
            index_rows_naive(&t, &idx).to_vec()
        );
    }

    #[test]
    fn scatter_add_matches_the_loop_and_is_the_adjoint_of_gather() {
        let x = table(&[5, 3]);
        let idx = [2, 0, 2, 3, 0];
        let s = x.scatter_add_rows(&idx, 4);
        assert_eq!(s.shape(), &[4, 3]);
        assert_eq!(s.to_vec(), scatter_add_rows_naive(&x, &idx, 4).to_vec());
        // Row 1 is named by no index.
        assert_eq!(&s.to_vec()[3..6], &[0.0, 0.0, 0.0]);
        // ⟨gather(T), X⟩ = ⟨T, scatter(X)⟩.
        let t = table(&[4, 3]).mul_scalar(0.3);
        let dot = |a: &Tensor<f64>, b: &Tensor<f64>| -> f64 {
            a.to_vec().iter().zip(b.to_vec()).map(|(p, q)| p * q).sum()
        };
        let lhs = dot(&t.index_rows(&idx), &x);
        let rhs = dot(&t, &s);
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn empty_index_lists_give_empty_and_zero_results() {
        let t = table(&[3, 2]);
        assert_eq!(t.index_rows(&[]).shape(), &[0, 2]);
        let none = Tensor::<f64>::zeros(&[0, 2]).scatter_add_rows(&[], 3);
        assert_eq!(none.to_vec(), vec![0.0; 6]);
    }

    #[test]
    fn bad_indices_and_counts_are_named() {
        let t = table(&[3, 2]);
        let e = t.try_index_rows(&[0, 3]).unwrap_err().to_string();
        assert!(e.contains("index 3") && e.contains("[3, 2]"), "{e}");
        let e = t.try_scatter_add_rows(&[0, 1], 4).unwrap_err().to_string();
        assert!(e.contains("3 rows") && e.contains("2 indices"), "{e}");
        let e = t
            .try_scatter_add_rows(&[0, 1, 5], 4)
            .unwrap_err()
            .to_string();
        assert!(e.contains("index 5"), "{e}");
        let e = Tensor::<f64>::scalar(1.0)
            .try_index_rows(&[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("scalar"), "{e}");
    }
}
