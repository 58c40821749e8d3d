//! Single-precision GEMM, `C ← α·A·B + β·C`, with an AVX-512 kernel of our own.
//!
//! `A` is m×k, `B` is k×n and `C` is m×n, each given by a pointer and two element strides
//! (row stride `rs*`, column stride `cs*`): element `(i, j)` of `C` is at `c + i·rsc + j·csc`.
//! Any strides work, transposed views (row stride 1) and broadcast operands (stride 0)
//! included; the fast paths are unit column stride and unit row stride.
//!
//! With `β = 0`, C is only written, never read, so it may be uninitialized; for `k = 0`
//! (or `α = 0`) the product is empty and `C ← β·C` (zeros when `β = 0`).
//!
//! Determinism: every element of C is summed over k in an order fixed by the shape and
//! strides alone (in the packed GEMM: k-blocks in increasing order, each accumulated one
//! rank-1 update at a time; the thin paths state theirs), and the work is cut into blocks
//! whose sizes depend only on the shape. So the result is bit-identical whatever the
//! number of rayon threads.
//!
//! Thin products, whose packed tiles would be mostly padding or whose C would be one
//! tile, take a path of their own first, each falling back to the packed GEMM when its
//! layout assumptions do not hold, in this order: `matvec` (`min(m, n) ≤ 4`), `small_k`
//! (`k ≤ 16`), `split_k` (long k on a C of one parallel tile).
//!
//! Read in this order:
//! 1. [`naive`]: the reference triple loop (`f64` accumulation), for tests and readers.
//! 2. `blocking` (x86-64): the loop nest, the block sizes and the rayon threading.
//! 3. `pack`: copying blocks of A and B into the panel layout the kernel streams.
//! 4. `kernel_avx512`: the 12×32 register-blocked microkernel and its store of C.
//! 5. `matvec`: a matrix times at most four vectors, streamed in the matrix's layout.
//! 6. `small_k`: short k, C computed straight from A and B's rows.
//! 7. `split_k`: long k on a small C, as a fixed sum of partial products.
//!
//! Without AVX-512 (detected at run time) or off x86-64, [`sgemm`] calls
//! `matrixmultiply::sgemm`.

#[cfg(target_arch = "x86_64")]
mod blocking;
#[cfg(target_arch = "x86_64")]
mod kernel_avx512;
#[cfg(target_arch = "x86_64")]
mod matvec;
pub mod naive;
#[cfg(target_arch = "x86_64")]
mod pack;
#[cfg(target_arch = "x86_64")]
mod small_k;
#[cfg(target_arch = "x86_64")]
mod split_k;

/// Below this many columns, and when C is taller than wide, the product is computed as
/// `Cᵀ = Bᵀ·Aᵀ`: the kernel vectorizes along the columns of C, and a 16-lane vector would
/// be mostly empty for the matrix-vector products of a one-unit output layer.
const NARROW_N: usize = 16;

/// `C ← α·A·B + β·C` for `f32` (see the module documentation for the stride convention).
///
/// # Safety
/// The pointers with the given strides must address valid `m×k`, `k×n` and `m×n`
/// matrices (C may be uninitialized when `β = 0`), and `c` must not alias `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
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
    if !crate::simd::has_avx512() {
        matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
        return;
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(m, n, beta, c, rsc, csc);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let a_op = pack::Strided {
            ptr: a,
            rs: rsa,
            cs: csa,
        };
        let b_op = pack::Strided {
            ptr: b,
            rs: rsb,
            cs: csb,
        };
        let c_op = kernel_avx512::CTile {
            c,
            rsc,
            csc,
            rows: m,
            cols: n,
            alpha,
            beta,
        };
        if matvec::gemm(k, a_op, b_op, c_op)
            || small_k::gemm(k, a_op, b_op, c_op)
            || split_k::gemm(k, a_op, b_op, c_op)
        {
            return;
        }
        if n < NARROW_N && m > n {
            // Cᵀ (n×m) = Bᵀ (n×k) · Aᵀ (k×m): every transpose swaps its two strides.
            blocking::gemm(k, b_op.t(), a_op.t(), c_op.t());
        } else {
            blocking::gemm(k, a_op, b_op, c_op);
        }
    }
}

/// `C ← β·C`, the whole update when the product is empty; with `β = 0`, C is not read.
///
/// # Safety
/// As for [`sgemm`].
unsafe fn scale(m: usize, n: usize, beta: f32, c: *mut f32, rsc: isize, csc: isize) {
    for i in 0..m {
        for j in 0..n {
            let p = c.offset(i as isize * rsc + j as isize * csc);
            *p = if beta == 0.0 { 0.0 } else { beta * *p };
        }
    }
}
