//! Spectral normalization's power iteration: one step by hand in PyTorch's order, eval mode
//! freezing `u` and `v`, convergence of `σ = uᵀWv` to the top singular value computed
//! independently (Jacobi eigenvalues of `WᵀW`), PyTorch's state-dict names, and the
//! Lipschitz bound of a network of spectrally normalized layers.

use gantry_autograd::Tape;
use gantry_nn::{
    Conv2d, ConvTranspose2d, LeakyReLU, Linear, Module, Param, Sequential, SpectralNorm,
    WeightLayer,
};
use gantry_tensor::linalg::symmetric_eigen;
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `G = MᵀM` of a row-major `rows×cols` matrix.
fn gram(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut g = vec![0.0; cols * cols];
    for i in 0..cols {
        for j in 0..cols {
            g[i * cols + j] = (0..rows).map(|r| m[r * cols + i] * m[r * cols + j]).sum();
        }
    }
    g
}

/// The top singular value of a row-major `rows×cols` matrix: `√λ_max(MᵀM)`.
fn top_singular_value(m: &[f64], rows: usize, cols: usize) -> f64 {
    symmetric_eigen(&gram(m, rows, cols), cols).largest().sqrt()
}

/// The same by many rounds of plain power iteration on `MᵀM` (a second, independent way).
fn top_singular_value_by_power_iteration(m: &[f64], rows: usize, cols: usize) -> f64 {
    let g = gram(m, rows, cols);
    let mut x = vec![1.0; cols];
    let mut lambda = 0.0;
    for _ in 0..20_000 {
        let y: Vec<f64> = (0..cols)
            .map(|i| (0..cols).map(|j| g[i * cols + j] * x[j]).sum())
            .collect();
        lambda = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        x = y.iter().map(|v| v / lambda).collect();
    }
    lambda.sqrt()
}

fn relative_error(estimate: f64, exact: f64) -> f64 {
    (estimate - exact).abs() / exact
}

/// Runs training-mode forwards; checks that σ never overshoots (`uᵀWv ≤ ‖W‖₂` for unit
/// vectors) and ends within 1e-4 of `exact`.
fn converge<L: WeightLayer<f64>>(sn: &SpectralNorm<L, f64>, x: &Tensor<f64>, exact: f64) {
    for _ in 0..200 {
        let tape = Tape::new();
        sn.forward(&tape, tape.constant(x.clone()));
        assert!(sn.sigma() <= exact * (1.0 + 1e-12), "σ estimate above ‖W‖₂");
    }
    let err = relative_error(sn.sigma(), exact);
    assert!(
        err < 1e-4,
        "σ = {} vs exact {exact}: relative error {err:e}",
        sn.sigma()
    );
}

#[test]
fn jacobi_agrees_with_long_power_iteration() {
    let mut rng = ChaCha8Rng::seed_from_u64(30);
    let m = Tensor::<f64>::randn(&[8, 5], &mut rng).to_vec();
    let (a, b) = (
        top_singular_value(&m, 8, 5),
        top_singular_value_by_power_iteration(&m, 8, 5),
    );
    assert!(relative_error(a, b) < 1e-10, "Jacobi {a} vs power {b}");
    // A diagonal case by hand: singular values 3, 2, 0.5.
    let d = [3.0, 0.0, 0.0, 0.0, -2.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0];
    assert!((top_singular_value(&d, 4, 3) - 3.0).abs() < 1e-14);
}

