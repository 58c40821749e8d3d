//! Matrix multiplication: `C = A·B` over the last two axes, batched over the others.
//!
//! `A: [..., m, k]`, `B: [..., k, n]` → `C: [..., m, n]`, with the batch axes broadcast
//! NumPy style. Operands are read through their strides, so a transposed or sliced view costs
//! no copy: the GEMM ([`crate::gemm`] for `f32`, `matrixmultiply` for `f64`) takes a row
//! stride and a column stride for each matrix.
//!
//! Threading: one large GEMM is split into fixed tiles by the GEMM itself (each element of C
//! is computed by one thread in a fixed order, so the result is the same whatever the thread
//! count). Many small GEMMs in a batch run in parallel over the batch with rayon instead.
//! Two independent large products (a layer's two gradients) can run side by side, one per
//! thread ([`Tensor::matmul_pair`]).

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::IxDyn;
use rayon::prelude::*;

use crate::element::Element;
use crate::error::{or_panic, ShapeError};
use crate::parallel::{product_uses_threads, SendPtr};
use crate::shape::{broadcast_shape, row_major_strides};
use crate::tensor::Tensor;

/// Floating-point operations of every matrix product so far (`2·m·k·n` each).
static FLOPS: AtomicU64 = AtomicU64::new(0);

/// The floating-point operations (`2·m·k·n` per product, batches included) of every
/// [`Tensor::matmul`] since the process started: convolutions and linear layers are
/// counted, elementwise ops are not. Benchmarks read it before and after a training step to
/// report achieved GFLOP/s.
pub fn matmul_flops() -> u64 {
    FLOPS.load(Ordering::Relaxed)
}

/// Adds a product's `2·m·k·n` to [`matmul_flops`] (for products computed outside
/// [`Tensor::matmul`], such as [`Tensor::matmul_fold`]'s).
pub(crate) fn count_flops(flops: usize) {
    FLOPS.fetch_add(flops as u64, Ordering::Relaxed);
}

/// Below this many multiply-adds per matrix, a batch is spread over rayon's threads.
const SMALL_GEMM_WORK: usize = 64 * 64 * 64;

impl<E: Element> Tensor<E> {
    /// Batched matrix product; an error names both shapes.
    pub fn try_matmul(&self, other: &Self) -> Result<Self, ShapeError> {
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() < 2 || sb.len() < 2 || sa[sa.len() - 1] != sb[sb.len() - 2] {
            return Err(ShapeError::new(
                "matmul",
                format!("cannot multiply {sa:?} by {sb:?} (need [.., m, k] x [.., k, n])"),
            ));
        }
        let (m, k, n) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
        let (batch_a, batch_b) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
        let batch = broadcast_shape("matmul", batch_a, batch_b).map_err(|_| {
            ShapeError::new(
                "matmul",
                format!(
                    "cannot multiply {sa:?} by {sb:?} (batch axes {batch_a:?} and {batch_b:?} do not broadcast)"
                ),
            )
        })?;
        let mut shape_a = batch.clone();
        shape_a.extend([m, k]);
        let mut shape_b = batch.clone();
        shape_b.extend([k, n]);
        // Broadcast views: repeated batch axes get stride 0, nothing is copied.
        let a = self
            .data
            .broadcast(IxDyn(&shape_a))
            .expect("batch axes broadcast");
        let b = other
            .data
            .broadcast(IxDyn(&shape_b))
            .expect("batch axes broadcast");
        let nb = batch.len();
        let offsets = |strides: &[isize]| -> Vec<isize> {
            let bs = row_major_strides(&batch);
            (0..batch.iter().product::<usize>())
                .map(|flat| {
                    (0..nb)
                        .map(|i| ((flat / bs[i]) % batch[i]) as isize * strides[i])
                        .sum()
                })
                .collect()
        };
        let (off_a, off_b) = (offsets(a.strides()), offsets(b.strides()));
        let (rsa, csa) = (a.strides()[nb], a.strides()[nb + 1]);
        let (rsb, csb) = (b.strides()[nb], b.strides()[nb + 1]);
        let (pa, pb) = (SendPtr(a.as_ptr()), SendPtr(b.as_ptr()));

        // The output is left uninitialized: with β = 0, GEMM only writes C (for k = 0 it
        // writes zeros), and the blocks tile the buffer. Zero-filling it first took as long
        // as the product itself for thin products such as [256, 2] x [2, 512].
        let len = off_a.len() * m * n;
        count_flops(2 * off_a.len() * m * k * n);
        let mut out: Vec<E> = Vec::with_capacity(len);
        let gemm_one = |i: usize, c: &mut [MaybeUninit<E>]| {
            // SAFETY: the offsets and strides come from valid (broadcast) views of `a` and
            // `b`, which outlive this call; `c` is this batch's own m×n block.
            unsafe {
                E::gemm(
                    /* m: */ m,
                    /* k: */ k,
                    /* n: */ n,
                    /* alpha: */ E::one(),
                    /* a: */ pa.get().offset(off_a[i]),
                    rsa,
                    csa,
                    /* b: */ pb.get().offset(off_b[i]),
                    rsb,
                    csb,
                    /* beta: */ E::zero(),
                    /* c: */ c.as_mut_ptr().cast::<E>(),
                    /* rsc: */ n as isize,
                    /* csc: */ 1,
                )
            }
        };
        if len > 0 {
            let blocks = &mut out.spare_capacity_mut()[..len];
            if off_a.len() > 1 && m * k * n < SMALL_GEMM_WORK {
                blocks
                    .par_chunks_mut(m * n)
                    .enumerate()
                    .for_each(|(i, c)| gemm_one(i, c));
            } else {
                blocks
                    .chunks_mut(m * n)
                    .enumerate()
                    .for_each(|(i, c)| gemm_one(i, c));
            }
        }
        // SAFETY: every one of the `len` elements was written by its block's GEMM above.
        unsafe { out.set_len(len) };
        let mut shape = batch;
        shape.extend([m, n]);
        Ok(Self::from_vec(out, &shape))
    }

