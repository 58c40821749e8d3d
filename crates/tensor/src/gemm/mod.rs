//! Single-precision GEMM, `C ← α·A·B + β·C`, with AVX-512 and AVX2 kernels of our own.
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
//! whose sizes depend only on the shape and the kernel. So on a given [`Path`] the result
//! is bit-identical whatever the number of rayon threads; different paths may differ in
//! the last bits.
//!
//! Thin products, whose packed tiles would be mostly padding or whose C would be one tile,
//! take a path of their own first, each falling back to the packed GEMM when its layout
//! assumptions do not hold, in this order: `matvec` (`min(m, n) ≤ 4`), `small_k`
//! (`k ≤ 16`) and `split_k` (long k on a C of one parallel tile).
//!
//! Read in this order:
//! 1. [`naive`]: the reference triple loop (`f64` accumulation), for tests and readers.
//! 2. `operands`: A, B and C as pointers with strides.
//! 3. `blocking` (x86-64): the loop nest (`gemm_loop`, loops 5/3; `tiles`, loops 2/1) and
//!    the block sizes, generic over the microkernel.
//! 4. `kernel`: what a microkernel provides (tile size, packing, the tile itself).
//! 5. `pack` and `pack_avx2`: copying blocks of A and B into the panel layout the kernels
//!    stream (transposes 16×16 and 8×8 in registers).
//! 6. `kernel_avx512` and `kernel_avx2`: the 12×32 and 6×16 register-blocked kernels.
//! 7. `threads`: the scheduler that spreads packing and tiles over rayon's threads, and
//!    why its one `unsafe` lifetime extension is sound.
//! 8. `lanes`: one vector's operations on either width, for the thin paths; `matvec`,
//!    `small_k`: a matrix times at most four vectors, short k; `split_k`: long k on a
//!    small C.
//! 9. `blocks`: the product handed over one block of C at a time ([`sgemm_blocks`]), for
//!    `fold(A·B)` without storing `A·B`.
//! 10. `bias`: the epilogue of [`sgemm_bias`], a linear layer's `x·Wᵀ + b`, which adds the
//!     bias row to each tile of C as soon as it is finished.
//! 11. [`peak`]: the CPU's FMA peak on a path, the scale for the GEMM's rate (written over
//!     `lanes`).
//!
//! The [`Path`] ([`crate::simd::path`], `GANTRY_SIMD`) chooses the kernel: on the `scalar`
//! path, and off x86-64, [`sgemm`] calls `matrixmultiply::sgemm` (NEON on aarch64).

use crate::element::Element;
use crate::rectifier::Rectifier;
use crate::simd::Path;

/// What [`sgemm_blocks`] hands each block of C to: `consume(i0, j0, block, ld)`, the block's
/// first row and column and its row-major elements with row stride `ld`.
pub type ConsumeBlock<'a, E> = dyn Fn(usize, usize, &[E], usize) + Sync + 'a;

#[cfg(target_arch = "x86_64")]
mod bias;
#[cfg(target_arch = "x86_64")]
mod blocking;
#[cfg(target_arch = "x86_64")]
mod blocks;
#[cfg(target_arch = "x86_64")]
mod kernel;
#[cfg(target_arch = "x86_64")]
mod kernel_avx2;
#[cfg(target_arch = "x86_64")]
mod kernel_avx512;
#[cfg(target_arch = "x86_64")]
mod lanes;
#[cfg(target_arch = "x86_64")]
mod matvec;
pub mod naive;
#[cfg(target_arch = "x86_64")]
mod operands;
#[cfg(target_arch = "x86_64")]
mod pack;
#[cfg(target_arch = "x86_64")]
mod pack_avx2;
pub mod peak;
#[cfg(target_arch = "x86_64")]
mod small_k;
#[cfg(target_arch = "x86_64")]
mod split_k;
#[cfg(target_arch = "x86_64")]
mod threads;

/// Below this many columns, and when C is taller than wide, the product is computed as
/// `Cᵀ = Bᵀ·Aᵀ`: the kernel vectorizes along the columns of C, and a 16-lane vector would
/// be mostly empty for the matrix-vector products of a one-unit output layer.
#[cfg(target_arch = "x86_64")]
const NARROW_N: usize = 16;

/// `C ← α·A·B + β·C` for `f32` (see the module documentation for the stride convention),
/// on the process's [`Path`] ([`crate::simd::path`]).
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
    let path = crate::simd::path();
    sgemm_on(
        path, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
    );
}

