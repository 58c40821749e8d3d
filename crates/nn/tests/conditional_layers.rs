//! `Embedding` (plain and spectrally normalized) and `ConditionalBatchNorm`: forward values
//! worked out by hand or by loops over plain `f64` arrays, names, and first and second
//! derivatives in f64 against finite differences (in the table, the input, and every
//! parameter through a backward pass, as a gradient penalty differentiates them).

#[allow(dead_code)] // the shared helpers; this file uses some of them
mod common;

use common::{check_param_gradients, fixed, uniform, weighted};
use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tape, Tolerance, Var};
use gantry_nn::{label_tensor, ConditionalBatchNorm, Embedding, Module, SpectralNorm, WeightLayer};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn names(items: Vec<gantry_nn::Named<f64>>) -> Vec<String> {
    items.into_iter().map(|(n, _)| n).collect()
}

/// Labels with a repeat and, for 3 classes, a class that does not occur (class 1 of 3 in
/// `[2, 0, 2, 0]`), so gradients accumulate and some rows get none.
const LABELS: [u32; 4] = [2, 0, 2, 0];

// ---- Embedding ------------------------------------------------------------------------

#[test]
fn embedding_looks_up_rows_by_hand() {
    let e = Embedding::<f64>::from_table(Tensor::from_vec(
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        &[3, 2],
    ));
    let tape = Tape::new();
    let by_module = e.forward(&tape, tape.constant(label_tensor(&[2, 0, 2])));
    assert_eq!(by_module.shape(), vec![3, 2]);
    assert_eq!(
        by_module.value().to_vec(),
        vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]
    );
    let by_lookup = e.lookup(&tape, &[1]);
    assert_eq!(by_lookup.value().to_vec(), vec![3.0, 4.0]);
    assert_eq!(names(e.params()), ["weight"]);
    // PyTorch's init: N(0, 1), so not all zero and of the right shape.
    let drawn = Embedding::<f64>::new(10, 4, &mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!(drawn.weight.shape(), vec![10, 4]);
    assert!(drawn.weight.value().to_vec().iter().any(|&v| v.abs() > 0.5));
}

#[test]
#[should_panic(expected = "index 3")]
fn embedding_names_a_label_out_of_range() {
    let e = Embedding::<f64>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(1));
    let tape = Tape::new();
    e.lookup(&tape, &[0, 3]);
}

#[test]
#[should_panic(expected = "class indices")]
fn embedding_refuses_an_input_that_is_not_labels() {
    let e = Embedding::<f64>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(1));
    let tape = Tape::new();
    e.forward(&tape, tape.constant(Tensor::from_vec(vec![0.5], &[1])));
}

#[test]
fn embedding_gradients_in_the_table() {
    let e = Embedding::<f64>::new(3, 4, &mut ChaCha8Rng::seed_from_u64(2));
    let labels = label_tensor::<f64>(&LABELS);
    let f = higher_ranked(|xs| {
        let tape = xs[0].tape();
        // Squared, so the second derivative is not zero.
        e.forward_with_weight(tape, tape.constant(labels.clone()), xs[0])
            .square()
    });
    let table = [e.weight.value()];
    gradcheck(f, &table, Tolerance::default()).unwrap();
    gradgradcheck(f, &table, Tolerance::default()).unwrap();
    // Through the Param, as training reaches it.
    check_param_gradients("Embedding", &e.params(), |tape| {
        weighted(e.lookup(tape, &LABELS).tanh())
    });
}

#[test]
fn spectrally_normalized_embedding_divides_by_sigma() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let sn = SpectralNorm::new(Embedding::<f64>::new(3, 4, &mut rng), &mut rng);
    assert_eq!(
        names(sn.params()),
        ["parametrizations.weight.original"],
        "PyTorch's spectral_norm(nn.Embedding) names"
    );
    assert_eq!(
        names(sn.buffers()),
        [
            "parametrizations.weight.0._u",
            "parametrizations.weight.0._v"
        ]
    );
    // Evaluation mode (no power iteration): rows of W/σ with σ = uᵀWv.
    sn.set_training(false);
    let tape = Tape::new();
    let y = sn.forward(&tape, tape.constant(label_tensor(&[1, 2])));
    let w = sn.layer.weight.value().to_vec();
    let (u, v) = (sn.u.value().to_vec(), sn.v.value().to_vec());
    let sigma: f64 = (0..3)
        .flat_map(|r| (0..4).map(move |c| (r, c)))
        .map(|(r, c)| u[r] * w[r * 4 + c] * v[c])
        .sum();
    let want: Vec<f64> = [1, 2]
        .iter()
        .flat_map(|&r| (0..4).map(move |c| r * 4 + c))
        .map(|i| w[i] / sigma)
        .collect();
    assert_close(&y.value().to_vec(), &want, 1e-12, "SN embedding");
    // First and second derivatives in W, σ's dependence on W included.
    let labels = label_tensor::<f64>(&LABELS);
    let f = higher_ranked(|xs| {
        let tape = xs[0].tape();
        let w = sn.divide_by_sigma(xs[0]);
        sn.layer
            .forward_with_weight(tape, tape.constant(labels.clone()), w)
            .square()
    });
    let table = [sn.layer.weight.value()];
    gradcheck(f, &table, Tolerance::default()).unwrap();
    gradgradcheck(f, &table, Tolerance::default()).unwrap();
}

