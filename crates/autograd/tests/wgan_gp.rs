//! WGAN-GP's gradient penalty (Gulrajani et al. 2017, eq. 3) differentiated with respect to
//! the critic's parameters: a gradient of a gradient, so double backward.
//!
//! `GP(θ) = mean_i (‖∇ₓ D_θ(x̂ᵢ)‖₂ − 1)²`, the norm over all of a sample's axes. Its
//! gradient in θ, taken by the tape (`create_graph = true` for `∇ₓD`, then an ordinary
//! backward to θ), must equal central finite differences of `GP` itself, for an MLP critic
//! and for a conv critic (whose backward-of-backward runs through unfold ↔ fold), each with
//! its layers as product, bias and LeakyReLU and as the one fused op a `Sequential` records
//! for them.

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{conv2d, conv2d_rectified, gradcheck, ConvOptions, Tape, Tolerance, Var};
use gantry_tensor::{Rectifier, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A critic: parameters and a batch in, one score per sample (`[N, 1]`) out.
type Critic = for<'t> fn(&[Var<'t, f64>], Var<'t, f64>) -> Var<'t, f64>;

/// 2 → 8 → 8 → 1, LeakyReLU(0.2). Parameters `[W1 [2,8], b1, W2 [8,8], b2, W3 [8,1], b3]`.
fn mlp_critic<'t>(p: &[Var<'t, f64>], x: Var<'t, f64>) -> Var<'t, f64> {
    let h = (x.matmul(p[0]) + p[1]).leaky_relu(0.2);
    let h = (h.matmul(p[2]) + p[3]).leaky_relu(0.2);
    h.matmul(p[4]) + p[5]
}

/// [`mlp_critic`] with each hidden layer one `matmul_bias_rectified`, whose VJP gates the
/// gradient on its output instead of its input.
fn mlp_critic_fused<'t>(p: &[Var<'t, f64>], x: Var<'t, f64>) -> Var<'t, f64> {
    let leaky = Rectifier::LeakyRelu(0.2);
    let h = x.matmul_bias_rectified(p[0], p[1], leaky);
    let h = h.matmul_bias_rectified(p[2], p[3], leaky);
    h.matmul(p[4]) + p[5]
}

/// conv 1 → 3, k3 s2 p1, LeakyReLU(0.2), flatten, linear → 1, on `[N, 1, 6, 6]`.
/// Parameters `[W [3,1,3,3], b [3], V [27,1], c [1]]`.
fn conv_critic<'t>(p: &[Var<'t, f64>], x: Var<'t, f64>) -> Var<'t, f64> {
    let h = conv2d(x, p[0], Some(p[1]), ConvOptions::new(2, 1)).leaky_relu(0.2);
    h.flatten().matmul(p[2]) + p[3]
}

/// [`conv_critic`] with the LeakyReLU in the convolution's bias pass.
fn conv_critic_fused<'t>(p: &[Var<'t, f64>], x: Var<'t, f64>) -> Var<'t, f64> {
    let leaky = Rectifier::LeakyRelu(0.2);
    let h = conv2d_rectified(x, p[0], p[1], ConvOptions::new(2, 1), leaky);
    h.flatten().matmul(p[2]) + p[3]
}

/// `mean_i (‖∇ₓ D(x̂)ᵢ‖ − 1)²`. `x̂` must be a gradient-wanting leaf of the critic's tape.
fn gradient_penalty<'t>(
    critic: Critic,
    params: &[Var<'t, f64>],
    x_hat: Var<'t, f64>,
) -> Var<'t, f64> {
    let tape = x_hat.tape();
    // Each score depends on its own sample only, so ∇ of the sum holds every ∇ₓD(x̂ᵢ).
    let scores = critic(params, x_hat).sum();
    let g = tape.grad(scores, &[x_hat], true)[0];
    let sample_axes: Vec<usize> = (1..g.shape().len()).collect();
    (g.norm_axes(&sample_axes, false, 1e-12) - 1.0)
        .square()
        .mean()
}

fn random(shape: &[usize], scale: f64, seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -scale, scale, &mut ChaCha8Rng::seed_from_u64(seed))
}

fn mlp_setup() -> (Vec<Tensor<f64>>, Tensor<f64>) {
    let shapes: [&[usize]; 6] = [&[2, 8], &[8], &[8, 8], &[8], &[8, 1], &[1]];
    let params = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| random(s, 0.8, 10 + i as u64))
        .collect();
    (params, random(&[4, 2], 1.5, 1))
}

fn conv_setup() -> (Vec<Tensor<f64>>, Tensor<f64>) {
    let shapes: [&[usize]; 4] = [&[3, 1, 3, 3], &[3], &[27, 1], &[1]];
    let params = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| random(s, 0.6, 20 + i as u64))
        .collect();
    (params, random(&[2, 1, 6, 6], 1.0, 2))
}

/// The penalty's value at `params` on a fresh tape.
fn penalty_value(critic: Critic, params: &[Tensor<f64>], x_hat: &Tensor<f64>) -> f64 {
    let tape = Tape::new();
    let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
    gradient_penalty(critic, &p, tape.var(x_hat.clone())).item()
}

