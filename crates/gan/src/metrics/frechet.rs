//! The Fréchet distance between two Gaussians fitted to feature sets (the "FID" recipe of
//! Heusel et al. 2017, with features from a classifier of our own):
//!
//! `FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^{1/2})`.
//!
//! `Tr((Σ₁Σ₂)^{1/2})` is computed as `Σᵢ √λᵢ` with `λᵢ` the eigenvalues of the symmetric
//! matrix `Σ₁^{1/2} Σ₂ Σ₁^{1/2}` (which has the same eigenvalues as `Σ₁Σ₂`), so only
//! symmetric eigendecompositions are needed: [`symmetric_eigen`] (cyclic Jacobi, `f64`).

use gantry_tensor::linalg::symmetric_eigen;
use gantry_tensor::Tensor;

/// Mean and covariance `Σ = XcᵀXc / (n − 1)` (`Xc` the centred rows, one GEMM) of the `n`
/// rows of length `d` in `rows`.
pub fn mean_and_covariance(rows: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d;
    let mut mean = vec![0.0; d];
    for r in rows.chunks(d) {
        mean.iter_mut().zip(r).for_each(|(m, x)| *m += x / n as f64);
    }
    let centred: Vec<f64> = rows
        .chunks(d)
        .flat_map(|r| r.iter().zip(&mean).map(|(x, m)| x - m))
        .collect();
    let centred = Tensor::from_vec(centred, &[n, d]);
    let scale = 1.0 / (n.max(2) - 1) as f64;
    let cov = centred.t().matmul(&centred).to_vec();
    (mean, cov.into_iter().map(|c| c * scale).collect())
}

/// The Fréchet distance between `N(μ₁, Σ₁)` and `N(μ₂, Σ₂)` (`d×d` row-major covariances).
pub fn frechet_distance(mu1: &[f64], cov1: &[f64], mu2: &[f64], cov2: &[f64]) -> f64 {
    let d = mu1.len();
    let mean_term: f64 = mu1.iter().zip(mu2).map(|(a, b)| (a - b) * (a - b)).sum();
    let trace = |m: &[f64]| (0..d).map(|i| m[i * d + i]).sum::<f64>();
    let root1 = psd_sqrt(cov1, d);
    let inner = matmul(&matmul(&root1, cov2, d), &root1, d);
    let cross: f64 = symmetric_eigen(&inner, d)
        .values
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    mean_term + trace(cov1) + trace(cov2) - 2.0 * cross
}

/// The Fréchet distance between the Gaussians fitted to two feature sets `[n, d]`, `[m, d]`.
pub fn frechet_distance_of(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    let d = a.shape()[1];
    assert_eq!(d, b.shape()[1], "Fréchet distance: feature widths differ");
    let (m1, c1) = mean_and_covariance(&a.to_vec(), d);
    let (m2, c2) = mean_and_covariance(&b.to_vec(), d);
    frechet_distance(&m1, &c1, &m2, &c2)
}

/// `A·B` for `d×d` row-major matrices.
fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            for j in 0..d {
                c[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    c
}

/// The square root `V·diag(√max(λ, 0))·Vᵀ` of a symmetric positive semi-definite matrix.
fn psd_sqrt(m: &[f64], d: usize) -> Vec<f64> {
    let eigen = symmetric_eigen(m, d);
    let mut out = vec![0.0; d * d];
    for (k, l) in eigen.values.iter().enumerate() {
        let s = l.max(0.0).sqrt();
        for i in 0..d {
            for j in 0..d {
                out[i * d + j] += s * eigen.vectors[i * d + k] * eigen.vectors[j * d + k];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_gaussians_have_the_closed_form() {
        // For diagonal covariances FD = ‖μ₁ − μ₂‖² + Σ (σ₁ᵢ − σ₂ᵢ)².
        let (s1, s2) = ([1.0, 4.0, 0.25], [2.0, 1.0, 1.0]);
        let diag = |s: &[f64; 3]| {
            let mut c = vec![0.0; 9];
            (0..3).for_each(|i| c[i * 3 + i] = s[i] * s[i]);
            c
        };
        let fd = frechet_distance(&[0.0, 1.0, 2.0], &diag(&s1), &[1.0, 1.0, 0.0], &diag(&s2));
        let expected = 1.0
            + 0.0
            + 4.0
            + (1.0f64 - 2.0).powi(2)
            + (4.0f64 - 1.0).powi(2)
            + (0.25f64 - 1.0).powi(2);
        assert!((fd - expected).abs() < 1e-9, "{fd} vs {expected}");
    }

    #[test]
    fn identical_gaussians_are_at_distance_zero() {
        let cov = [2.0, 0.5, 0.1, 0.5, 1.0, 0.2, 0.1, 0.2, 3.0];
        let fd = frechet_distance(&[1.0, 2.0, 3.0], &cov, &[1.0, 2.0, 3.0], &cov);
        assert!(fd.abs() < 1e-9, "{fd}");
    }
}