// ---- Conditional batch norm -------------------------------------------------------------

/// Per-channel mean and biased variance of `[N, C, L]` data.
fn channel_stats(x: &[f64], n: usize, c: usize, l: usize) -> (Vec<f64>, Vec<f64>) {
    let count = (n * l) as f64;
    (0..c)
        .map(|ch| {
            let vals: Vec<f64> = (0..n)
                .flat_map(|i| (0..l).map(move |k| x[(i * c + ch) * l + k]))
                .collect();
            let mean = vals.iter().sum::<f64>() / count;
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
            (mean, var)
        })
        .unzip()
}

/// `γ[yₙ, c]·(x − μ[c])/√(σ²[c] + ε) + β[yₙ, c]`, by loops.
fn conditional_normalize(
    x: &[f64],
    (n, c, l): (usize, usize, usize),
    labels: &[u32],
    (gain, bias): (&[f64], &[f64]),
    (mean, var): (&[f64], &[f64]),
) -> Vec<f64> {
    let mut y = vec![0.0; n * c * l];
    for (i, &label) in labels.iter().enumerate().take(n) {
        let k = label as usize;
        for ch in 0..c {
            for p in 0..l {
                let at = (i * c + ch) * l + p;
                let xhat = (x[at] - mean[ch]) / (var[ch] + 1e-5).sqrt();
                y[at] = gain[k * c + ch] * xhat + bias[k * c + ch];
            }
        }
    }
    y
}

/// A conditional batch norm with non-trivial per-class gains and biases.
fn trained(
    cbn: ConditionalBatchNorm<f64>,
    classes: usize,
    c: usize,
    seed: u64,
) -> ConditionalBatchNorm<f64> {
    cbn.gain.weight.set(fixed(&[classes, c], seed));
    cbn.bias
        .weight
        .set(fixed(&[classes, c], seed + 1).map(|v| 0.5 * v));
    cbn
}

#[test]
fn conditional_batch_norm_by_hand() {
    // One channel, two classes, x = [1, 3]: μ = 2, σ² = 1, x̂ = ∓1/√(1 + 1e-5).
    // Class 0: γ = 2, β = 0.5; class 1: γ = -1, β = 3. Labels [1, 0]:
    // y = [-1·(-s) + 3, 2·s + 0.5].
    let cbn = ConditionalBatchNorm::<f64>::new_1d(1, 2);
    cbn.gain
        .weight
        .set(Tensor::from_vec(vec![2.0, -1.0], &[2, 1]));
    cbn.bias
        .weight
        .set(Tensor::from_vec(vec![0.5, 3.0], &[2, 1]));
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
    let y = cbn.forward_with_labels(&tape, x, Some(&[1, 0]));
    let s = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert_close(
        &y.value().to_vec(),
        &[s + 3.0, 2.0 * s + 0.5],
        1e-15,
        "cBN by hand",
    );
    // The running statistics move as BatchNorm's: 0.2 and 1.1 (see batch_norm_by_hand).
    assert_close(
        &cbn.bn.running_mean.value().to_vec(),
        &[0.2],
        1e-15,
        "running mean",
    );
    assert_close(
        &cbn.bn.running_var.value().to_vec(),
        &[1.1],
        1e-15,
        "running var",
    );
}

#[test]
fn conditional_batch_norm_starts_as_plain_batch_norm_and_is_named() {
    let cbn = ConditionalBatchNorm::<f64>::new_2d(2, 3);
    assert_eq!(cbn.gain.weight.value().to_vec(), vec![1.0; 6]);
    assert_eq!(cbn.bias.weight.value().to_vec(), vec![0.0; 6]);
    assert_eq!(names(cbn.params()), ["gain.weight", "bias.weight"]);
    assert_eq!(
        names(cbn.buffers()),
        [
            "bn.running_mean",
            "bn.running_var",
            "bn.num_batches_tracked"
        ]
    );
}

