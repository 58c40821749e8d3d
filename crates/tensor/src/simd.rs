//! Which vector instructions the kernels use: detected at run time, or forced with the
//! `GANTRY_SIMD` environment variable.
//!
//! The crates are compiled for baseline x86-64 (SSE2: 4 lanes of `f32`), so that a binary
//! runs on any x86-64 CPU. Hot code is compiled again for wider vectors and chosen at run
//! time ([`path`]):
//!
//! | path     | needs            | GEMM                                  | elementwise loops |
//! |----------|------------------|---------------------------------------|-------------------|
//! | `avx512` | AVX-512F         | gantry's 12×32 kernel and thin paths  | 16 lanes          |
//! | `avx2`   | AVX2 and FMA     | gantry's 6×16 kernel and thin paths   | 8 lanes           |
//! | `scalar` | nothing          | `matrixmultiply::sgemm`               | baseline (SSE2)   |
//!
//! On other architectures (aarch64: Apple silicon, Graviton) the path is always `scalar`:
//! the GEMM is then matrixmultiply's, with its own NEON kernel.
//!
//! `GANTRY_SIMD=avx512|avx2|scalar` forces a path (for example to measure the AVX2 path
//! on an AVX-512 machine); a path the CPU lacks, or an unknown name, is reported once on
//! standard error and the detected path is used instead.
//!
//! An elementwise loop compiled twice goes in an `#[inline(always)]` function, called both
//! directly and from a `#[target_feature]` wrapper (a closure passed to such a wrapper is
//! not inlined into it, so the loop must be a function). The operations are the same IEEE
//! operations in the same order (Rust never fuses `a·b + c` on its own), so every build gives
//! the same bits; only the width changes.

use std::sync::OnceLock;

/// A set of vector instructions the kernels can be run with, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Path {
    /// Baseline code only (SSE2 on x86-64); the GEMM is `matrixmultiply`'s.
    Scalar,
    /// AVX2 and FMA (Intel since Haswell, AMD since Zen).
    Avx2,
    /// AVX-512F (Intel Xeon since Skylake-SP, AMD since Zen 4).
    Avx512,
}

impl Path {
    /// Every path, narrowest first.
    pub const ALL: [Path; 3] = [Path::Scalar, Path::Avx2, Path::Avx512];

    /// The name `GANTRY_SIMD` takes and `gantry bench` prints.
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        }
    }

    /// The path named `name`, if any.
    pub fn from_name(name: &str) -> Option<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// The widest path this CPU supports.
pub fn detected() -> Path {
    Path::ALL
        .into_iter()
        .rev()
        .find(|p| p.is_supported())
        .unwrap_or(Path::Scalar)
}

/// The path `GANTRY_SIMD` asks for: `Ok(None)` when it is unset, an error naming the
/// variable when it names no path or one this CPU cannot run.
pub fn requested() -> Result<Option<Path>, String> {
    let Ok(name) = std::env::var("GANTRY_SIMD") else {
        return Ok(None);
    };
    let path = Path::from_name(&name).ok_or_else(|| {
        format!("GANTRY_SIMD={name}: unknown path (expected avx512, avx2 or scalar)")
    })?;
    if !path.is_supported() {
        return Err(format!(
            "GANTRY_SIMD={name}: this CPU does not support it (it supports up to {})",
            detected().name()
        ));
    }
    Ok(Some(path))
}

/// The path every kernel uses: `GANTRY_SIMD`'s when valid, else [`detected`]. Decided once
/// per process (one relaxed atomic load per call after that).
pub fn path() -> Path {
    static PATH: OnceLock<Path> = OnceLock::new();
    *PATH.get_or_init(|| match requested() {
        Ok(path) => path.unwrap_or_else(detected),
        Err(message) => {
            eprintln!("warning: {message}; using {}", detected().name());
            detected()
        }
    })
}

/// Every path this CPU supports, narrowest first (for tests that run each).
pub fn supported() -> Vec<Path> {
    Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
}

/// Whether the kernels run on the AVX-512 path: the check every AVX-512 loop of the
/// workspace asks.
#[inline]
pub fn has_avx512() -> bool {
    path() == Path::Avx512
}

/// Whether the kernels may use AVX2 and FMA (the AVX2 path, or the AVX-512 path for loops
/// that have no AVX-512 build).
#[inline]
pub fn has_avx2() -> bool {
    path() >= Path::Avx2
}
