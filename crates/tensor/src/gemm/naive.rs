//! The reference GEMM: the textbook triple loop, accumulated in `f64`.
//!
//! `C[i][j] ← α·Σₚ A[i][p]·B[p][j] + β·C[i][j]`, same strides and `β = 0` rule as
//! [`super::sgemm`]. The tests hold the fast kernel to it; it is also the shortest
//! statement of what the fast kernel computes.

/// `C ← α·A·B + β·C` by the triple loop, each dot product summed in `f64`.
///
/// # Safety
/// As for [`super::sgemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_naive(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    for i in 0..m as isize {
        for j in 0..n as isize {
            let mut acc = 0.0f64;
            for p in 0..k as isize {
                acc += f64::from(*a.offset(i * rsa + p * csa))
                    * f64::from(*b.offset(p * rsb + j * csb));
            }
            let out = c.offset(i * rsc + j * csc);
            let ab = f64::from(alpha) * acc;
            *out = if beta == 0.0 {
                ab as f32
            } else {
                (ab + f64::from(beta) * f64::from(*out)) as f32
            };
        }
    }
}
