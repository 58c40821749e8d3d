//! Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
//! Generative Models"), with `k = 5` by default.
//!
//! Only the real manifold is estimated (balls of radius `NN_k(r_i)`, the distance from each
//! real `r_i` to its k-th nearest real neighbour), which makes both robust to generated
//! outliers. For real `R` (n points) and generated `G` (m points):
//!
//! ```text
//! density  = 1/(k·m) Σ_j Σ_i 1[‖g_j − r_i‖ < NN_k(r_i)]      (how many real balls hold g_j)
//! coverage = (1/n) Σ_i 1[min_j ‖r_i − g_j‖ < NN_k(r_i)]       (real balls holding any g_j)
//! ```
//!
//! with the strict "<" of the reference implementation (`compute_prdc` in
//! clovaai/generative-evaluation-prdc). Density is unbounded above (about 1 when the two
//! sets come from one distribution); coverage is in [0, 1].

use gantry_tensor::Tensor;
use serde::Serialize;

use crate::metrics::pairwise::{for_each_distance_tile, nearest_neighbour_radii};

/// The neighbourhood size of Naeem et al.
pub const K: usize = 5;

/// Density and coverage of a generated set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DensityCoverage {
    /// Mean number of real k-NN balls holding a generated sample, divided by k.
    pub density: f64,
    /// Share of real k-NN balls holding at least one generated sample.
    pub coverage: f64,
}

/// Density and coverage of `generated` `[m, d]` against `real` `[n, d]` (`k < n`).
pub fn density_coverage(real: &Tensor<f64>, generated: &Tensor<f64>, k: usize) -> DensityCoverage {
    density_coverage_with_radii(real, generated, &nearest_neighbour_radii(real, k), k)
}

/// The same with the real set's k-NN radii given (see
/// [`crate::metrics::pairwise::NearestNeighbours`]).
pub fn density_coverage_with_radii(
    real: &Tensor<f64>,
    generated: &Tensor<f64>,
    radii: &[f64],
    k: usize,
) -> DensityCoverage {
    let (n, m) = (real.shape()[0], generated.shape()[0]);
    let mut balls_holding = 0usize;
    let mut covered = vec![false; n];
    for_each_distance_tile(real, generated, |i0, _, cols, tile| {
        for (r, row) in tile.chunks(cols).enumerate() {
            let inside = row.iter().filter(|&&dist| dist < radii[i0 + r]).count();
            balls_holding += inside;
            covered[i0 + r] |= inside > 0;
        }
    });
    DensityCoverage {
        density: balls_holding as f64 / (k * m) as f64,
        coverage: covered.iter().filter(|&&c| c).count() as f64 / n as f64,
    }
}
