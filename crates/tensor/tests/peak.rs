//! The FMA peak measurement: its chains do exactly the work it counts.

use gantry_tensor::gemm::peak::{chains, fma_gflops, start, CHAINS};
use gantry_tensor::simd::{self, Path};

/// Each vector chain ends where the same number of scalar fused multiply-adds, written out
/// here, ends: so a timed round is `CHAINS` vector FMAs, none skipped or merged.
#[test]
fn every_path_runs_its_chains_round_by_round() {
    let rounds = 1000;
    let expected: [f32; CHAINS] = std::array::from_fn(|i| {
        let mut a = i as f32 / CHAINS as f32;
        for _ in 0..rounds {
            a = a.mul_add(0.999, 0.001);
        }
        a
    });
    assert_eq!(start(5), 5.0 / 12.0);
    for path in simd::supported() {
        match chains(path, rounds) {
            Some(values) => assert_eq!(values, expected, "{path:?}"),
            None => assert_eq!(path, Path::Scalar),
        }
    }
}

/// A rate on each vector path the CPU has, none on the scalar path.
#[test]
fn the_peak_is_measured_on_vector_paths_only() {
    assert_eq!(fma_gflops(Path::Scalar), None);
    for path in simd::supported().into_iter().filter(|&p| p != Path::Scalar) {
        let rate = fma_gflops(path).expect("a vector path has a peak");
        assert!(rate.is_finite() && rate > 0.0, "{path:?}: {rate}");
    }
}
