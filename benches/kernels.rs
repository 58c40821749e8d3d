//! Kernel benchmarks: matmul (against raw `matrixmultiply::sgemm` on the same shapes, and a
//! linear layer's product and bias, separate and fused), our GEMM on each SIMD path the CPU
//! supports (`gantry-avx512`, `gantry-avx2`) against `matrixmultiply::sgemm` call for call,
//! unfold/fold at DCGAN sizes, and elementwise maps.
//!
//! Run: `cargo bench --bench kernels` (or `-- matmul`, `-- gemm`, `-- unfold`,
//! `-- elementwise`).
//!
//! Throughput units: matmul and gemm report `Throughput::Elements(2·b·m·k·n)`, the FLOP count, so
//! criterion's "Gelem/s" reads as **GFLOP/s**. Unfold/fold and the elementwise ops report
//! bytes read plus bytes written, so "GiB/s" is memory traffic.

use std::time::Duration;

use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use gantry_tensor::simd::{self, Path};
use gantry_tensor::{gemm, ColumnLayout, Tensor, Window2d};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn randn(shape: &[usize], seed: u64) -> Tensor<f32> {
    Tensor::randn(shape, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// `C = A·B` on row-major buffers with `matrixmultiply::sgemm`, once per batch entry, with
/// `a` shared by the batch when it holds one matrix: the floor Tensor::matmul is held to.
fn raw_sgemm(batch: usize, m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    let a_step = if a.len() == m * k { 0 } else { m * k };
    let b_step = if b.len() == k * n { 0 } else { k * n };
    for i in 0..batch {
        // SAFETY: each slice holds `batch` (or one) row-major matrices of the stated sizes.
        unsafe {
            matrixmultiply::sgemm(
                /* m: */ m,
                /* k: */ k,
                /* n: */ n,
                /* alpha: */ 1.0,
                /* a: */ a[i * a_step..].as_ptr(),
                /* rsa: */ k as isize,
                /* csa: */ 1,
                /* b: */ b[i * b_step..].as_ptr(),
                /* rsb: */ n as isize,
                /* csb: */ 1,
                /* beta: */ 0.0,
                /* c: */ c[i * m * n..].as_mut_ptr(),
                /* rsc: */ n as isize,
                /* csc: */ 1,
            );
        }
    }
}

/// A matmul shape: `A: a_shape`, `B: b_shape`, with its label.
struct MatmulCase {
    label: &'static str,
    a: Vec<usize>,
    b: Vec<usize>,
}

fn matmul_cases() -> Vec<MatmulCase> {
    let case = |label, a: &[usize], b: &[usize]| MatmulCase {
        label,
        a: a.to_vec(),
        b: b.to_vec(),
    };
    vec![
        case("square 64", &[64, 64], &[64, 64]),
        case("square 128", &[128, 128], &[128, 128]),
        case("square 256", &[256, 256], &[256, 256]),
        case("square 512", &[512, 512], &[512, 512]),
        case("square 1024", &[1024, 1024], &[1024, 1024]),
        // toy-wgangp: the first layer (2 → 512) and a hidden layer (512 → 512), batch 256.
        case("toy 256x2 · 2x512", &[256, 2], &[2, 512]),
        case("toy 256x512 · 512x512", &[256, 512], &[512, 512]),
        // mlp-ns: the critic's first layer, 784 → 512, batch 64.
        case("mlp 64x784 · 784x512", &[64, 784], &[784, 512]),
        // dcgan: weight [O, C·k·k] times the unfolded columns [N, C·k·k, L] of each layer.
        // D conv1 (1 → 64, 28x28 → 14x14): many small products, rayon over the batch.
        case("dcgan D1 64x16 · 64x[16x196]", &[64, 16], &[64, 16, 196]),
        // D conv2 (64 → 128, 14x14 → 7x7).
        case(
            "dcgan D2 128x1024 · 64x[1024x49]",
            &[128, 1024],
            &[64, 1024, 49],
        ),
        // G convT1 (128 → 64, 7x7 → 14x14): Wᵀ [64·16, 128] times the input [N, 128, 49].
        case(
            "dcgan G1 1024x128 · 64x[128x49]",
            &[1024, 128],
            &[64, 128, 49],
        ),
    ]
}

fn bench_matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul");
    // Flat sampling: the large products take tens of milliseconds per call.
    group.sampling_mode(SamplingMode::Flat);
    for (s, case) in matmul_cases().into_iter().enumerate() {
        let (a, b) = (
            randn(&case.a, 2 * s as u64),
            randn(&case.b, 2 * s as u64 + 1),
        );
        let (m, k) = (case.a[case.a.len() - 2], case.a[case.a.len() - 1]);
        let n = case.b[case.b.len() - 1];
        let batch: usize = case.a[..case.a.len() - 2]
            .iter()
            .chain(&case.b[..case.b.len() - 2])
            .product();
        group.throughput(Throughput::Elements((2 * batch * m * k * n) as u64));
        group.bench_function(BenchmarkId::new("tensor", case.label), |bench| {
            bench.iter(|| black_box(a.matmul(&b)))
        });
        let (av, bv) = (a.to_vec(), b.to_vec());
        let mut cv = vec![0.0f32; batch * m * n];
        group.bench_function(BenchmarkId::new("sgemm", case.label), |bench| {
            bench.iter(|| {
                raw_sgemm(batch, m, k, n, &av, &bv, &mut cv);
                black_box(&cv);
            })
        });
    }
    // A toy-wgangp linear layer, `x·Wᵀ + b`: the product then the bias as a pass of its own,
    // and the bias added inside the product.
    let (x, w, b) = (
        randn(&[256, 512], 1),
        randn(&[512, 512], 2),
        randn(&[512], 3),
    );
    group.throughput(Throughput::Elements(2 * 256 * 512 * 512));
    group.bench_function("matmul then add/256x512 · (512x512)ᵀ + 512", |bench| {
        bench.iter(|| black_box(x.matmul(&w.t()).add(&b)))
    });
    group.bench_function("matmul_bias/256x512 · (512x512)ᵀ + 512", |bench| {
        bench.iter(|| black_box(x.matmul_bias(&w.t(), &b)))
    });
    group.finish();
}

/// A GEMM shape `m×k · k×n` of GAN training, with the operand layouts it occurs in.
struct GemmCase {
    label: &'static str,
    m: usize,
    k: usize,
    n: usize,
    /// A is read through a transposed view (row stride 1), as in a weight gradient `xᵀ·g`.
    a_transposed: bool,
    /// B is read through a transposed view, as in a forward pass `x·Wᵀ`.
    b_transposed: bool,
}

fn gemm_cases() -> Vec<GemmCase> {
    let case = |label, m, k, n, a_transposed, b_transposed| GemmCase {
        label,
        m,
        k,
        n,
        a_transposed,
        b_transposed,
    };
    vec![
        case("256x2 · 2x512", 256, 2, 512, false, false),
        case("256x512 · 512x512", 256, 512, 512, false, false),
        case("256x512 · (512x512)ᵀ", 256, 512, 512, false, true),
        case("256x512 · 512x1", 256, 512, 1, false, false),
        case("(256x512)ᵀ · 256x512", 512, 256, 512, true, false),
        case("64x100 · 100x6272", 64, 100, 6272, false, false),
        case("64x1024 · 1024x784", 64, 1024, 784, false, false),
        case("64x784 · 784x512", 64, 784, 512, false, false),
        case("128x1024 · 1024x3136", 128, 1024, 3136, false, false),
        case("128x3136 · (1024x3136)ᵀ", 128, 3136, 1024, false, true),
        case("1024x128 · 128x3136", 1024, 128, 3136, false, false),
        case("64x16 · 16x12544", 64, 16, 12544, false, false),
        case("(64x16)ᵀ · 64x12544", 16, 64, 12544, true, false),
        case("64x12544 · (16x12544)ᵀ", 64, 12544, 16, false, true),
        case("128x1024 · 1024x49", 128, 1024, 49, false, false),
        case("64x16 · 16x196", 64, 16, 196, false, false),
        case("1024x128 · 128x49", 1024, 128, 49, false, false),
    ]
}

/// `gantry_tensor::gemm::sgemm_on` on each supported SIMD path except `scalar` (which is
/// matrixmultiply), and `matrixmultiply::sgemm`, on the same buffers, benched one after the
/// other for each shape. (matrixmultiply takes its thread count from `MATMUL_NUM_THREADS`,
/// gantry from `RAYON_NUM_THREADS`: set both to compare on one thread.)
fn bench_gemm(c: &mut Criterion) {
    let mut kernels: Vec<(String, Option<Path>)> = simd::supported()
        .into_iter()
        .filter(|&p| p != Path::Scalar)
        .map(|p| (format!("gantry-{}", p.name()), Some(p)))
        .collect();
    kernels.push(("matrixmultiply".into(), None));
    let mut group = c.benchmark_group("gemm");
    group.sampling_mode(SamplingMode::Flat);
    for (s, case) in gemm_cases().into_iter().enumerate() {
        let (m, k, n) = (case.m, case.k, case.n);
        let a = randn(&[m * k], 2 * s as u64).to_vec();
        let b = randn(&[k * n], 2 * s as u64 + 1).to_vec();
        let (rsa, csa) = if case.a_transposed { (1, m) } else { (k, 1) };
        let (rsb, csb) = if case.b_transposed { (1, k) } else { (n, 1) };
        let mut out = vec![0.0f32; m * n];
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        for (name, path) in &kernels {
            let sgemm = |m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc| match path {
                // SAFETY: as for the call below; the path is supported.
                Some(path) => unsafe {
                    gemm::sgemm_on(
                        *path, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                    )
                },
                None => unsafe {
                    matrixmultiply::sgemm(
                        m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                    )
                },
            };
            group.bench_function(BenchmarkId::new(name, case.label), |bench| {
                bench.iter(|| {
                    // `a`, `b` and `out` hold m×k, k×n and m×n matrices with these strides.
                    {
                        sgemm(
                            /* m: */ m,
                            /* k: */ k,
                            /* n: */ n,
                            /* alpha: */ 1.0,
                            /* a: */ a.as_ptr(),
                            /* rsa: */ rsa as isize,
                            /* csa: */ csa as isize,
                            /* b: */ b.as_ptr(),
                            /* rsb: */ rsb as isize,
                            /* csb: */ csb as isize,
                            /* beta: */ 0.0,
                            /* c: */ out.as_mut_ptr(),
                            /* rsc: */ n as isize,
                            /* csc: */ 1,
                        );
                    }
                    black_box(&out);
                })
            });
        }
    }
    group.finish();
}

fn bench_unfold(c: &mut Criterion) {
    let mut group = c.benchmark_group("unfold");
    let win = Window2d::square(4, 2, 1);
    // The inputs of dcgan's two critic convolutions, batch 64.
    for (label, shape) in [
        ("64x1x28x28 k4s2p1", [64, 1, 28, 28]),
        ("64x64x14x14 k4s2p1", [64, 64, 14, 14]),
    ] {
        let x = randn(&shape, 1);
        let size = [shape[2], shape[3]];
        for (name, layout) in [
            ("per-image", ColumnLayout::PerImage),
            ("batched", ColumnLayout::Batched),
        ] {
            let cols = x.unfold_as(&win, layout);
            let bytes = 4 * (x.len() + cols.len()) as u64;
            group.throughput(Throughput::Bytes(bytes));
            group.bench_function(BenchmarkId::new(format!("unfold {name}"), label), |bench| {
                bench.iter(|| black_box(x.unfold_as(&win, layout)))
            });
            group.bench_function(BenchmarkId::new(format!("fold {name}"), label), |bench| {
                bench.iter(|| black_box(cols.fold_as(size, &win, layout)))
            });
        }
    }
    // dcgan's generator: its first transposed convolution, `fold(Wᵀ·X)` onto 64x64x14x14,
    // as a product then a fold, and fused (the columns never stored whole).
    let w_t = randn(&[128, 1024], 2).t();
    let x = randn(&[128, 64 * 49], 3);
    group.throughput(Throughput::Elements((2 * 1024 * 128 * 64 * 49) as u64));
    group.bench_function("matmul then fold/1024x128 · 128x3136", |bench| {
        bench.iter(|| {
            black_box(
                w_t.matmul(&x)
                    .fold_as([14, 14], &win, ColumnLayout::Batched),
            )
        })
    });
    group.bench_function("matmul_fold/1024x128 · 128x3136", |bench| {
        bench.iter(|| black_box(w_t.matmul_fold(&x, [14, 14], &win)))
    });
    group.finish();
}

fn bench_elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise");
    for n in [1_000, 10_000, 100_000, 1_000_000] {
        let (x, y) = (randn(&[n], 1), randn(&[n], 2));
        // Two inputs read and one output written.
        group.throughput(Throughput::Bytes(3 * 4 * n as u64));
        group.bench_function(BenchmarkId::new("add", n), |bench| {
            bench.iter(|| black_box(x.add(&y)))
        });
        group.bench_function(BenchmarkId::new("mul", n), |bench| {
            bench.iter(|| black_box(x.mul(&y)))
        });
        // One input read and one output written.
        group.throughput(Throughput::Bytes(2 * 4 * n as u64));
        group.bench_function(BenchmarkId::new("tanh", n), |bench| {
            bench.iter(|| black_box(x.tanh()))
        });
    }
    group.finish();
}

criterion_group! {
    name = kernels;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    targets = bench_matmul, bench_gemm, bench_unfold, bench_elementwise
}
criterion_main!(kernels);
