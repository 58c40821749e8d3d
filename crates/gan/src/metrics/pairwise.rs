//! Euclidean distances between the rows of two feature matrices, through the GEMM and in
//! blocks, and the k-nearest-neighbour radii built on them.
//!
//! `‖a − b‖² = ‖a‖² + ‖b‖² − 2·aᵀb`: the cross term for a block of rows of `A` against a
//! block of rows of `B` is one matrix product `A_I·B_Jᵀ`, so a 10 000 x 10 000 distance
//! matrix costs 10⁸·d multiply-adds in the GEMM and never exists in memory: each
//! [`BLOCK`]`x`[`BLOCK`] tile is handed to a callback and dropped (memory `O(BLOCK²)`).
//! Rounding can make the expansion slightly negative for (near-)equal rows; it is clamped at
//! 0 before the square root.

use gantry_tensor::Tensor;

/// Rows per tile side: a tile is `BLOCK²` `f64`s (8 MB).
pub const BLOCK: usize = 1024;

/// Calls `tile(i0, j0, cols, distances)` for every tile of the Euclidean distance matrix
/// between the rows of `a` `[n, d]` and `b` `[m, d]`: `distances` holds `‖a_i − b_j‖` for
/// `i ∈ i0..i0+rows`, `j ∈ j0..j0+cols`, row-major.
/// Tiles come in row-major order of `(i0, j0)`.
pub fn for_each_distance_tile(
    a: &Tensor<f64>,
    b: &Tensor<f64>,
    mut tile: impl FnMut(usize, usize, usize, &[f64]),
) {
    let (n, m) = (a.shape()[0], b.shape()[0]);
    assert_eq!(
        a.shape()[1],
        b.shape()[1],
        "pairwise distances: feature widths differ"
    );
    let (norms_a, norms_b) = (squared_norms(a), squared_norms(b));
    for i0 in (0..n).step_by(BLOCK) {
        let rows = BLOCK.min(n - i0);
        let a_block = a.narrow(0, i0, rows);
        for j0 in (0..m).step_by(BLOCK) {
            let cols = BLOCK.min(m - j0);
            let cross = a_block.matmul(&b.narrow(0, j0, cols).t()).to_vec();
            let distances: Vec<f64> = cross
                .chunks(cols)
                .zip(&norms_a[i0..])
                .flat_map(|(row, &norm_a)| {
                    row.iter()
                        .zip(&norms_b[j0..])
                        .map(move |(&ab, &norm_b)| (norm_a + norm_b - 2.0 * ab).max(0.0).sqrt())
                })
                .collect();
            tile(i0, j0, cols, &distances);
        }
    }
}

/// The rows `indices` of the row-major matrix `all` with rows of length `d`, as `[len, d]`.
pub fn select_rows(all: &[f64], d: usize, indices: &[usize]) -> Tensor<f64> {
    let picked = indices
        .iter()
        .flat_map(|&i| all[i * d..(i + 1) * d].iter().copied())
        .collect();
    Tensor::from_vec(picked, &[indices.len(), d])
}

/// `‖x_i‖²` for every row of `x` `[n, d]`.
fn squared_norms(x: &Tensor<f64>) -> Vec<f64> {
    let d = x.shape()[1];
    x.to_vec()
        .chunks(d.max(1))
        .map(|r| r.iter().map(|v| v * v).sum())
        .take(x.shape()[0])
        .collect()
}

/// For every row `x_i` of `x` `[n, d]`, the distance to its `k`-th nearest neighbour in `x`,
/// the point itself counted as the 0-th (distance 0): the `(k+1)`-th smallest entry of row
/// `i` of the distance matrix, as in the reference implementation of Naeem et al. 2020
/// (`get_kth_value(distances, k + 1)`). Requires `k < n`.
pub fn nearest_neighbour_radii(x: &Tensor<f64>, k: usize) -> Vec<f64> {
    NearestNeighbours::of(x, k).radii(k)
}

/// The `k_max + 1` smallest distances from each row of a set to the rows of the same set
/// (itself included), from one pass over the distance tiles: the radii for every
/// `k ≤ k_max` at the cost of one.
pub struct NearestNeighbours {
    /// Row `i` holds the `k_max + 1` smallest distances from `x_i`, ascending.
    smallest: Vec<Vec<f64>>,
}

impl NearestNeighbours {
    /// Searches `x` `[n, d]` (`k_max < n`).
    pub fn of(x: &Tensor<f64>, k_max: usize) -> Self {
        let n = x.shape()[0];
        assert!(
            k_max < n,
            "k-NN radii: k = {k_max} needs more than {n} points"
        );
        let mut smallest = vec![Vec::with_capacity(k_max + 2); n];
        for_each_distance_tile(x, x, |i0, j0, cols, tile| {
            for (r, row) in tile.chunks(cols).enumerate() {
                let kept: &mut Vec<f64> = &mut smallest[i0 + r];
                for (c, &dist) in row.iter().enumerate() {
                    // The diagonal is exactly 0, whatever the rounding of the expansion.
                    let dist = if i0 + r == j0 + c { 0.0 } else { dist };
                    if kept.len() <= k_max || dist < kept[k_max] {
                        let at = kept.partition_point(|&v| v <= dist);
                        kept.insert(at, dist);
                        kept.truncate(k_max + 1);
                    }
                }
            }
        });
        NearestNeighbours { smallest }
    }

    /// The distance from each row to its `k`-th nearest neighbour (`k ≤ k_max`).
    pub fn radii(&self, k: usize) -> Vec<f64> {
        self.smallest.iter().map(|kept| kept[k]).collect()
    }
}
