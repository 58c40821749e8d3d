//! Whole training steps of the standard workloads (DESIGN.md, and dcgan-sn-hinge on the
//! real Fashion-MNIST), one criterion group each. `gantry bench` runs the same trainers
//! and prints the PyTorch script's JSON format.
//!
//! `data_batch` times the data path alone: one real batch as a step draws it (images gathered
//! from `u8` and converted to `f32`, or toy samples drawn); its share of a step is its time
//! over the step's.
//!
//! Throughput is each step's matrix-product FLOPs (`Throughput::Elements`, counted by
//! `matmul_flops` over one untimed step), so criterion's "Gelem/s" reads as achieved GFLOP/s.
//!
//! The benchmarks run as `gantry bench` and `gantry train` do: on one of rayon's workers (a
//! step called from the main thread hands each parallel kernel to workers that sleep
//! between kernels), with `keep_freed_memory` (otherwise freed tensors go back to the OS
//! and every step faults its memory in again).

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use gantry::gan::train::workloads::{trainer, NAMES};
use gantry::tensor::matmul_flops;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn train_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(2));
    for name in NAMES {
        let mut t = trainer(name).expect("a standard workload");
        let started = Instant::now();
        let before = matmul_flops();
        t.train_step(started).expect("finite");
        group.throughput(Throughput::Elements(matmul_flops() - before));
        group.bench_function(name, |b| b.iter(|| t.train_step(started).expect("finite")));
    }
    group.finish();
}

fn data_batches(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_batch");
    for name in NAMES {
        let t = trainer(name).expect("a standard workload");
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        group.bench_function(name, |b| {
            b.iter(|| t.data.batch(t.config.batch_size, &mut rng).expect("fits"))
        });
    }
    group.finish();
}

criterion_group!(benches, train_steps, data_batches);

/// `criterion_main!`, with the benchmarks run inside rayon's pool, and freed memory kept for
/// the next step as the CLI keeps it.
fn main() {
    gantry::tensor::alloc::keep_freed_memory();
    rayon::scope(|_| benches());
    Criterion::default().configure_from_args().final_summary();
}