    /// Batched matrix product, panicking with both shapes on mismatch.
    pub fn matmul(&self, other: &Self) -> Self {
        or_panic(self.try_matmul(other))
    }

    /// The two products `a₀·b₀` and `a₁·b₁` of `first = (a₀, b₀)` and `second`, as two
    /// [`Tensor::matmul`]s (panicking the same way), computed side by side when the pool has
    /// a second thread and each product is large enough to use threads on its own
    /// ([`PARALLEL_FLOPS`](crate::parallel::PARALLEL_FLOPS)).
    ///
    /// Side by side, each product starts on its own core, with its packed operands in that
    /// core's caches and no wait between its packing and its tiles, where one after the
    /// other each would be split over both cores; a thread done first joins the other
    /// product's remaining tiles. Which thread computes a tile never changes its bits, so
    /// each result is exactly what `matmul` gives.
    pub fn matmul_pair(first: (&Self, &Self), second: (&Self, &Self)) -> (Self, Self) {
        // The `i`-th axis from the end, 0 if there is none (`matmul` then reports the shapes).
        let axis = |t: &Self, i: usize| t.shape().iter().rev().nth(i).copied().unwrap_or(0);
        let threaded =
            |(a, b): (&Self, &Self)| product_uses_threads(axis(a, 1), axis(a, 0), axis(b, 0));
        let product = |(a, b): (&Self, &Self)| a.matmul(b);
        if threaded(first) && threaded(second) {
            rayon::join(|| product(first), || product(second))
        } else {
            (product(first), product(second))
        }
    }
}

/// The textbook triple loop, `C[i][j] = Σₖ A[i][k]·B[k][j]`, for 2-D tensors: the
/// reference the fast kernel is tested against.
pub fn matmul_naive<E: Element>(a: &Tensor<E>, b: &Tensor<E>) -> Tensor<E> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    assert_eq!(k, b.shape()[0], "matmul_naive: inner dimensions differ");
    let mut out = vec![E::zero(); m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = E::zero();
            for p in 0..k {
                acc = acc + a.array()[[i, p]] * b.array()[[p, j]];
            }
            out[i * n + j] = acc;
        }
    }
    Tensor::from_vec(out, &[m, n])
}
