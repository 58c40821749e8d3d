//! AC-GAN's cross-entropy against a straightforward f64 implementation, by hand at logits
//! that would overflow a naive one, and its gradient against finite differences.

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tape, Tolerance};
use gantry_gan::losses::classification::cross_entropy;
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `(1/n) Σᵢ (log Σₖ exp ℓᵢₖ − ℓᵢ,yᵢ)`, written out (fine for moderate logits).
fn naive(logits: &[f64], k: usize, labels: &[u32]) -> f64 {
    let rows = logits.chunks(k);
    let total: f64 = rows
        .zip(labels)
        .map(|(row, &y)| row.iter().map(|v| v.exp()).sum::<f64>().ln() - row[y as usize])
        .sum();
    total / labels.len() as f64
}

fn value(logits: Vec<f64>, k: usize, labels: &[u32]) -> f64 {
    let tape = Tape::<f64>::new();
    let n = labels.len();
    cross_entropy(tape.constant(Tensor::from_vec(logits, &[n, k])), labels).item()
}

#[test]
fn matches_the_naive_formula() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (n, k) in [(1, 2), (5, 3), (8, 10)] {
        let logits: Vec<f64> = (0..n * k).map(|_| rng.gen_range(-4.0..4.0)).collect();
        let labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..k as u32)).collect();
        let got = value(logits.clone(), k, &labels);
        let want = naive(&logits, k, &labels);
        assert!((got - want).abs() < 1e-12, "n={n} k={k}: {got} vs {want}");
    }
}

#[test]
fn by_hand_and_stable_at_huge_logits() {
    // Two equal logits: log 2 whichever the label.
    assert!((value(vec![0.3, 0.3], 2, &[1]) - 2f64.ln()).abs() < 1e-15);
    // [1000, 0]: label 0 costs log(1 + e⁻¹⁰⁰⁰) ≈ 0, label 1 costs 1000 (a naive
    // exp(1000) would be infinite).
    assert!(value(vec![1000.0, 0.0], 2, &[0]).abs() < 1e-300);
    assert!((value(vec![1000.0, 0.0], 2, &[1]) - 1000.0).abs() < 1e-9);
    assert!((value(vec![-1000.0, -1000.0, -1000.0], 3, &[2]) - 3f64.ln()).abs() < 1e-12);
    // f32 too.
    let tape = Tape::<f32>::new();
    let l = tape.constant(Tensor::from_vec(vec![80.0f32, -80.0], &[1, 2]));
    assert!((cross_entropy(l, &[1]).item() - 160.0).abs() < 1e-3);
}

#[test]
fn gradient_is_softmax_minus_one_hot_and_checks_twice() {
    let logits = vec![0.5, -1.0, 2.0, 0.0, 0.1, -0.3];
    let labels = [2u32, 0];
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(logits.clone(), &[2, 3]));
    let g = tape.grad_values(cross_entropy(x, &labels), &[x])[0].to_vec();
    for (i, row) in logits.chunks(3).enumerate() {
        let z: f64 = row.iter().map(|v| v.exp()).sum();
        for j in 0..3 {
            let onehot = if labels[i] as usize == j { 1.0 } else { 0.0 };
            let want = (row[j].exp() / z - onehot) / 2.0;
            assert!((g[i * 3 + j] - want).abs() < 1e-12, "[{i}, {j}]");
        }
    }
    let f = higher_ranked(|xs| cross_entropy(xs[0], &labels));
    let inputs = [Tensor::from_vec(logits, &[2, 3])];
    gradcheck(f, &inputs, Tolerance::default()).unwrap();
    gradgradcheck(f, &inputs, Tolerance::default()).unwrap();
}

#[test]
#[should_panic(expected = "label 3 is out of range for 3 classes")]
fn a_label_out_of_range_is_named() {
    value(vec![0.0; 6], 3, &[0, 3]);
}