#[test]
fn one_training_step_by_hand_in_pytorchs_order() {
    // W = [[2, 0], [0, 1], [1, 1]], v = [1, 0], u = [0, 1, 0].
    // PyTorch's `_power_method`: u ← normalize(Wv) = [2, 0, 1]/√5,
    // then v ← normalize(Wᵀu) = normalize([5, 1]/√5) = [5, 1]/√26, and σ = uᵀWv = √(26/5).
    // (The other order, v first, would give v = [0, 1], u = [0, 1, 1]/√2 and σ = √2.)
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let layer = Linear {
        weight: Param::new(Tensor::from_vec(
            vec![2.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            &[3, 2],
        )),
        bias: Some(Param::new(Tensor::from_vec(vec![0.5, -0.5, 0.0], &[3]))),
    };
    let sn = SpectralNorm::new(layer, &mut rng);
    sn.u.set(Tensor::from_vec(vec![0.0, 1.0, 0.0], &[3]));
    sn.v.set(Tensor::from_vec(vec![1.0, 0.0], &[2]));
    let tape = Tape::new();
    let y = sn.forward(
        &tape,
        tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2])),
    );
    let (r5, r26) = (5f64.sqrt(), 26f64.sqrt());
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
    assert!(close(&sn.u.value().to_vec(), &[2.0 / r5, 0.0, 1.0 / r5]));
    assert!(close(&sn.v.value().to_vec(), &[5.0 / r26, 1.0 / r26]));
    let sigma = (26.0f64 / 5.0).sqrt();
    assert!((sn.sigma() - sigma).abs() < 1e-15);
    // x·Wᵀ = [2, 2, 3], divided by σ, plus b.
    let want = [2.0 / sigma + 0.5, 2.0 / sigma - 0.5, 3.0 / sigma];
    assert!(
        close(&y.value().to_vec(), &want),
        "{:?}",
        y.value().to_vec()
    );
}

#[test]
fn eval_mode_freezes_u_and_v() {
    let mut rng = ChaCha8Rng::seed_from_u64(32);
    let sn = SpectralNorm::new(Linear::<f64>::new(5, 8, &mut rng), &mut rng);
    let x = Tensor::randn(&[4, 5], &mut rng);
    sn.u.set(Tensor::randn(&[8], &mut rng)); // far from converged, so a step would move it
    sn.set_training(false);
    let (u, v) = (sn.u.value().to_vec(), sn.v.value().to_vec());
    let outputs: Vec<Vec<f64>> = (0..3)
        .map(|_| {
            let tape = Tape::new();
            sn.forward(&tape, tape.constant(x.clone())).value().to_vec()
        })
        .collect();
    assert_eq!(sn.u.value().to_vec(), u);
    assert_eq!(sn.v.value().to_vec(), v);
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    sn.set_training(true);
    let tape = Tape::new();
    sn.forward(&tape, tape.constant(x));
    assert_ne!(
        sn.u.value().to_vec(),
        u,
        "training mode runs the power iteration"
    );
}

#[test]
fn sigma_converges_for_a_linear_weight() {
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let sn = SpectralNorm::new(Linear::<f64>::new(5, 8, &mut rng).without_bias(), &mut rng);
    sn.layer.weight.set(Tensor::randn(&[8, 5], &mut rng));
    sn.u.set(Tensor::randn(&[8], &mut rng));
    let exact = top_singular_value(&sn.layer.weight.value().to_vec(), 8, 5);
    converge(&sn, &Tensor::randn(&[2, 5], &mut rng), exact);
}

#[test]
fn sigma_converges_for_a_conv2d_weight() {
    // Weight [6, 3, 3, 3] viewed as the 6×27 matrix of its rows.
    let mut rng = ChaCha8Rng::seed_from_u64(34);
    let sn = SpectralNorm::new(Conv2d::<f64>::new(3, 6, 3, 1, 1, &mut rng), &mut rng);
    let exact = top_singular_value(&sn.layer.weight.value().to_vec(), 6, 27);
    converge(&sn, &Tensor::randn(&[1, 3, 4, 4], &mut rng), exact);
}

