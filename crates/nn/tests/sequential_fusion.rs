//! A `Sequential` runs a `Linear` (with a bias, plain or spectrally normalized) and the
//! `ReLU` or `LeakyReLU` after it as one op (`matmul_bias_rectified`), and a `Conv2d` with a
//! bias or a `BatchNorm` and the rectifier after it as one pass (`channel_affine_rectified`). The fusion must not
//! change anything a user can see: the output, the parameter gradients of a WGAN-GP-style
//! penalty (a double backward), the input gradient and the parameter names all have the
//! bits of the layers written out one op at a time; only the tape is shorter.

use gantry_autograd::{Tape, Var};
use gantry_nn::{
    gradients, BatchNorm, Conv2d, Flatten, LeakyReLU, Linear, Module, ParamTape, ReLU, Sequential,
    SpectralNorm,
};
use gantry_tensor::{Rectifier, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// 96 → 128 (ReLU) → 128 (LeakyReLU 0.2) → 1: products large enough for the packed GEMM,
/// whose epilogue applies the rectifier tile by tile.
fn critic(rng: &mut ChaCha8Rng) -> Sequential<f32> {
    Sequential::new()
        .add(Linear::new(96, 128, rng))
        .add(ReLU)
        .add(Linear::new(128, 128, rng))
        .add(LeakyReLU(0.2))
        .add(Linear::new(128, 1, rng))
}

/// A way to run the network on a tape: `Sequential::forward`, or [`by_hand`].
type Forward = for<'t> fn(&Sequential<f32>, &'t Tape<f32>, Var<'t, f32>) -> Var<'t, f32>;

/// The same network written out op by op from its parameters: `x·Wᵀ + b`, then the
/// activation as its own op.
fn by_hand<'t>(net: &Sequential<f32>, tape: &'t Tape<f32>, x: Var<'t, f32>) -> Var<'t, f32> {
    let p: Vec<Var<'t, f32>> = net.params().iter().map(|(_, p)| tape.param(p)).collect();
    let h = (x.matmul(p[0].t()) + p[1]).relu();
    let h = (h.matmul(p[2].t()) + p[3]).leaky_relu(0.2);
    h.matmul(p[4].t()) + p[5]
}

/// The output, then `mean((‖∇ₓ ΣD‖ − 1)²)`'s gradients in every parameter and in `x`, as
/// one list of values.
fn outputs_and_gradients(net: &Sequential<f32>, x: &Tensor<f32>, forward: Forward) -> Vec<f32> {
    let tape = Tape::new();
    let xv = tape.var(x.clone());
    let scores = forward(net, &tape, xv);
    let gx = tape.grad(scores.sum(), &[xv], true)[0];
    let penalty = (gx.norm_axes(&[1], false, 1e-12) - 1.0).square().mean();
    let params: Vec<_> = net.params().into_iter().map(|(_, p)| p).collect();
    let mut out = scores.value().to_vec();
    for g in gradients(&tape, penalty, &params) {
        out.extend(g.to_vec());
    }
    out.extend(tape.grad_values(penalty, &[xv])[0].to_vec());
    out
}

fn assert_same_bits(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
        panic!(
            "{what}: value {i} is {}, op by op gives {}",
            got[i], want[i]
        );
    }
}

#[test]
fn fused_layers_give_the_bits_of_the_layers_op_by_op() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let net = critic(&mut rng);
    let x = Tensor::<f32>::randn(&[64, 96], &mut rng);
    let fused = outputs_and_gradients(&net, &x, |n, t, x| n.forward(t, x));
    let unfused = outputs_and_gradients(&net, &x, by_hand);
    assert_same_bits(&fused, &unfused, "Linear + ReLU, Linear + LeakyReLU");
    // The penalty depends on every parameter, so the comparison covers real gradients.
    assert!(fused.iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn fusion_keeps_the_names_and_shortens_the_tape() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let net = critic(&mut rng);
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    let want = [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
    ];
    assert_eq!(names, want);
    let x = Tensor::<f32>::randn(&[8, 96], &mut rng);
    let nodes = |forward: Forward| {
        let tape = Tape::new();
        forward(&net, &tape, tape.var(x.clone()));
        tape.len()
    };
    // By hand: a product and an addition per layer and two activations; fused, the first
    // two layers are one node each (the transposed weight views are on both tapes).
    let (fused, unfused) = (nodes(|n, t, x| n.forward(t, x)), nodes(by_hand));
    assert_eq!(
        unfused - fused,
        5,
        "fused {fused} nodes, op by op {unfused}"
    );
}

