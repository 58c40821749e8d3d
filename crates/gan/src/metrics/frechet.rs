//! The Fréchet distance between two Gaussians fitted to feature sets (the "FID" recipe of
//! Heusel et al. 2017, with features from a classifier of our own):
//!
//! `FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^{1/2})`.
//!
//! `Tr((Σ₁Σ₂)^{1/2})` is computed as `Σᵢ √λᵢ` with `λᵢ` the eigenvalues of the symmetric
//! matrix `Σ₁^{1/2} Σ₂ Σ₁^{1/2}` (which has the same eigenvalues as `Σ₁Σ₂`), so only
//! symmetric eigendecompositions are needed: the cyclic Jacobi method below, in `f64`.

/// Mean and covariance (divisor `n − 1`) of `n` rows of length `d`.
pub fn mean_and_covariance(rows: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d;
    let mut mean = vec![0.0; d];
    for r in rows.chunks(d) {
        mean.iter_mut().zip(r).for_each(|(m, x)| *m += x / n as f64);
    }
    let mut cov = vec![0.0; d * d];
    for r in rows.chunks(d) {
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] += (r[i] - mean[i]) * (r[j] - mean[j]) / (n.max(2) - 1) as f64;
            }
        }
    }
    (mean, cov)
}

/// The Fréchet distance between `N(μ₁, Σ₁)` and `N(μ₂, Σ₂)` (`d×d` row-major covariances).
pub fn frechet_distance(mu1: &[f64], cov1: &[f64], mu2: &[f64], cov2: &[f64]) -> f64 {
    let d = mu1.len();
    let mean_term: f64 = mu1.iter().zip(mu2).map(|(a, b)| (a - b) * (a - b)).sum();
    let trace = |m: &[f64]| (0..d).map(|i| m[i * d + i]).sum::<f64>();
    let root1 = psd_sqrt(cov1, d);
    let inner = matmul(&matmul(&root1, cov2, d), &root1, d);
    let (eigenvalues, _) = symmetric_eigen(&inner, d);
    let cross: f64 = eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
    mean_term + trace(cov1) + trace(cov2) - 2.0 * cross
}

/// The Fréchet distance between the Gaussians fitted to two feature sets.
pub fn frechet_distance_of(a: &[f64], b: &[f64], d: usize) -> f64 {
    let (m1, c1) = mean_and_covariance(a, d);
    let (m2, c2) = mean_and_covariance(b, d);
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
    let (values, vectors) = symmetric_eigen(m, d);
    let mut out = vec![0.0; d * d];
    for (k, l) in values.iter().enumerate() {
        let s = l.max(0.0).sqrt();
        for i in 0..d {
            for j in 0..d {
                out[i * d + j] += s * vectors[i * d + k] * vectors[j * d + k];
            }
        }
    }
    out
}

/// Eigenvalues and eigenvectors (columns of a row-major `d×d` matrix) of a symmetric
/// matrix, by cyclic Jacobi rotations until the off-diagonal mass is negligible.
pub fn symmetric_eigen(m: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = m.to_vec();
    let mut v = vec![0.0; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j].powi(2))
            .sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation angle θ that zeroes a[p][q]: tan 2θ = 2a_pq / (a_qq − a_pp).
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut l, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        l.sort_by(f64::total_cmp);
        assert!(
            (l[0] - 1.0).abs() < 1e-12 && (l[1] - 3.0).abs() < 1e-12,
            "{l:?}"
        );
    }

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
