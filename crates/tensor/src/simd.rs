//! Which vector width the CPU has, for loops compiled twice.
//!
//! The crates are compiled for baseline x86-64 (SSE2: 4 lanes of `f32`), so that a binary
//! runs on any x86-64 CPU. A hot loop can be compiled a second time for AVX-512F (16
//! lanes) and chosen at run time: the loop goes in an `#[inline(always)]` function, called
//! both directly and from a `#[target_feature(enable = "avx512f")]` wrapper (a closure
//! passed to such a wrapper is not inlined into it, so the loop must be a function). The
//! operations are the same IEEE operations in the same order (Rust never fuses `a·b + c`
//! on its own), so both give the same bits; only the width changes.

/// Whether the CPU has AVX-512F: the one check every AVX-512 path of the workspace asks
/// (`is_x86_feature_detected!` caches the CPUID result in a static, so a call is one
/// relaxed atomic load).
#[inline]
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
