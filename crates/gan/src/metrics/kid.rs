//! Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased
//! estimate of the squared maximum mean discrepancy between the feature distributions, with
//! the cubic polynomial kernel
//!
//! ```text
//! k(x, y) = (xᵀy/d + 1)³
//! MMD²_u = 1/(m(m−1)) Σ_{i≠j} [k(x_i, x_j) + k(y_i, y_j)] − 2/m² Σ_{i,j} k(x_i, y_j)
//! ```
//!
//! for `m` real `x` and `m` generated `y`. As in clean-fid (Parmar et al. 2022) the estimate
//! is averaged over [`SUBSETS`] random subsets of `m = min(n_real, n_generated,`
//! [`MAX_SUBSET`]`)` points of each set drawn without replacement, and the population
//! standard deviation over the subsets is reported beside the mean. Unbiased: it can be
//! slightly negative when the two distributions are equal.

use gantry_tensor::Tensor;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::metrics::pairwise::select_rows;

/// clean-fid's number of subsets.
pub const SUBSETS: usize = 100;
/// clean-fid's largest subset.
pub const MAX_SUBSET: usize = 1000;

/// The KID estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Kid {
    /// Mean of `MMD²_u` over the subsets.
    pub mean: f64,
    /// Population standard deviation of `MMD²_u` over the subsets.
    pub std: f64,
}

/// KID of `generated` `[m, d]` against `real` `[n, d]` over `subsets` subsets of at most
/// `max_subset` points each, drawn by a ChaCha8 generator seeded with `seed` (real subset
/// first, then generated, for each subset in turn). Needs at least two points in each set.
pub fn kernel_inception_distance(
    real: &Tensor<f64>,
    generated: &Tensor<f64>,
    subsets: usize,
    max_subset: usize,
    seed: u64,
) -> Kid {
    let (n, m) = (real.shape()[0], generated.shape()[0]);
    let size = n.min(m).min(max_subset);
    assert!(size >= 2, "KID needs two points per set, got {n} and {m}");
    let d = real.shape()[1];
    let (real, generated) = (real.to_vec(), generated.to_vec());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let estimates: Vec<f64> = (0..subsets)
        .map(|_| {
            let x = select_rows(&real, d, &sample(&mut rng, n, size).into_vec());
            let y = select_rows(&generated, d, &sample(&mut rng, m, size).into_vec());
            unbiased_mmd2(&x, &y)
        })
        .collect();
    let mean = estimates.iter().sum::<f64>() / subsets as f64;
    let variance = estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / subsets as f64;
    Kid {
        mean,
        std: variance.sqrt(),
    }
}

/// `MMD²_u` of two equally sized sets `[m, d]` with the cubic kernel (formula above).
pub fn unbiased_mmd2(x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let (m, d) = (x.shape()[0] as f64, x.shape()[1] as f64);
    // Σ k over the Gram matrix a·bᵀ, without (false) or with (true) its diagonal.
    let kernel_sum = |a: &Tensor<f64>, b: &Tensor<f64>, diagonal: bool| -> f64 {
        let gram = a.matmul(&b.t()).to_vec();
        let cols = b.shape()[0];
        let k = |g: f64| (g / d + 1.0).powi(3);
        let all: f64 = gram.iter().map(|&g| k(g)).sum();
        let on_diagonal: f64 = gram.iter().step_by(cols + 1).map(|&g| k(g)).sum();
        if diagonal {
            all
        } else {
            all - on_diagonal
        }
    };
    (kernel_sum(x, x, false) + kernel_sum(y, y, false)) / (m * (m - 1.0))
        - 2.0 * kernel_sum(x, y, true) / (m * m)
}
