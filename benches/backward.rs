//! The tape's backward pass against a hand-written backward of the same network.
//!
//! Network: `x [256, 512] → ReLU(x·W1) → ReLU(·W2) → ·W3 → mean`, `W1, W2: [512, 512]`,
//! `W3: [512, 1]`, f32. The tape computes `∂loss/∂(W1, W2, W3)` with `grad_values`
//! (`create_graph = false`); the hand-written version spells the same chain rule out on raw
//! tensors with the same kernels:
//!
//! ```text
//! ḡ3 = 1/256 · 1            [256, 1]     W̄3 = h2ᵀ·ḡ3
//! ḡ2 = (ḡ3·W3ᵀ) ⊙ [a2 > 0]  [256, 512]   W̄2 = h1ᵀ·ḡ2
//! ḡ1 = (ḡ2·W2ᵀ) ⊙ [a1 > 0]  [256, 512]   W̄1 = xᵀ·ḡ1
//! ```
//!
//! The design target: the tape's backward costs at most 1.1× the hand-written one.
//!
//! Run: `cargo bench --bench backward` (groups `forward+backward` and `backward`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gantry_autograd::Tape;
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 256;
const WIDTH: usize = 512;

/// `x` and the three weights (scaled like He init, so activations stay O(1)).
fn network() -> [Tensor<f32>; 4] {
    let randn = |shape: &[usize], seed: u64, scale: f32| {
        Tensor::<f32>::randn(shape, &mut ChaCha8Rng::seed_from_u64(seed)).mul_scalar(scale)
    };
    let he = (2.0 / WIDTH as f32).sqrt();
    [
        randn(&[BATCH, WIDTH], 1, 1.0),
        randn(&[WIDTH, WIDTH], 2, he),
        randn(&[WIDTH, WIDTH], 3, he),
        randn(&[WIDTH, 1], 4, he),
    ]
}

/// What the hand-written backward needs from the forward pass.
struct Saved {
    a1: Tensor<f32>,
    h1: Tensor<f32>,
    a2: Tensor<f32>,
    h2: Tensor<f32>,
}

fn hand_forward(
    x: &Tensor<f32>,
    w1: &Tensor<f32>,
    w2: &Tensor<f32>,
    w3: &Tensor<f32>,
) -> (f32, Saved) {
    let a1 = x.matmul(w1);
    let h1 = a1.relu();
    let a2 = h1.matmul(w2);
    let h2 = a2.relu();
    let loss = h2.matmul(w3).mean().item();
    (loss, Saved { a1, h1, a2, h2 })
}

fn hand_backward(
    s: &Saved,
    x: &Tensor<f32>,
    w2: &Tensor<f32>,
    w3: &Tensor<f32>,
) -> [Tensor<f32>; 3] {
    let zero = Tensor::scalar(0.0);
    let g3 = Tensor::full(&[BATCH, 1], 1.0 / BATCH as f32);
    let gw3 = s.h2.t().matmul(&g3);
    let g2 = g3.matmul(&w3.t()).mul(&s.a2.gt(&zero));
    let gw2 = s.h1.t().matmul(&g2);
    let g1 = g2.matmul(&w2.t()).mul(&s.a1.gt(&zero));
    let gw1 = x.t().matmul(&g1);
    [gw1, gw2, gw3]
}

fn bench_backward(c: &mut Criterion) {
    let [x, w1, w2, w3] = network();

    // Both ways agree before anything is timed.
    let (_, saved) = hand_forward(&x, &w1, &w2, &w3);
    let by_hand = hand_backward(&saved, &x, &w2, &w3);
    {
        let tape = Tape::<f32>::new();
        let ws = [
            tape.var(w1.clone()),
            tape.var(w2.clone()),
            tape.var(w3.clone()),
        ];
        let loss = tape
            .constant(x.clone())
            .matmul(ws[0])
            .relu()
            .matmul(ws[1])
            .relu()
            .matmul(ws[2])
            .mean();
        for (t, h) in tape.grad_values(loss, &ws).iter().zip(&by_hand) {
            let diff = t.sub(h).abs().max_axes(&[0, 1], false).item();
            assert!(
                diff <= 1e-6,
                "tape and hand-written gradients differ by {diff}"
            );
        }
    }

    let mut group = c.benchmark_group("forward+backward");
    group.sample_size(30);
    group.bench_function("tape", |b| {
        b.iter(|| {
            let tape = Tape::<f32>::new();
            let ws = [
                tape.var(w1.clone()),
                tape.var(w2.clone()),
                tape.var(w3.clone()),
            ];
            let h = tape.constant(x.clone()).matmul(ws[0]).relu();
            let loss = h.matmul(ws[1]).relu().matmul(ws[2]).mean();
            black_box(tape.grad_values(loss, &ws))
        })
    });
    group.bench_function("hand-written", |b| {
        b.iter(|| {
            let (loss, saved) = hand_forward(&x, &w1, &w2, &w3);
            black_box(loss);
            black_box(hand_backward(&saved, &x, &w2, &w3))
        })
    });
    group.finish();

    // Backward alone: the forward pass runs once; `grad_values` leaves the tape exactly as
    // it found it, so it can be timed again and again on the same graph.
    let mut group = c.benchmark_group("backward");
    group.sample_size(30);
    {
        let tape = Tape::<f32>::new();
        let ws = [
            tape.var(w1.clone()),
            tape.var(w2.clone()),
            tape.var(w3.clone()),
        ];
        let h = tape.constant(x.clone()).matmul(ws[0]).relu();
        let loss = h.matmul(ws[1]).relu().matmul(ws[2]).mean();
        group.bench_function("tape", |b| {
            b.iter(|| black_box(tape.grad_values(loss, &ws)))
        });
    }
    group.bench_function("hand-written", |b| {
        b.iter(|| black_box(hand_backward(&saved, &x, &w2, &w3)))
    });
    group.finish();
}

criterion_group!(benches, bench_backward);
criterion_main!(benches);