#[test]
fn conditional_batch_norm_matches_loops_in_training_and_eval() {
    for (shape, seed) in [(vec![4, 3], 20), (vec![4, 2, 2, 3], 21)] {
        let (n, c) = (shape[0], shape[1]);
        let l: usize = shape[2..].iter().product();
        let cbn = if shape.len() == 2 {
            ConditionalBatchNorm::new_1d(c, 3)
        } else {
            ConditionalBatchNorm::new_2d(c, 3)
        };
        let cbn = trained(cbn, 3, c, seed);
        let (gain, bias) = (
            cbn.gain.weight.value().to_vec(),
            cbn.bias.weight.value().to_vec(),
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = uniform(&shape, &mut rng).map(|v| 2.0 * v + 0.3).to_vec();
        let tape = Tape::new();
        let y = cbn.forward_labelled(
            &tape,
            tape.constant(Tensor::from_vec(x.clone(), &shape)),
            &LABELS,
        );
        let stats = channel_stats(&x, n, c, l);
        let want =
            conditional_normalize(&x, (n, c, l), &LABELS, (&gain, &bias), (&stats.0, &stats.1));
        assert_close(&y.value().to_vec(), &want, 1e-12, "cBN training");

        cbn.set_training(false);
        let (rm, rv) = (
            cbn.bn.running_mean.value().to_vec(),
            cbn.bn.running_var.value().to_vec(),
        );
        let y = cbn.forward_labelled(
            &tape,
            tape.constant(Tensor::from_vec(x.clone(), &shape)),
            &LABELS,
        );
        let want = conditional_normalize(&x, (n, c, l), &LABELS, (&gain, &bias), (&rm, &rv));
        assert_close(&y.value().to_vec(), &want, 1e-12, "cBN eval");
    }
}

#[test]
#[should_panic(expected = "needs the samples' labels")]
fn conditional_batch_norm_without_labels_is_refused() {
    let cbn = ConditionalBatchNorm::<f64>::new_1d(2, 3);
    let tape = Tape::new();
    cbn.forward(&tape, tape.constant(Tensor::zeros(&[2, 2])));
}

/// `⟨∇ₓ⟨cbn(x, y), r⟩, v⟩`: a scalar whose gradient in γ, β needs the backward pass.
fn input_gradient_dot<'t>(
    tape: &'t Tape<f64>,
    cbn: &ConditionalBatchNorm<f64>,
    x: &Tensor<f64>,
) -> Var<'t, f64> {
    let x = tape.var(x.clone());
    let g = tape.grad(weighted(cbn.forward_labelled(tape, x, &LABELS)), &[x], true)[0];
    (g * tape.constant(fixed(x.value().shape(), 11))).sum()
}

#[test]
fn conditional_batch_norm_gradients() {
    for (shape, training) in [
        (vec![4, 3], true),
        (vec![4, 3], false),
        (vec![4, 2, 2, 2], true),
        (vec![4, 2, 2, 2], false),
    ] {
        let c = shape[1];
        let cbn = if shape.len() == 2 {
            ConditionalBatchNorm::new_1d(c, 3)
        } else {
            ConditionalBatchNorm::new_2d(c, 3)
        };
        let cbn = trained(cbn, 3, c, 30);
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        // Move the running statistics off 0 and 1 first.
        let tape = Tape::new();
        cbn.forward_labelled(
            &tape,
            tape.constant(uniform(&shape, &mut rng).map(|v| v + 0.5)),
            &LABELS,
        );
        cbn.set_training(training);
        let what = format!("cBN {shape:?} training={training}");
        let x = uniform(&shape, &mut rng);
        let f = higher_ranked(|xs| cbn.forward_labelled(xs[0].tape(), xs[0], &LABELS));
        let tol = Tolerance::default();
        gradcheck(f, std::slice::from_ref(&x), tol).unwrap_or_else(|e| panic!("{what}: {e}"));
        gradgradcheck(f, std::slice::from_ref(&x), tol).unwrap_or_else(|e| panic!("{what}: {e}"));
        let params = cbn.params();
        check_param_gradients(&what, &params, |tape| {
            weighted(cbn.forward_labelled(tape, tape.constant(x.clone()), &LABELS))
        });
        check_param_gradients(&format!("{what} (second order)"), &params, |tape| {
            input_gradient_dot(tape, &cbn, &x)
        });
    }
}