/// Double backward against central differences, element by element, written out.
fn check_by_hand(name: &str, critic: Critic, params: &[Tensor<f64>], x_hat: &Tensor<f64>) {
    let tape = Tape::new();
    let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
    let gp = gradient_penalty(critic, &p, tape.var(x_hat.clone()));
    let analytic = tape.grad(gp, &p, false);

    let eps = 1e-6;
    let mut largest = 0.0f64;
    for (i, param) in params.iter().enumerate() {
        let ana = analytic[i].value().to_vec();
        assert_eq!(analytic[i].shape(), param.shape().to_vec());
        for (j, &a) in ana.iter().enumerate() {
            let at = |delta: f64| {
                let mut v = param.to_vec();
                v[j] += delta;
                let mut shifted = params.to_vec();
                shifted[i] = Tensor::from_vec(v, param.shape());
                penalty_value(critic, &shifted, x_hat)
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            assert!(
                (a - numeric).abs() <= 1e-6 + 1e-5 * numeric.abs(),
                "{name}: parameter {i} element {j}: double backward {a}, finite difference {numeric}"
            );
            largest = largest.max(a.abs());
        }
    }
    // The check means something only if the penalty actually depends on the parameters.
    assert!(largest > 1e-3, "{name}: all parameter gradients vanish");
}

#[test]
fn mlp_critic_penalty_gradient_matches_finite_differences() {
    let (params, x_hat) = mlp_setup();
    check_by_hand("mlp critic", mlp_critic, &params, &x_hat);
}

#[test]
fn fused_mlp_critic_penalty_gradient_matches_finite_differences() {
    let (params, x_hat) = mlp_setup();
    check_by_hand("fused mlp critic", mlp_critic_fused, &params, &x_hat);
}

/// The fused layers change where the rectifier runs, not what is computed: the penalty and
/// its parameter gradients have the same bits as with the product, bias and LeakyReLU
/// recorded as three ops.
#[test]
fn fused_and_unfused_critics_give_the_same_bits() {
    for (name, fused, unfused, (params, x_hat)) in [
        (
            "mlp",
            mlp_critic_fused as Critic,
            mlp_critic as Critic,
            mlp_setup(),
        ),
        ("conv", conv_critic_fused, conv_critic, conv_setup()),
    ] {
        same_bits(name, fused, unfused, &params, &x_hat);
    }
}

/// The penalty and its parameter gradients of two critics, bit for bit.
fn same_bits(
    name: &str,
    fused: Critic,
    unfused: Critic,
    params: &[Tensor<f64>],
    x_hat: &Tensor<f64>,
) {
    let run = |critic: Critic| {
        let tape = Tape::new();
        let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
        let gp = gradient_penalty(critic, &p, tape.var(x_hat.clone()));
        let mut out = vec![gp.item()];
        for g in tape.grad_values(gp, &p) {
            out.extend(g.to_vec());
        }
        out
    };
    let (fused, unfused) = (run(fused), run(unfused));
    assert_eq!(fused.len(), unfused.len());
    for (i, (f, u)) in fused.iter().zip(&unfused).enumerate() {
        assert_eq!(
            f.to_bits(),
            u.to_bits(),
            "{name}: value {i}: fused {f}, unfused {u}"
        );
    }
}

#[test]
fn conv_critic_penalty_gradient_matches_finite_differences() {
    let (params, x_hat) = conv_setup();
    check_by_hand("conv critic", conv_critic, &params, &x_hat);
}

#[test]
fn fused_conv_critic_penalty_gradient_matches_finite_differences() {
    let (params, x_hat) = conv_setup();
    check_by_hand("fused conv critic", conv_critic_fused, &params, &x_hat);
}

#[test]
fn penalty_gradcheck_with_parameters_as_inputs() {
    for (name, critic, (params, x_hat)) in [
        ("mlp critic", mlp_critic as Critic, mlp_setup()),
        ("fused mlp critic", mlp_critic_fused as Critic, mlp_setup()),
        ("conv critic", conv_critic as Critic, conv_setup()),
        (
            "fused conv critic",
            conv_critic_fused as Critic,
            conv_setup(),
        ),
    ] {
        let f = higher_ranked(|p| gradient_penalty(critic, p, p[0].tape().var(x_hat.clone())));
        if let Err(e) = gradcheck(f, &params, Tolerance::default()) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn penalty_is_zero_for_a_unit_slope_linear_critic() {
    // D(x) = x·w with ‖w‖ = 1 has ‖∇ₓD‖ = 1 everywhere: no penalty and no gradient.
    let tape = Tape::<f64>::new();
    let w = tape.var(Tensor::from_vec(vec![0.6, 0.8], &[2, 1]));
    let x_hat = tape.var(random(&[5, 2], 1.0, 3));
    let linear: Critic = |p, x| x.matmul(p[0]);
    let gp = gradient_penalty(linear, &[w], x_hat);
    assert!(gp.item().abs() < 1e-12, "penalty {}", gp.item());
    let g = tape.grad_values(gp, &[w]).remove(0);
    assert!(g.to_vec().iter().all(|v| v.abs() < 1e-9), "gradient {g:?}");
}