/// [`sgemm`] on a chosen path (tests and benchmarks run every path the CPU supports).
///
/// # Safety
/// As for [`sgemm`], and the CPU supports `path` ([`Path::is_supported`]).
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_on(
    path: Path,
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
    #[cfg(target_arch = "x86_64")]
    if path != Path::Scalar {
        own(
            path,
            m,
            k,
            n,
            alpha,
            (a, rsa, csa),
            (b, rsb, csb),
            beta,
            (c, rsc, csc),
            (std::ptr::null(), None),
        );
        return;
    }
    let _ = path;
    matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
}

/// `C = A·B + 1·biasᵀ` for `f32`, then a rectifier if one is given: the product (`[m, k,
/// n]`: `m×k · k×n`, strides as for [`sgemm`]) with `bias[j]` added to every element of
/// column j, on the process's [`Path`]. C is row-major with row stride `rsc`, and only
/// written.
///
/// Every element has the bits of [`sgemm`]'s product (α = 1, β = 0) with the bias added
/// afterwards in a pass of its own, then the rectifier ([`Rectifier::apply`]); on the
/// AVX-512 and AVX2 paths the packed GEMM does both to each tile of C as soon as the tile
/// is finished (see `bias`), which saves those passes and their trips through memory.
///
/// # Safety
/// As for [`sgemm`] with `csc = 1`, and `bias` addresses `n` floats.
pub unsafe fn sgemm_bias(
    mkn: [usize; 3],
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
    epilogue: (*const f32, Option<Rectifier>),
    c: *mut f32,
    rsc: isize,
) {
    sgemm_bias_on(crate::simd::path(), mkn, a, b, epilogue, c, rsc);
}

/// [`sgemm_bias`] on a chosen path (tests run every path the CPU supports).
///
/// # Safety
/// As for [`sgemm_bias`], and the CPU supports `path` ([`Path::is_supported`]).
pub unsafe fn sgemm_bias_on(
    path: Path,
    [m, k, n]: [usize; 3],
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
    epilogue: (*const f32, Option<Rectifier>),
    c: *mut f32,
    rsc: isize,
) {
    #[cfg(target_arch = "x86_64")]
    if path != Path::Scalar {
        own(path, m, k, n, 1.0, a, b, 0.0, (c, rsc, 1), epilogue);
        return;
    }
    let _ = path;
    let ((a, rsa, csa), (b, rsb, csb)) = (a, b);
    matrixmultiply::sgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, 1);
    add_bias_rows(m, n, epilogue, c, rsc);
}

/// `C[i][j] ← C[i][j] + bias[j]` over a row-major `m×n` C, then the rectifier if any
/// (nothing for a null `bias`): the epilogue's pass where the product did not apply it per
/// tile (and [`Element::gemm_bias`]'s for `f64`).
///
/// # Safety
/// `c` addresses a valid `m×n` matrix with row stride `rsc` and unit column stride, and a
/// non-null `bias` addresses `n` elements.
pub(crate) unsafe fn add_bias_rows<E: Element>(
    m: usize,
    n: usize,
    (bias, rectifier): (*const E, Option<Rectifier>),
    c: *mut E,
    rsc: isize,
) {
    if bias.is_null() {
        return;
    }
    let bias = std::slice::from_raw_parts(bias, n);
    for i in 0..m {
        let row = std::slice::from_raw_parts_mut(c.offset(i as isize * rsc), n);
        for (x, &b) in row.iter_mut().zip(bias) {
            *x = *x + b;
        }
        if let Some(r) = rectifier {
            r.apply(row);
        }
    }
}

