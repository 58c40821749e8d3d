//! Spectral normalization: power iteration finds the top singular value, and a network of
//! spectrally normalized layers is 1-Lipschitz.
//!
//! Spectral normalization (Miyato et al. 2018, "Spectral Normalization for Generative
//! Adversarial Networks") replaces each weight `W` of the critic by `W/σ(W)`, where
//! `σ(W) = max_{‖h‖=1} ‖Wh‖` is its largest singular value. Then every layer is
//! 1-Lipschitz, and so is the network if its activations are (LeakyReLU is):
//!
//! ```text
//! ‖f(x) − f(y)‖ ≤ Πₗ ‖Wₗ/σ(Wₗ)‖₂ · ‖x − y‖ = ‖x − y‖
//! ```
//!
//! Computing σ exactly (an SVD) at every step would be expensive, so the layer keeps unit
//! vectors `u`, `v` and advances one round of power iteration per training forward,
//! `u ← normalize(Wv)`, `v ← normalize(Wᵀu)`, estimating `σ ≈ uᵀWv`. Because `W` changes
//! slowly during training, one round per step keeps up.
//!
//! This program starts `u`, `v` at random, runs training-mode forwards and prints the
//! estimate against the exact value (from Jacobi eigenvalues of `WᵀW`), for a dense weight
//! and a convolution's. Then it measures `|f(x) − f(y)| / ‖x − y‖` over random pairs for an
//! SN network and for the same network without the normalization.
//!
//! Run: `cargo run --release --example spectral_norm`

use gantry::autograd::Tape;
use gantry::nn::{Conv2d, LeakyReLU, Linear, Module, Sequential, SpectralNorm, WeightLayer};
use gantry::tensor::linalg::symmetric_eigen;
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The top singular value of a row-major `rows×cols` matrix: `√λ_max(MᵀM)`.
fn top_singular_value(m: &[f64], rows: usize, cols: usize) -> f64 {
    let mut gram = vec![0.0; cols * cols];
    for i in 0..cols {
        for j in 0..cols {
            gram[i * cols + j] = (0..rows).map(|r| m[r * cols + i] * m[r * cols + j]).sum();
        }
    }
    symmetric_eigen(&gram, cols).largest().sqrt()
}

/// Restarts the power iteration from random unit vectors, then prints the estimate after
/// a growing number of training-mode forwards.
fn convergence_table<L: WeightLayer<f64>>(
    title: &str,
    sn: &SpectralNorm<L, f64>,
    x: &Tensor<f64>,
    exact: f64,
    rng: &mut ChaCha8Rng,
) {
    let unit = |n: usize, rng: &mut ChaCha8Rng| {
        let r = Tensor::<f64>::randn(&[n], rng);
        let norm = r.square().sum().item().sqrt();
        r.mul_scalar(1.0 / norm)
    };
    sn.u.set(unit(sn.u.shape()[0], rng));
    sn.v.set(unit(sn.v.shape()[0], rng));
    println!("{title}");
    println!(
        "{:>10} {:>14} {:>14} {:>12}",
        "forwards", "σ estimate", "exact σ", "rel. error"
    );
    let mut done = 0;
    for target in [0, 1, 2, 3, 5, 10, 20, 50, 100, 200] {
        while done < target {
            let tape = Tape::new();
            sn.forward(&tape, tape.constant(x.clone()));
            done += 1;
        }
        let estimate = sn.sigma();
        let err = (estimate - exact).abs() / exact;
        println!("{done:>10} {estimate:>14.10} {exact:>14.10} {err:>12.3e}");
    }
    println!();
}

/// The largest `|f(x) − f(y)| / ‖x − y‖` over `n` random pairs of 2-d points.
fn largest_ratio(net: &dyn Module<f64>, n: usize, rng: &mut ChaCha8Rng) -> f64 {
    let (x, y) = (Tensor::randn(&[n, 2], rng), Tensor::randn(&[n, 2], rng));
    let tape = Tape::new();
    let fx = net
        .forward(&tape, tape.constant(x.clone()))
        .value()
        .to_vec();
    let fy = net
        .forward(&tape, tape.constant(y.clone()))
        .value()
        .to_vec();
    let (x, y) = (x.to_vec(), y.to_vec());
    (0..n)
        .map(|k| {
            let dx = (x[2 * k] - y[2 * k]).hypot(x[2 * k + 1] - y[2 * k + 1]);
            (fx[k] - fy[k]).abs() / dx
        })
        .fold(0.0, f64::max)
}