#[test]
fn a_negative_slope_is_not_fused() {
    // LeakyReLU(−0.5) flips signs, so the fused op's gradient gate, which reads the output,
    // would be wrong: the layers run op by op and compute what they say.
    assert_eq!(Module::<f32>::rectifier(&LeakyReLU(-0.5)), None);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = Sequential::<f32>::new()
        .add(Linear::new(16, 32, &mut rng))
        .add(LeakyReLU(-0.5));
    let x = Tensor::<f32>::randn(&[4, 16], &mut rng);
    let tape = Tape::new();
    let xv = tape.var(x.clone());
    let y = net.forward(&tape, xv);
    let gx = tape.grad_values(y.sum(), &[xv]).remove(0);
    let p: Vec<Tensor<f32>> = net.params().iter().map(|(_, p)| p.value()).collect();
    let z = x.matmul(&p[0].t()).add(&p[1]);
    assert_same_bits(&y.value().to_vec(), &z.leaky_relu(-0.5).to_vec(), "output");
    // ∂ΣY/∂x = gate·W summed, the gate 1 where z > 0 and −0.5 elsewhere (never read off
    // the output, which is positive on both sides).
    let gate = z.map(|v| if v > 0.0 { 1.0 } else { -0.5 });
    let want = gate.matmul(&p[0]);
    let close = gx
        .to_vec()
        .iter()
        .zip(want.to_vec())
        .all(|(a, b)| (a - b).abs() < 1e-5);
    assert!(close, "input gradient {gx:?}, want {want:?}");
    assert!(
        z.to_vec().iter().any(|&v| v < 0.0),
        "the test needs negative inputs"
    );
}

#[test]
fn a_spectrally_normalized_linear_fuses_with_its_relu() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let sn = SpectralNorm::new(Linear::<f32>::new(32, 8, &mut rng), &mut rng);
    // In evaluation the power iteration does not advance, so both calls see one weight.
    sn.set_training(false);
    let x = Tensor::<f32>::randn(&[4, 32], &mut rng);
    let run = |fused: bool| {
        let tape = Tape::new();
        let xv = tape.var(x.clone());
        let y = if fused {
            sn.forward_rectified(&tape, xv, Rectifier::Relu)
                .expect("a Linear with a bias fuses")
        } else {
            sn.forward(&tape, xv).relu()
        };
        (
            y.value().to_vec(),
            tape.grad_values(y.square().sum(), &[xv])[0].to_vec(),
        )
    };
    let ((y, gx), (want_y, want_gx)) = (run(true), run(false));
    assert_same_bits(&y, &want_y, "SpectralNorm(Linear) + ReLU, output");
    assert_same_bits(&gx, &want_gx, "SpectralNorm(Linear) + ReLU, input gradient");
    assert!(
        y.contains(&0.0) && y.iter().any(|&v| v > 0.0),
        "the test needs both sides"
    );
}

/// A small DCGAN-style critic, `[N, 1, 16, 16]` → `[N, 1]`: conv, LeakyReLU, spectrally
/// normalized conv, batch norm, ReLU, flatten, linear. With `apart`, each conv and the batch
/// norm sits in a `Sequential` of its own, across whose end nothing fuses: the same layers
/// (the same seed) run op by op.
fn conv_net(apart: bool) -> Sequential<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let conv1 = Conv2d::new(1, 8, 4, 2, 1, &mut rng);
    let conv2 = SpectralNorm::new(Conv2d::new(8, 16, 4, 2, 1, &mut rng), &mut rng);
    let head = Linear::new(16 * 4 * 4, 1, &mut rng);
    let net = Sequential::new();
    let net = if apart {
        net.add(Sequential::new().add(conv1))
    } else {
        net.add(conv1)
    };
    let net = net.add(LeakyReLU(0.2));
    let net = if apart {
        net.add(Sequential::new().add(conv2))
            .add(Sequential::new().add(BatchNorm::new_2d(16)))
    } else {
        net.add(conv2).add(BatchNorm::new_2d(16))
    };
    net.add(ReLU).add(Flatten).add(head)
}

#[test]
fn convolutions_and_batch_norm_fuse_with_the_same_bits() {
    let x = Tensor::<f32>::randn(&[8, 1, 16, 16], &mut ChaCha8Rng::seed_from_u64(6));
    let run = |net: &Sequential<f32>| {
        let tape = Tape::new();
        let xv = tape.var(x.clone());
        let scores = net.forward(&tape, xv);
        let gx = tape.grad(scores.sum(), &[xv], true)[0];
        let penalty = (gx.norm_axes(&[1, 2, 3], false, 1e-12) - 1.0)
            .square()
            .mean();
        let params: Vec<_> = net.params().into_iter().map(|(_, p)| p).collect();
        let mut out = scores.value().to_vec();
        for g in gradients(&tape, penalty, &params) {
            out.extend(g.to_vec());
        }
        (out, tape.len())
    };
    let ((fused, fused_nodes), (apart, apart_nodes)) =
        (run(&conv_net(false)), run(&conv_net(true)));
    assert_same_bits(&fused, &apart, "conv + LeakyReLU, batch norm + ReLU");
    assert!(fused.iter().any(|v| v.abs() > 1e-3));
    assert!(
        fused_nodes < apart_nodes,
        "fused {fused_nodes} nodes, apart {apart_nodes}"
    );
}
