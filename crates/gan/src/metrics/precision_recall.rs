//! Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
//! Metric for Assessing Generative Models"), with `k = 3` by default.
//!
//! The real manifold is approximated by the union of balls `B(r_i, NN_k(r_i))` around each
//! real feature vector, with radius the distance to its k-th nearest real neighbour; the
//! generated manifold likewise. Then, for real `R` (n points) and generated `G` (m points):
//!
//! ```text
//! precision = (1/m) Σ_j 1[∃ i: ‖g_j − r_i‖ < NN_k(r_i)]     (generated inside the real manifold)
//! recall    = (1/n) Σ_i 1[∃ j: ‖r_i − g_j‖ < NN_k(g_j)]     (real inside the generated manifold)
//! ```
//!
//! The comparison is the strict "<" of the reference implementation of Naeem et al. 2020
//! (`compute_prdc` in clovaai/generative-evaluation-prdc), whose precision and recall are
//! these with the same `k`.

use gantry_tensor::Tensor;
use serde::Serialize;

use crate::metrics::pairwise::{for_each_distance_tile, nearest_neighbour_radii};

/// The neighbourhood size of Kynkäänniemi et al.
pub const K: usize = 3;

/// Improved precision and recall, each in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PrecisionRecall {
    /// Share of generated samples inside the real manifold.
    pub precision: f64,
    /// Share of real samples inside the generated manifold.
    pub recall: f64,
}

/// Precision and recall of `generated` `[m, d]` against `real` `[n, d]` with `k`-NN balls
/// (`k < n` and `k < m`).
pub fn precision_recall(real: &Tensor<f64>, generated: &Tensor<f64>, k: usize) -> PrecisionRecall {
    let real_radii = nearest_neighbour_radii(real, k);
    let generated_radii = nearest_neighbour_radii(generated, k);
    precision_recall_with_radii(real, generated, &real_radii, &generated_radii)
}

/// The same with the k-NN radii of both sets given (see
/// [`crate::metrics::pairwise::NearestNeighbours`]).
pub fn precision_recall_with_radii(
    real: &Tensor<f64>,
    generated: &Tensor<f64>,
    real_radii: &[f64],
    generated_radii: &[f64],
) -> PrecisionRecall {
    let (n, m) = (real.shape()[0], generated.shape()[0]);
    let mut generated_inside = vec![false; m];
    let mut real_inside = vec![false; n];
    for_each_distance_tile(real, generated, |i0, j0, cols, tile| {
        for (r, row) in tile.chunks(cols).enumerate() {
            let i = i0 + r;
            for (c, &dist) in row.iter().enumerate() {
                let j = j0 + c;
                generated_inside[j] |= dist < real_radii[i];
                real_inside[i] |= dist < generated_radii[j];
            }
        }
    });
    let share = |v: &[bool]| v.iter().filter(|&&b| b).count() as f64 / v.len() as f64;
    PrecisionRecall {
        precision: share(&generated_inside),
        recall: share(&real_inside),
    }
}