fn main() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);

    // 1. A dense 8×5 weight with N(0, 1) entries.
    let sn = SpectralNorm::new(Linear::<f64>::new(5, 8, &mut rng), &mut rng);
    sn.layer.weight.set(Tensor::randn(&[8, 5], &mut rng));
    let exact = top_singular_value(&sn.layer.weight.value().to_vec(), 8, 5);
    let x = Tensor::randn(&[4, 5], &mut rng);
    convergence_table("SN(Linear 5→8), W ~ N(0, 1):", &sn, &x, exact, &mut rng);

    // 2. A convolution's weight [16, 8, 3, 3], seen as the 16×72 matrix of its output rows.
    let sn = SpectralNorm::new(Conv2d::<f64>::new(8, 16, 3, 1, 1, &mut rng), &mut rng);
    let exact = top_singular_value(&sn.layer.weight.value().to_vec(), 16, 72);
    let x = Tensor::randn(&[1, 8, 4, 4], &mut rng);
    convergence_table(
        "SN(Conv2d 8→16, k3), weight as a 16×72 matrix:",
        &sn,
        &x,
        exact,
        &mut rng,
    );

    // 3. Lipschitz: 2 → 64 → 64 → 1 with LeakyReLU(0.2), with and without SN. The plain
    //    network shares the SN network's weights (a `Param` is a shared handle).
    let layers: Vec<SpectralNorm<Linear<f64>, f64>> = [(2, 64), (64, 64), (64, 1)]
        .iter()
        .map(|&(i, o)| {
            let layer = Linear::new(i, o, &mut rng);
            layer.weight.set(layer.weight.value().mul_scalar(3.0)); // make σ(W) far from 1
            SpectralNorm::new(layer, &mut rng)
        })
        .collect();
    let mut plain = Sequential::new();
    let mut normalized = Sequential::new();
    let mut sigmas = Vec::new();
    for (k, sn) in layers.into_iter().enumerate() {
        let w = sn.layer.weight.value();
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        sigmas.push(top_singular_value(&w.to_vec(), rows, cols));
        plain = plain.add(Linear {
            weight: sn.layer.weight.clone(),
            bias: sn.layer.bias.clone(),
        });
        normalized = normalized.add(sn);
        if k < 2 {
            plain = plain.add(LeakyReLU(0.2));
            normalized = normalized.add(LeakyReLU(0.2));
        }
    }
    for _ in 0..50 {
        let tape = Tape::new();
        normalized.forward(&tape, tape.constant(Tensor::randn(&[32, 2], &mut rng)));
    }
    normalized.set_training(false);
    let pairs = 10_000;
    println!("Lipschitz check of 2→64→64→1 (LeakyReLU 0.2) over {pairs} random pairs:");
    println!(
        "  σ(W) per layer: {:.4}, {:.4}, {:.4} (product {:.4}: the plain network's bound)",
        sigmas[0],
        sigmas[1],
        sigmas[2],
        sigmas.iter().product::<f64>()
    );
    let ratio = largest_ratio(&plain, pairs, &mut rng);
    println!("  without SN: max |f(x) − f(y)| / ‖x − y‖ = {ratio:.6}");
    let ratio = largest_ratio(&normalized, pairs, &mut rng);
    let verdict = if ratio <= 1.0 + 1e-3 {
        "≤ 1: 1-Lipschitz"
    } else {
        "> 1: NOT 1-Lipschitz"
    };
    println!("  with SN:    max |f(x) − f(y)| / ‖x − y‖ = {ratio:.6} ({verdict})");
    println!("  (Π‖Wₗ/σₗ‖₂ = 1 bounds the ratio; random pairs rarely come near the bound.)");
}
