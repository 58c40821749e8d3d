//! `gantry bench`: the standard workloads, one JSON line each, in the format of
//! `benches/peers/torch_gan_steps.py` (its keys first), plus what the roofline needs.
//!
//! Extra keys: `simd` (the kernels' path, see `gantry_tensor::simd`: `avx512`, `avx2` or
//! `scalar`; `GANTRY_SIMD` forces one), `flop_per_iter` (the matrix products of one iteration, counted by
//! [`matmul_flops`]), `gflops` (achieved at the median time), `sgemm_gflops` (this
//! machine's GEMM on a square-ish product, on the `simd` path, measured once per run: the
//! roofline), `fma_gflops` (the CPU's arithmetic peak on that path and threads, measured once
//! per run by [`peak::fma_gflops`]; `null` on the scalar path),
//! `ms_first_tenth` / `ms_last_tenth` (median times of the first and last tenth of the
//! timed iterations: equal when time per iteration stays flat), `page_faults_per_iter`
//! (minor page faults per timed iteration: 0 once the allocator reuses the memory freed by
//! earlier steps, instead of giving it back to the OS and faulting it in again), and
//! `peak_rss_mb` (the process's peak resident memory so far; run one workload per process
//! to read it).
//!
//! `--workload` takes one name, a comma-separated list (run in that order, in one process)
//! or `all`.

use std::time::Instant;

use gantry::gan::train::workloads::{trainer, NAMES};
use gantry::tensor::gemm::peak;
use gantry::tensor::{matmul_flops, simd, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub fn bench(which: &str, iters: usize, warmup: usize) -> Result<(), String> {
    let names: Vec<&str> = if which == "all" {
        NAMES.to_vec()
    } else {
        which.split(',').collect()
    };
    if iters == 0 {
        return Err("--iters must be at least 1".into());
    }
    for name in &names {
        if !NAMES.contains(name) {
            return Err(format!(
                "unknown workload '{name}' (expected one of {}, a comma-separated list of them, or all)",
                NAMES.join(", ")
            ));
        }
    }
    simd::requested()?;
    let path = simd::path();
    let roofline = sgemm_gflops();
    let fma_peak = peak::fma_gflops(path).map_or("null".to_string(), |r| format!("{r:.1}"));
    let path = path.name();
    for name in names {
        let mut t = trainer(name).expect("checked above");
        let started = Instant::now();
        for _ in 0..warmup {
            t.train_step(started).map_err(|e| e.to_string())?;
        }
        let flops_before = matmul_flops();
        let faults_before = minor_page_faults();
        let ms: Vec<f64> = (0..iters)
            .map(|_| {
                let t0 = Instant::now();
                t.train_step(started)
                    .map(|_| t0.elapsed().as_secs_f64() * 1e3)
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let flop_per_iter = (matmul_flops() - flops_before) / iters as u64;
        let faults = faults_before
            .zip(minor_page_faults())
            .map_or("null".to_string(), |(before, after)| {
                ((after - before) / iters as u64).to_string()
            });
        let tenth = (iters / 10).max(1);
        let (median, first, last) = (
            median(&ms),
            median(&ms[..tenth]),
            median(&ms[iters - tenth..]),
        );
        let gflops = flop_per_iter as f64 / (median * 1e6);
        // The PyTorch script's keys and order first, so the two outputs line up.
        let threads = rayon::current_num_threads();
        let peer = concat!("gantry-", env!("CARGO_PKG_VERSION"));
        let rss = peak_rss_mb().map_or("null".to_string(), |mb| format!("{mb:.1}"));
        println!(
            r#"{{"peer": "{peer}", "threads": {threads}, "workload": "{name}", "simd": "{path}", "ms_per_iter": {median:.3}, "n": {iters}, "flop_per_iter": {flop_per_iter}, "gflops": {gflops:.1}, "sgemm_gflops": {roofline:.1}, "fma_gflops": {fma_peak}, "ms_first_tenth": {first:.3}, "ms_last_tenth": {last:.3}, "page_faults_per_iter": {faults}, "peak_rss_mb": {rss}}}"#
        );
    }
    Ok(())
}

/// The median of some times.
fn median(ms: &[f64]) -> f64 {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// GFLOP/s of `Tensor::matmul` on `[256, 512] · [512, 512]` (the toy workloads' hidden
/// layers), best of 30 after a warm-up: the rate no training step can beat.
fn sgemm_gflops() -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (a, b) = (
        Tensor::<f32>::randn(&[256, 512], &mut rng),
        Tensor::<f32>::randn(&[512, 512], &mut rng),
    );
    let best = (0..40)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(a.matmul(&b));
            t0.elapsed().as_secs_f64()
        })
        .skip(10)
        .fold(f64::INFINITY, f64::min);
    2.0 * 256.0 * 512.0 * 512.0 / best / 1e9
}

/// The process's minor page faults so far (field 10 of `/proc/self/stat`), on Linux.
fn minor_page_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// `VmHWM` of `/proc/self/status` in MB (Linux only).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