/// gantry's own GEMM on the AVX-512 or AVX2 path, then the epilogue: `bias` (null for none;
/// with it, `csc = 1`) added to each row and the rectifier applied, by the packed GEMM tile
/// by tile, after the thin paths in a pass of its own.
///
/// # Safety
/// As for [`sgemm_on`], and a non-null `bias` addresses `n` floats.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn own(
    path: Path,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    (a, rsa, csa): (*const f32, isize, isize),
    (b, rsb, csb): (*const f32, isize, isize),
    beta: f32,
    (c, rsc, csc): (*mut f32, isize, isize),
    epilogue: (*const f32, Option<Rectifier>),
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(m, n, beta, c, rsc, csc);
        add_bias_rows(m, n, epilogue, c, rsc);
        return;
    }
    let a = operands::Strided::new((a, rsa, csa));
    let b = operands::Strided::new((b, rsb, csb));
    let c = operands::CTile {
        c,
        rsc,
        csc,
        rows: m,
        cols: n,
        alpha,
        beta,
        bias: std::ptr::null(),
        rectifier: None,
    };
    let thin = match path {
        Path::Avx512 => thin::<kernel_avx512::Avx512>(k, a, b, c),
        _ => thin::<kernel_avx2::Avx2>(k, a, b, c),
    };
    if thin {
        add_bias_rows(m, n, epilogue, c.c, rsc);
    } else if n < NARROW_N && m > n {
        // Cᵀ (n×m) = Bᵀ (n×k) · Aᵀ (k×m): every transpose swaps its two strides. A bias row
        // of C is a column of Cᵀ, so it is added in a pass of its own.
        packed(path, k, b.t(), a.t(), c.t());
        add_bias_rows(m, n, epilogue, c.c, rsc);
    } else {
        let (bias, rectifier) = epilogue;
        packed(
            path,
            k,
            a,
            b,
            operands::CTile {
                bias,
                rectifier,
                ..c
            },
        );
    }
}

/// The packed GEMM ([`blocking::gemm`]) with the path's kernel.
///
/// # Safety
/// As for [`sgemm_on`], with `m, n, k ≥ 1`.
#[cfg(target_arch = "x86_64")]
unsafe fn packed(
    path: Path,
    k: usize,
    a: operands::Strided,
    b: operands::Strided,
    c: operands::CTile,
) {
    match path {
        Path::Avx512 => blocking::gemm::<kernel_avx512::Avx512>(k, a, b, c),
        _ => blocking::gemm::<kernel_avx2::Avx2>(k, a, b, c),
    }
}

/// `C = A·B` (`m×k · k×n`, strides as for [`sgemm`]) handed to `consume(i0, j0, block,
/// ld)` one block of `blocks = [rows, columns]` at a time (the last ones shorter), each
/// block row-major with row stride `ld`, without ever storing C whole (see `blocks`).
/// Returns `false`, having done nothing, on a path without gantry's own kernels (`scalar`,
/// or off x86-64): the caller then computes the product whole. On the AVX-512 and AVX2
/// paths, each block has the same bits as that part of [`sgemm`]'s packed product.
///
/// # Safety
/// The pointers with the given strides address valid `m×k` and `k×n` matrices.
pub unsafe fn sgemm_blocks(
    [m, k, n]: [usize; 3],
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
    blocks: [usize; 2],
    consume: &ConsumeBlock<'_, f32>,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let path = crate::simd::path();
        if path == Path::Scalar || m == 0 || n == 0 || k == 0 || blocks.contains(&0) {
            return false;
        }
        let (a, b) = (operands::Strided::new(a), operands::Strided::new(b));
        match path {
            Path::Avx512 => {
                blocks::gemm_blocks::<kernel_avx512::Avx512>([m, k, n], a, b, blocks, consume)
            }
            _ => blocks::gemm_blocks::<kernel_avx2::Avx2>([m, k, n], a, b, blocks, consume),
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (m, k, n, a, b, blocks, consume);
        false
    }
}

/// The thin paths in turn (`matvec`, `small_k`, `split_k`) with kernel `K`; returns whether
/// one of them computed the product.
///
/// # Safety
/// As for [`sgemm_on`], with `m, n, k ≥ 1` and a CPU with `K`'s instruction set.
#[cfg(target_arch = "x86_64")]
unsafe fn thin<K: kernel::Microkernel + lanes::Lanes>(
    k: usize,
    a: operands::Strided,
    b: operands::Strided,
    c: operands::CTile,
) -> bool {
    matvec::gemm::<K>(k, a, b, c)
        || small_k::gemm::<K>(k, a, b, c)
        || split_k::gemm::<K>(k, a, b, c)
}

/// `C ← β·C`, the whole update when the product is empty; with `β = 0`, C is not read.
///
/// # Safety
/// As for [`sgemm`].
#[cfg(target_arch = "x86_64")]
unsafe fn scale(m: usize, n: usize, beta: f32, c: *mut f32, rsc: isize, csc: isize) {
    for i in 0..m {
        for j in 0..n {
            let p = c.offset(i as isize * rsc + j as isize * csc);
            *p = if beta == 0.0 { 0.0 } else { beta * *p };
        }
    }
}
