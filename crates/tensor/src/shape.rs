//! Index math, apart from values: broadcasting rules, axis normalization, output sizes.
//!
//! Everything here is a pure function of shapes (`&[usize]`), so it can be read and tested
//! without any tensor.

use crate::error::ShapeError;

/// The NumPy broadcast of two shapes: align on the right; each pair of sizes must be equal
/// or one of them 1, and the result takes the larger.
pub fn broadcast_shape(
    op: &'static str,
    a: &[usize],
    b: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(ShapeError::new(
                    op,
                    format!("shapes {a:?} and {b:?} cannot be broadcast together"),
                ))
            }
        };
    }
    Ok(out)
}

/// Whether `from` broadcasts to `to` (NumPy rules, `from` aligned on the right).
pub fn broadcasts_to(from: &[usize], to: &[usize]) -> bool {
    from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1)
}

/// Sorts and deduplicates `axes`, checking each is `< ndim`.
pub fn normalize_axes(
    op: &'static str,
    axes: &[usize],
    ndim: usize,
) -> Result<Vec<usize>, ShapeError> {
    let mut v = axes.to_vec();
    v.sort_unstable();
    v.dedup();
    if let Some(&bad) = v.iter().find(|&&a| a >= ndim) {
        return Err(ShapeError::new(
            op,
            format!("axis {bad} is out of range for a tensor of rank {ndim}"),
        ));
    }
    Ok(v)
}

/// The shape after reducing `axes` (sorted, valid), keeping them as size 1 or dropping them.
pub fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdim) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The output length of a convolution along one spatial axis:
/// `⌊(input + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
pub fn conv_out_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    if stride == 0 || kernel == 0 {
        return None;
    }
    let span = dilation * (kernel - 1) + 1;
    let padded = input + 2 * padding;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

/// Row-major (C-order) strides of a shape, in elements.
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shape("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
        let e = broadcast_shape("add", &[3, 2], &[3]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "add: shapes [3, 2] and [3] cannot be broadcast together"
        );
        assert!(broadcasts_to(&[1, 5], &[2, 3, 5]));
        assert!(!broadcasts_to(&[2, 5], &[3, 5]));
    }

    #[test]
    fn conv_lengths_match_pytorch_formula() {
        assert_eq!(conv_out_len(28, 4, 2, 1, 1), Some(14));
        assert_eq!(conv_out_len(5, 3, 1, 0, 2), Some(1));
        assert_eq!(conv_out_len(2, 3, 1, 0, 1), None);
        // A zero kernel or stride has no output (and must not underflow `kernel - 1`).
        assert_eq!(conv_out_len(5, 0, 1, 0, 1), None);
        assert_eq!(conv_out_len(5, 3, 0, 0, 1), None);
        assert_eq!(row_major_strides(&[2, 3, 4]), vec![12, 4, 1]);
    }
}
