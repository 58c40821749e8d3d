//! The arithmetic peak of this CPU on a SIMD path: `f32` fused multiply-adds with no memory
//! traffic, on every rayon thread at once. No kernel can beat it, so it is the scale against
//! which `gantry bench` puts the GEMM's rate and its training steps' rates.
//!
//! Math: [`CHAINS`] independent chains `aᵢ ← aᵢ·x + y`, one vector FMA each per round, so
//! that a round is `2·CHAINS·lanes` flops. An FMA's result is ready 4–5 cycles after it
//! starts and a core issues up to 2 per cycle, so it needs about 10 chains in flight to keep
//! its FMA units busy every cycle: 12 chains do, on either path. Each chain's value stays
//! in a register (12 of the 16 AVX2 or 32 AVX-512 vector registers), so nothing but the
//! FMAs is timed. The chains are written once over a vector of either width (`lanes`).
//!
//! The scalar path has no peak here: its GEMM is `matrixmultiply`'s, which picks its own
//! instructions.

use std::time::Instant;

use crate::simd::Path;

/// Independent FMA chains per thread.
pub const CHAINS: usize = 12;
/// Rounds per timed run: about 20 ms of one core at 100 GFLOP/s on AVX2.
const ROUNDS: usize = 1 << 23;

/// Chain `i`'s starting value.
pub fn start(i: usize) -> f32 {
    i as f32 / CHAINS as f32
}

/// `rounds` rounds of the chains on `path`, from [`start`]; each chain's final value (every
/// lane of a chain holds the same one). `None` for the scalar path or a path this CPU
/// lacks.
pub fn chains(path: Path, rounds: usize) -> Option<[f32; CHAINS]> {
    if !path.is_supported() {
        return None;
    }
    vector_chains(path, rounds)
}

/// GFLOP/s of the chains on `path` run on every thread of the current rayon pool at once:
/// the best of 5 runs after one warm-up run (which lets the clock settle), each counted as
/// all threads' flops over the time from the start of the run to the last thread's end.
/// `None` where [`chains`] is.
pub fn fma_gflops(path: Path) -> Option<f64> {
    chains(path, 1)?;
    let lanes = if path == Path::Avx512 { 16 } else { 8 };
    let flops = (2 * CHAINS * lanes * ROUNDS * rayon::current_num_threads()) as f64;
    let run = || {
        let t0 = Instant::now();
        rayon::broadcast(|_| std::hint::black_box(chains(path, ROUNDS)));
        t0.elapsed().as_secs_f64()
    };
    run();
    let best = (0..5).map(|_| run()).fold(f64::INFINITY, f64::min);
    Some(flops / best / 1e9)
}

/// The chains on an x86-64 vector path, which the CPU supports.
#[cfg(target_arch = "x86_64")]
fn vector_chains(path: Path, rounds: usize) -> Option<[f32; CHAINS]> {
    // SAFETY: the caller checked that the CPU supports the path's instruction set.
    match path {
        Path::Scalar => None,
        Path::Avx2 => Some(unsafe { x86::chains_avx2(rounds) }),
        Path::Avx512 => Some(unsafe { x86::chains_avx512(rounds) }),
    }
}

/// Off x86-64 the only path is the scalar one, which has no chains.
#[cfg(not(target_arch = "x86_64"))]
fn vector_chains(_: Path, _: usize) -> Option<[f32; CHAINS]> {
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::kernel_avx2::Avx2;
    use super::super::kernel_avx512::Avx512;
    use super::super::lanes::Lanes;
    use super::{start, CHAINS};

    /// The chains' multiplier and addend: `aᵢ` tends to `y / (1 − x) = 1` and stays finite.
    const X: f32 = 0.999;
    const Y: f32 = 0.001;

    /// The chains as vectors of `L`, and each one's first lane at the end.
    #[inline(always)]
    unsafe fn chains<L: Lanes>(rounds: usize) -> [f32; CHAINS] {
        let (x, y) = (L::splat(X), L::splat(Y));
        let mut a: [L::V; CHAINS] = std::array::from_fn(|i| L::splat(start(i)));
        for _ in 0..rounds {
            for ai in a.iter_mut() {
                *ai = L::fma(*ai, x, y);
            }
        }
        a.map(|v| {
            let mut first = 0.0;
            L::store_masked(L::mask(1), &mut first, v);
            first
        })
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn chains_avx2(rounds: usize) -> [f32; CHAINS] {
        chains::<Avx2>(rounds)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn chains_avx512(rounds: usize) -> [f32; CHAINS] {
        chains::<Avx512>(rounds)
    }
}
