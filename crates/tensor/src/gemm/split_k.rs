//! Long k on a small C: `C ← α·A·B + β·C` cut along k, for products whose C is a single
//! parallel tile of the packed GEMM (a convolution's weight gradient: 64×12544×16).
//!
//! Math: with k cut into `s` consecutive chunks `K₀ … K_{s−1}`,
//! `P_t = Σ_{p∈K_t} A[.., p]·B[p, ..]` (each by the packed GEMM on one thread, into a
//! scratch block) and `C ← α·(((P₀ + P₁) + P₂) + … + P_{s−1}) + β·C`.
//!
//! The chunk count is fixed by k ([`CHUNK_DEPTH`]), the partial products are independent
//! tasks, and their sum runs in chunk order: so the result is the same on any number of
//! threads. C is computed in whichever orientation, C or `Cᵀ = Bᵀ·Aᵀ`, wastes less of the
//! kernel's tiles (on AVX-512's 12×32, 16 columns fill half a 32-column panel; 16 rows fill
//! 12 + 4). Both kernels use it: without it such a C is one task of the packed GEMM, and the
//! second thread idles.

use std::cell::Cell;

use super::blocking::{block, gemm_loop, reserve, Line, TILE_M, TILE_N};
use super::kernel::Microkernel;
use super::operands::{CTile, Strided};
use super::threads::run_tasks;
use crate::parallel::{product_flops, PARALLEL_FLOPS};

/// Depth of one chunk of k, about: each is a few microseconds of work for one thread.
const CHUNK_DEPTH: usize = 1024;

thread_local! {
    /// This thread's partial products.
    static PARTIALS: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// `C ← α·A·B + β·C` (`c` is m×n, with its α and β) when C fits one tile of the packed GEMM
/// (either way round), k holds at least two chunks and the product is big enough for
/// rayon; returns whether it did.
///
/// # Safety
/// As for [`super::sgemm`], with `m, n, k ≥ 1` and a CPU with `K`'s instruction set.
pub(super) unsafe fn gemm<K: Microkernel>(k: usize, a: Strided, b: Strided, c: CTile) -> bool {
    let (m, n) = (c.rows, c.cols);
    let one_tile = |m: usize, n: usize| m <= TILE_M && n <= TILE_N;
    if k < 2 * CHUNK_DEPTH
        || product_flops(m, k, n) < PARALLEL_FLOPS
        || !(one_tile(m, n) || one_tile(n, m))
    {
        return false;
    }
    // Kernel work, in multiply-adds per p, with C's rows and columns padded to whole panels.
    let padded = |m: usize, n: usize| m.next_multiple_of(K::MR) * n.next_multiple_of(K::NR);
    let (a, b, c) = if padded(n, m) < padded(m, n) {
        (b.t(), a.t(), c.t())
    } else {
        (a, b, c)
    };
    let (m, n) = (c.rows, c.cols);
    let depth = block(k, CHUNK_DEPTH, 1);
    let chunks = k.div_ceil(depth);
    let mut buf = PARTIALS.take();
    let partials = reserve(&mut buf, chunks * m * n);
    let partial = |t: usize| {
        let p0 = t * depth;
        let a = Strided {
            ptr: a.at(0, p0),
            ..a
        };
        let b = Strided {
            ptr: b.at(p0, 0),
            ..b
        };
        let out = CTile {
            c: partials.at((t * m * n) as isize),
            rsc: n as isize,
            csc: 1,
            rows: m,
            cols: n,
            alpha: 1.0,
            beta: 0.0,
            bias: std::ptr::null(),
            rectifier: None,
        };
        gemm_loop::<K>(depth.min(k - p0), a, b, out, false);
    };
    run_tasks(
        rayon::current_num_threads() > 1,
        0,
        chunks,
        |_| {},
        |t, _| partial(t),
    );
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f32;
            for t in 0..chunks {
                sum += *partials.at((t * m * n + i * n + j) as isize);
            }
            let out = c.c.offset(i as isize * c.rsc + j as isize * c.csc);
            *out = if c.beta == 0.0 {
                c.alpha * sum
            } else {
                c.alpha * sum + c.beta * *out
            };
        }
    }
    PARTIALS.set(buf);
    true
}