#[test]
fn sigma_converges_for_a_conv_transpose2d_weight_along_axis_1() {
    // Weight [in 4, out 6, 3, 3]: PyTorch normalizes the 6×36 matrix M[o][i·9 + k] =
    // W[i][o][k] (output axis first), whose top singular value differs from the 4×54 view.
    let mut rng = ChaCha8Rng::seed_from_u64(35);
    let sn = SpectralNorm::new(
        ConvTranspose2d::<f64>::new(4, 6, 3, 2, 1, &mut rng),
        &mut rng,
    );
    let w = sn.layer.weight.value().to_vec();
    let mut m = vec![0.0; 6 * 36];
    for i in 0..4 {
        for o in 0..6 {
            for k in 0..9 {
                m[o * 36 + i * 9 + k] = w[(i * 6 + o) * 9 + k];
            }
        }
    }
    let exact = top_singular_value(&m, 6, 36);
    let axis0 = top_singular_value(&w, 4, 54);
    assert!(
        relative_error(axis0, exact) > 1e-2,
        "the two views must differ"
    );
    converge(&sn, &Tensor::randn(&[1, 4, 3, 3], &mut rng), exact);
}

#[test]
fn state_dict_names_are_pytorchs() {
    let mut rng = ChaCha8Rng::seed_from_u64(36);
    let net = Sequential::<f64>::new()
        .add(SpectralNorm::new(Linear::new(2, 3, &mut rng), &mut rng))
        .add(LeakyReLU(0.2));
    let names = |v: Vec<(String, Param<f64>)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(
        names(net.params()),
        ["0.parametrizations.weight.original", "0.bias"]
    );
    assert_eq!(
        names(net.buffers()),
        [
            "0.parametrizations.weight.0._u",
            "0.parametrizations.weight.0._v"
        ]
    );
}

#[test]
fn spectrally_normalized_mlp_is_1_lipschitz() {
    // 2 → 32 → 32 → 1 with LeakyReLU(0.2) (itself 1-Lipschitz) between SN-Linear layers.
    let mut rng = ChaCha8Rng::seed_from_u64(37);
    let mut sn_linear = |i, o| SpectralNorm::new(Linear::<f64>::new(i, o, &mut rng), &mut rng);
    let net = Sequential::<f64>::new()
        .add(sn_linear(2, 32))
        .add(LeakyReLU(0.2))
        .add(sn_linear(32, 32))
        .add(LeakyReLU(0.2))
        .add(sn_linear(32, 1));
    // 15 power iterations at construction, then one per training-mode forward.
    for _ in 0..100 {
        let tape = Tape::new();
        net.forward(&tape, tape.constant(Tensor::randn(&[16, 2], &mut rng)));
    }
    net.set_training(false);
    // Each layer's W/σ, with σ = uᵀWv from its state, has spectral norm 1 (to 1e-3): the
    // estimate has converged, from below, so the bound is not met by accident.
    let (params, buffers) = (net.params(), net.buffers());
    for layer in [0, 2, 4] {
        let find = |items: &[(String, Param<f64>)], suffix: &str| {
            let key = format!("{layer}.parametrizations.weight.{suffix}");
            items
                .iter()
                .find(|(n, _)| *n == key)
                .unwrap()
                .1
                .value()
                .to_vec()
        };
        let (w, u, v) = (
            find(&params, "original"),
            find(&buffers, "0._u"),
            find(&buffers, "0._v"),
        );
        let (rows, cols) = (u.len(), v.len());
        let sigma: f64 = (0..rows * cols)
            .map(|k| u[k / cols] * w[k] * v[k % cols])
            .sum();
        let normalized: Vec<f64> = w.iter().map(|x| x / sigma).collect();
        let norm = top_singular_value(&normalized, rows, cols);
        assert!((norm - 1.0).abs() < 1e-3, "layer {layer}: ‖W/σ‖₂ = {norm}");
    }
    let n = 1000;
    let (x, y) = (
        Tensor::randn(&[n, 2], &mut rng),
        Tensor::randn(&[n, 2], &mut rng),
    );
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
    for k in 0..n {
        let dx = ((x[2 * k] - y[2 * k]).powi(2) + (x[2 * k + 1] - y[2 * k + 1]).powi(2)).sqrt();
        let df = (fx[k] - fy[k]).abs();
        assert!(
            df <= (1.0 + 1e-3) * dx,
            "pair {k}: |f(x) − f(y)| = {df} > ‖x − y‖ = {dx}"
        );
    }
}
