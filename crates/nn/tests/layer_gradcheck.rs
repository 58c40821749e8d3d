//! First and second derivatives through every layer, in f64 with PyTorch's gradcheck
//! tolerances: in the input and the weight with `gradcheck` / `gradgradcheck`, and in every
//! parameter (biases, γ, β too) against finite differences of the `Param`s themselves.

mod common;

use common::{check_module, uniform};
use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tolerance};
use gantry_nn::{
    BatchNorm, Conv2d, ConvTranspose2d, Flatten, LayerNorm, LeakyReLU, Linear, Module, ReLU,
    Reshape, Sequential, Sigmoid, Tanh, Upsample, WeightLayer,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `check_module`, plus `gradcheck` / `gradgradcheck` in `[x, W]` through
/// `forward_with_weight`, so the weight's second derivatives are checked too.
fn check_weight_layer<L: WeightLayer<f64> + Module<f64>>(what: &str, layer: &L, x: &Tensor<f64>) {
    check_module(what, layer, x);
    let f = higher_ranked(|xs| layer.forward_with_weight(xs[0].tape(), xs[0], xs[1]));
    let inputs = [x.clone(), layer.weight().value()];
    let tol = Tolerance::default();
    gradcheck(f, &inputs, tol).unwrap_or_else(|e| panic!("{what}: gradcheck in [x, W]: {e}"));
    gradgradcheck(f, &inputs, tol)
        .unwrap_or_else(|e| panic!("{what}: gradgradcheck in [x, W]: {e}"));
}

/// Values at least 0.2 away from 0, so a finite difference never straddles a kink.
fn away_from_zero(shape: &[usize], rng: &mut ChaCha8Rng) -> Tensor<f64> {
    uniform(shape, rng).map(|v| v + 0.2f64.copysign(v))
}

#[test]
fn linear() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let layer = Linear::<f64>::new(4, 3, &mut rng);
    check_weight_layer("Linear", &layer, &uniform(&[2, 4], &mut rng));
    let layer = Linear::<f64>::new(3, 2, &mut rng).without_bias();
    check_weight_layer("Linear without bias", &layer, &uniform(&[3, 3], &mut rng));
}

#[test]
fn conv2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let layer = Conv2d::<f64>::new(2, 3, 3, 2, 1, &mut rng);
    check_weight_layer("Conv2d s2 p1", &layer, &uniform(&[2, 2, 5, 5], &mut rng));
    let layer = Conv2d::<f64>::new(2, 2, 2, 1, 0, &mut rng);
    check_weight_layer("Conv2d s1 p0", &layer, &uniform(&[1, 2, 4, 3], &mut rng));
}

#[test]
fn conv_transpose2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut layer = ConvTranspose2d::<f64>::new(2, 3, 3, 2, 1, &mut rng);
    layer.output_padding = [1, 1];
    check_weight_layer(
        "ConvTranspose2d s2 p1 op1",
        &layer,
        &uniform(&[2, 2, 3, 3], &mut rng),
    );
    let layer = ConvTranspose2d::<f64>::new(3, 2, 4, 2, 1, &mut rng);
    check_weight_layer(
        "ConvTranspose2d s2 p1",
        &layer,
        &uniform(&[1, 3, 2, 2], &mut rng),
    );
}

/// A batch norm with non-trivial γ, β and running statistics (one training step taken).
fn trained_batch_norm(bn: BatchNorm<f64>, shape: &[usize], rng: &mut ChaCha8Rng) -> BatchNorm<f64> {
    let c = shape[1];
    bn.weight.set(uniform(&[c], rng).map(|v| v + 1.5));
    bn.bias.set(uniform(&[c], rng));
    let tape = gantry_autograd::Tape::new();
    bn.forward(
        &tape,
        tape.constant(uniform(shape, rng).map(|v| 2.0 * v + 0.3)),
    );
    bn
}

#[test]
fn batch_norm_1d() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let bn = trained_batch_norm(BatchNorm::new_1d(3), &[4, 3], &mut rng);
    let x = uniform(&[4, 3], &mut rng);
    check_module("BatchNorm1d (training)", &bn, &x);
    bn.set_training(false);
    check_module("BatchNorm1d (eval)", &bn, &x);
}

#[test]
fn batch_norm_2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let bn = trained_batch_norm(BatchNorm::new_2d(2), &[2, 2, 3, 3], &mut rng);
    let x = uniform(&[2, 2, 3, 3], &mut rng);
    check_module("BatchNorm2d (training)", &bn, &x);
    bn.set_training(false);
    check_module("BatchNorm2d (eval)", &bn, &x);
}

#[test]
fn layer_norm() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    for (shape, normalized) in [(vec![3, 4], vec![4]), (vec![2, 2, 3], vec![2, 3])] {
        let ln = LayerNorm::<f64>::new(&normalized);
        ln.weight
            .set(uniform(&normalized, &mut rng).map(|v| v + 1.5));
        ln.bias.set(uniform(&normalized, &mut rng));
        check_module(
            &format!("LayerNorm {normalized:?}"),
            &ln,
            &uniform(&shape, &mut rng),
        );
    }
}

#[test]
fn activations_and_shape_layers() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let x = away_from_zero(&[2, 3, 2, 2], &mut rng);
    check_module("LeakyReLU", &LeakyReLU(0.2), &x);
    check_module("ReLU", &ReLU, &x);
    check_module("Tanh", &Tanh, &x);
    check_module("Sigmoid", &Sigmoid, &x);
    check_module("Flatten", &Flatten, &x);
    check_module("Reshape", &Reshape(vec![4, 3]), &x);
    check_module("Upsample", &Upsample(2), &x);
}

#[test]
fn small_generator() {
    // z → Linear → [2, 2, 2] → ConvTranspose2d (×2) → BatchNorm2d → LeakyReLU → Conv2d → tanh.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let net = Sequential::<f64>::new()
        .add(Linear::new(3, 8, &mut rng))
        .add(Reshape(vec![2, 2, 2]))
        .add(ConvTranspose2d::new(2, 2, 4, 2, 1, &mut rng))
        .add(BatchNorm::new_2d(2))
        .add(LeakyReLU(0.2))
        .add(Conv2d::new(2, 1, 3, 1, 1, &mut rng))
        .add(Tanh);
    check_module("generator", &net, &uniform(&[2, 3], &mut rng));
}
