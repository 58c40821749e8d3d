//! Dense linear algebra on small `f64` matrices: the symmetric eigendecomposition that the
//! Fréchet distance (matrix square roots) and the spectral-norm checks (`σ_max(W)² =
//! λ_max(WᵀW)`) need.
//!
//! Matrices are row-major `&[f64]` slices of `d·d` values: these are `d ≤ a few hundred`
//! problems, solved once per evaluation, where accuracy matters more than speed.

/// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct SymmetricEigen {
    /// The eigenvalues `λ`, in ascending order.
    pub values: Vec<f64>,
    /// The orthonormal eigenvectors as the columns of a row-major `d×d` matrix: column `k`
    /// (entries `vectors[i·d + k]`) belongs to `values[k]`.
    pub vectors: Vec<f64>,
}

impl SymmetricEigen {
    /// The largest eigenvalue (`−∞` for an empty matrix).
    pub fn largest(&self) -> f64 {
        self.values.last().copied().unwrap_or(f64::NEG_INFINITY)
    }
}

/// The eigenvalues and eigenvectors of the symmetric row-major `d×d` matrix `m`, by the
/// cyclic Jacobi method (Golub & Van Loan, *Matrix Computations*, §8.5).
///
/// Each rotation `J(p, q, θ)` with `tan 2θ = 2a_pq / (a_qq − a_pp)` zeroes the pair
/// `a_pq = a_qp` of `A ← JᵀAJ` and moves its mass onto the diagonal; sweeping over every
/// pair `p < q` repeatedly drives the off-diagonal mass `Σ_{i≠j} a_ij²` to zero
/// (quadratically, once it is small). The diagonal then holds `λ`, and the product of the
/// rotations `V = J₁J₂…` the eigenvectors. Stops when the off-diagonal mass is below
/// `10⁻³⁰·‖A‖²_F`, or after 100 sweeps. Only the upper triangle of `m` is trusted to be
/// the lower one mirrored; an asymmetric input gives meaningless output.
///
/// Cost: `O(d³)` per sweep, and typically 6-10 sweeps.
pub fn symmetric_eigen(m: &[f64], d: usize) -> SymmetricEigen {
    assert_eq!(
        m.len(),
        d * d,
        "symmetric_eigen: {} values for a {d}x{d} matrix",
        m.len()
    );
    let mut a = m.to_vec();
    let mut v = vec![0.0; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        if off_diagonal_mass(&a, d) <= 1e-30 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                if a[p * d + q] != 0.0 {
                    rotate(&mut a, &mut v, d, p, q);
                }
            }
        }
    }
    sorted(a, v, d)
}

/// `Σ_{i≠j} a_ij²`.
fn off_diagonal_mass(a: &[f64], d: usize) -> f64 {
    (0..d * d)
        .filter(|k| k / d != k % d)
        .map(|k| a[k] * a[k])
        .sum()
}

/// Applies the Jacobi rotation that zeroes `a_pq`: `A ← JᵀAJ`, `V ← VJ`.
fn rotate(a: &mut [f64], v: &mut [f64], d: usize, p: usize, q: usize) {
    // θ from cot 2θ = (a_qq − a_pp) / 2a_pq; t = tan θ is the smaller root of
    // t² + 2t·cot 2θ − 1 = 0, which keeps the rotation angle below π/4 (stable).
    let cot2 = (a[q * d + q] - a[p * d + p]) / (2.0 * a[p * d + q]);
    let t = if cot2 == 0.0 {
        1.0
    } else {
        cot2.signum() / (cot2.abs() + cot2.hypot(1.0))
    };
    let c = 1.0 / t.hypot(1.0);
    let s = t * c;
    // Columns p and q of A (A·J) ...
    for k in 0..d {
        let (akp, akq) = (a[k * d + p], a[k * d + q]);
        a[k * d + p] = c * akp - s * akq;
        a[k * d + q] = s * akp + c * akq;
    }
    // ... then rows p and q (Jᵀ·A), and the accumulated rotations V·J.
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

/// The diagonal of `a` as ascending eigenvalues, with the columns of `v` in the same order.
fn sorted(a: Vec<f64>, v: Vec<f64>, d: usize) -> SymmetricEigen {
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[i * d + i].total_cmp(&a[j * d + j]));
    let values = order.iter().map(|&i| a[i * d + i]).collect();
    let mut vectors = vec![0.0; d * d];
    for (new, &old) in order.iter().enumerate() {
        for i in 0..d {
            vectors[i * d + new] = v[i * d + old];
        }
    }
    SymmetricEigen { values, vectors }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_by_two_by_hand() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, −1)/√2 and (1, 1)/√2.
        let e = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((e.values[0] - 1.0).abs() < 1e-14 && (e.values[1] - 3.0).abs() < 1e-14);
        let r = std::f64::consts::FRAC_1_SQRT_2;
        assert!((e.vectors[0].abs() - r).abs() < 1e-14);
        assert!(
            (e.vectors[0] + e.vectors[2]).abs() < 1e-14,
            "{:?}",
            e.vectors
        );
        assert!(
            (e.vectors[1] - e.vectors[3]).abs() < 1e-14,
            "{:?}",
            e.vectors
        );
        assert_eq!(e.largest(), e.values[1]);
    }

    #[test]
    fn reconstructs_a_symmetric_matrix_with_orthonormal_vectors() {
        // A = BᵀB + diag for a fixed B: symmetric, with distinct eigenvalues.
        let d = 7;
        let b: Vec<f64> = (0..d * d)
            .map(|k| ((k * 37 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|k| b[k * d + i] * b[k * d + j]).sum::<f64>()
                    + if i == j { i as f64 } else { 0.0 };
            }
        }
        let e = symmetric_eigen(&a, d);
        assert!(e.values.windows(2).all(|w| w[0] <= w[1]));
        let v = &e.vectors;
        for i in 0..d {
            for j in 0..d {
                let rebuilt: f64 = (0..d)
                    .map(|k| v[i * d + k] * e.values[k] * v[j * d + k])
                    .sum();
                assert!((rebuilt - a[i * d + j]).abs() < 1e-10, "A[{i}][{j}]");
                let gram: f64 = (0..d).map(|k| v[k * d + i] * v[k * d + j]).sum();
                assert!((gram - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn diagonal_and_empty_matrices() {
        let e = symmetric_eigen(&[3.0, 0.0, 0.0, -1.0], 2);
        assert_eq!(e.values, vec![-1.0, 3.0]);
        assert_eq!(e.vectors, vec![0.0, 1.0, 1.0, 0.0]);
        assert!(symmetric_eigen(&[], 0).values.is_empty());
    }
}
