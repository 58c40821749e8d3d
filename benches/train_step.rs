//! Whole training steps of the standard workloads (DESIGN.md, and dcgan-sn-hinge on the
//! real Fashion-MNIST), one criterion group each. `gantry bench` runs the same trainers
//! and prints the PyTorch script's JSON format.
//!
//! Throughput is each step's matrix-product FLOPs (`Throughput::Elements`, counted by
//! `matmul_flops` over one untimed step), so criterion's "Gelem/s" reads as achieved GFLOP/s.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gantry::gan::train::workloads::{trainer, NAMES};
use gantry::tensor::matmul_flops;

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

criterion_group!(benches, train_steps);
criterion_main!(benches);
