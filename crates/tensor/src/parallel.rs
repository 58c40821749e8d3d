//! The parallel policy shared by the kernels: when work leaves the calling thread, how it is
//! cut, and the pointer wrapper that lets disjoint writes cross threads.
//!
//! Work is cut into chunks whose sizes depend on the data alone, never on the number of
//! threads, so every result is the same bits on any pool (`tests/determinism.rs`). The
//! GEMM has its own scheduler for its tiles (`gemm/threads.rs`), with the same rule.

use rayon::prelude::*;

use crate::element::Element;

/// Below this many elements an elementwise op stays on the calling thread.
pub const PARALLEL_MIN_LEN: usize = 1 << 16;

/// The GEMM spreads a product of at least this many floating-point operations (`2·m·k·n`)
/// over rayon's threads and keeps a smaller one on the calling thread (its thin paths, for
/// short k or few columns, count elements instead).
pub const PARALLEL_FLOPS: usize = 4_000_000;

/// `2·m·k·n`, the floating-point operations of an `m×k` by `k×n` product, saturating
/// instead of overflowing.
pub(crate) fn product_flops(m: usize, k: usize, n: usize) -> usize {
    m.saturating_mul(k).saturating_mul(n).saturating_mul(2)
}

/// Whether the GEMM spreads an `m×k` by `k×n` product over rayon's threads: at least
/// [`PARALLEL_FLOPS`], on a pool with a second thread.
pub(crate) fn product_uses_threads(m: usize, k: usize, n: usize) -> bool {
    product_flops(m, k, n) >= PARALLEL_FLOPS && rayon::current_num_threads() > 1
}

/// A buffer of `len` elements, each written exactly once by `fill(offset, chunk)` over
/// disjoint chunks of `chunk_len` (in parallel when `len ≥ PARALLEL_MIN_LEN`). The buffer is
/// never zero-filled first: every caller writes every element of its chunk.
pub(crate) fn filled<E: Element>(
    len: usize,
    chunk_len: usize,
    fill: impl Fn(usize, &mut [std::mem::MaybeUninit<E>]) + Sync,
) -> Vec<E> {
    let mut out: Vec<E> = Vec::with_capacity(len);
    let buf = &mut out.spare_capacity_mut()[..len];
    if len < PARALLEL_MIN_LEN {
        fill(0, buf);
    } else {
        buf.par_chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(i, c)| fill(i * chunk_len, c));
    }
    // SAFETY: `fill` wrote every element of every chunk, and the chunks tile `0..len`.
    unsafe { out.set_len(len) };
    out
}

/// A raw pointer (`*const T` or `*mut T`) that may cross threads, into a buffer that
/// outlives the parallel work using it; the tasks sharing it read, or write disjoint parts.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<P: Copy>(pub(crate) P);
// SAFETY: the users above uphold the two conditions (the buffer outlives the tasks; writes
// are disjoint), which is all that sending or sharing a raw pointer needs.
unsafe impl<P: Copy> Send for SendPtr<P> {}
unsafe impl<P: Copy> Sync for SendPtr<P> {}

impl<P: Copy> SendPtr<P> {
    /// The pointer (a method, so closures capture the whole `Send` wrapper).
    pub(crate) fn get(self) -> P {
        self.0
    }
}

// Used by the GEMM, which has kernels of its own only on x86-64.
#[cfg(target_arch = "x86_64")]
impl<T> SendPtr<*mut T> {
    /// The pointer `offset` elements on.
    ///
    /// # Safety
    /// As for `pointer::offset`: the result stays inside the buffer.
    pub(crate) unsafe fn at(self, offset: isize) -> *mut T {
        self.0.offset(offset)
    }
}
