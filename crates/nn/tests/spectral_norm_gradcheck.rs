//! Gradients through spectral normalization, `W/σ` with `σ = uᵀWv` a `Var`: first and
//! second derivatives for wrapped Linear, Conv2d and ConvTranspose2d layers, the weight
//! gradient against its closed form, and WGAN-GP's double backward through an SN critic.
//!
//! The layers are in eval mode during the checks, so `u` and `v` stay fixed and the
//! function being differentiated does not change between evaluations.

mod common;

use common::{check_module, check_param_gradients, uniform};
use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tape, Tolerance, Var};
use gantry_nn::{
    gradients, prefixed, Conv2d, ConvTranspose2d, Linear, Module, Named, SpectralNorm, WeightLayer,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Runs a few training-mode forwards (so `u`, `v` are some way into the power iteration,
/// not at their initial values) and switches to eval mode.
fn settle<L: WeightLayer<f64>>(sn: &SpectralNorm<L, f64>, x: &Tensor<f64>) {
    for _ in 0..3 {
        let tape = Tape::new();
        sn.forward(&tape, tape.constant(x.clone()));
    }
    sn.set_training(false);
}

/// The module checks, plus `gradcheck` / `gradgradcheck` in `[x, W]` through
/// `W ↦ layer(x; W/σ(W))`, which must be exactly what `forward` computes.
fn check_spectral_norm<L: WeightLayer<f64>>(
    what: &str,
    sn: &SpectralNorm<L, f64>,
    x: &Tensor<f64>,
) {
    settle(sn, x);
    let f = higher_ranked(|xs| {
        let w = sn.divide_by_sigma(xs[1]);
        sn.layer.forward_with_weight(xs[0].tape(), xs[0], w)
    });
    let inputs = [x.clone(), sn.layer.weight().value()];
    {
        let tape = Tape::new();
        let xs: Vec<Var<'_, f64>> = inputs.iter().map(|t| tape.constant(t.clone())).collect();
        let by_function = f(&xs).value().to_vec();
        let by_forward = sn.forward(&tape, xs[0]).value().to_vec();
        assert_eq!(
            by_function, by_forward,
            "{what}: divide_by_sigma is not forward's"
        );
    }
    let tol = Tolerance::default();
    gradcheck(f, &inputs, tol).unwrap_or_else(|e| panic!("{what}: gradcheck in [x, W]: {e}"));
    gradgradcheck(f, &inputs, tol)
        .unwrap_or_else(|e| panic!("{what}: gradgradcheck in [x, W]: {e}"));
    check_module(what, sn, x);
}

#[test]
fn spectral_norm_linear() {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let sn = SpectralNorm::new(Linear::<f64>::new(4, 3, &mut rng), &mut rng);
    check_spectral_norm("SN(Linear)", &sn, &uniform(&[2, 4], &mut rng));
}

#[test]
fn spectral_norm_conv2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let sn = SpectralNorm::new(Conv2d::<f64>::new(2, 3, 3, 2, 1, &mut rng), &mut rng);
    check_spectral_norm("SN(Conv2d)", &sn, &uniform(&[2, 2, 4, 4], &mut rng));
}

#[test]
fn spectral_norm_conv_transpose2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let mut layer = ConvTranspose2d::<f64>::new(3, 2, 3, 2, 1, &mut rng);
    layer.output_padding = [1, 1];
    let sn = SpectralNorm::new(layer, &mut rng);
    assert_eq!(
        sn.u.shape(),
        [2],
        "u indexes ConvTranspose2d's output axis (1)"
    );
    assert_eq!(sn.v.shape(), [27]);
    check_spectral_norm(
        "SN(ConvTranspose2d)",
        &sn,
        &uniform(&[2, 3, 2, 2], &mut rng),
    );
}

#[test]
fn weight_gradient_has_the_closed_form() {
    // L = ⟨x·Ŵᵀ + b, r⟩ with Ŵ = W/σ, σ = uᵀWv (u, v fixed): with G = ∂L/∂Ŵ = rᵀx,
    // ∂L/∂W = G/σ − (⟨G, W⟩/σ²)·u·vᵀ. The second term is σ's share of the gradient.
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let (n, inputs, outputs) = (3, 5, 4);
    let sn = SpectralNorm::new(Linear::<f64>::new(inputs, outputs, &mut rng), &mut rng);
    let (x, r) = (
        uniform(&[n, inputs], &mut rng),
        uniform(&[n, outputs], &mut rng),
    );
    settle(&sn, &x);
    let tape = Tape::new();
    let loss = (sn.forward(&tape, tape.constant(x.clone())) * tape.constant(r.clone())).sum();
    let got = gradients(&tape, loss, std::slice::from_ref(&sn.layer.weight))[0].to_vec();

    let (w, u, v) = (
        sn.layer.weight.value().to_vec(),
        sn.u.value().to_vec(),
        sn.v.value().to_vec(),
    );
    let (x, r) = (x.to_vec(), r.to_vec());
    let mut sigma = 0.0;
    for o in 0..outputs {
        for i in 0..inputs {
            sigma += u[o] * w[o * inputs + i] * v[i];
        }
    }
    let mut g = vec![0.0; outputs * inputs];
    for o in 0..outputs {
        for i in 0..inputs {
            g[o * inputs + i] = (0..n).map(|k| r[k * outputs + o] * x[k * inputs + i]).sum();
        }
    }
    let g_dot_w: f64 = g.iter().zip(&w).map(|(a, b)| a * b).sum();
    for o in 0..outputs {
        for i in 0..inputs {
            let want = g[o * inputs + i] / sigma - g_dot_w / (sigma * sigma) * u[o] * v[i];
            let have = got[o * inputs + i];
            assert!(
                (have - want).abs() <= 1e-12 * (1.0 + want.abs()),
                "∂L/∂W[{o}][{i}]: got {have}, want {want}"
            );
        }
    }
}

/// A small SN critic: SN-Conv2d(1→2, k3, s2, p1) → LeakyReLU(0.2) → flatten → SN-Linear(18→1).
struct Critic {
    conv: SpectralNorm<Conv2d<f64>, f64>,
    linear: SpectralNorm<Linear<f64>, f64>,
}

impl Critic {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let conv = SpectralNorm::new(Conv2d::new(1, 2, 3, 2, 1, rng), rng);
        let linear = SpectralNorm::new(Linear::new(18, 1, rng), rng);
        Critic { conv, linear }
    }

    /// The critic with its weights given as `Var`s.
    fn with_weights<'t>(
        &self,
        x: Var<'t, f64>,
        w1: Var<'t, f64>,
        w2: Var<'t, f64>,
    ) -> Var<'t, f64> {
        let tape = x.tape();
        let h = (self.conv.layer).forward_with_weight(tape, x, self.conv.divide_by_sigma(w1));
        let h = h.leaky_relu(0.2).flatten();
        (self.linear.layer).forward_with_weight(tape, h, self.linear.divide_by_sigma(w2))
    }
}

impl Module<f64> for Critic {
    fn forward<'t>(&self, tape: &'t Tape<f64>, x: Var<'t, f64>) -> Var<'t, f64> {
        let h = self.conv.forward(tape, x).leaky_relu(0.2).flatten();
        self.linear.forward(tape, h)
    }
    fn params(&self) -> Vec<Named<f64>> {
        let mut p = prefixed("0", self.conv.params());
        p.extend(prefixed("3", self.linear.params()));
        p
    }
    fn set_training(&self, training: bool) {
        self.conv.set_training(training);
        self.linear.set_training(training);
    }
}

/// WGAN-GP's penalty `mean_n (‖∇ₓD(x)ₙ‖ − 1)²` (Gulrajani et al. 2017), on the tape.
fn gradient_penalty<'t>(tape: &'t Tape<f64>, critic: &Critic, x: &Tensor<f64>) -> Var<'t, f64> {
    let x = tape.var(x.clone());
    let g = tape.grad(critic.forward(tape, x).sum(), &[x], true)[0];
    (g.norm_axes(&[1, 2, 3], false, 1e-12) - 1.0)
        .square()
        .mean()
}

#[test]
fn wgan_gp_through_a_spectral_norm_critic() {
    let mut rng = ChaCha8Rng::seed_from_u64(24);
    let critic = Critic::new(&mut rng);
    let x = uniform(&[2, 1, 6, 6], &mut rng);
    for _ in 0..3 {
        let tape = Tape::new();
        critic.forward(&tape, tape.constant(x.clone()));
    }
    critic.set_training(false);

    // Second derivatives in the input and both weights (σ's dependence on W included).
    let f = higher_ranked(|xs| critic.with_weights(xs[0], xs[1], xs[2]));
    let inputs = [
        x.clone(),
        critic.conv.layer.weight.value(),
        critic.linear.layer.weight.value(),
    ];
    {
        let tape = Tape::new();
        let xs: Vec<_> = inputs.iter().map(|t| tape.constant(t.clone())).collect();
        assert_eq!(
            f(&xs).value().to_vec(),
            critic.forward(&tape, xs[0]).value().to_vec()
        );
    }
    let tol = Tolerance::default();
    gradcheck(f, &inputs, tol).unwrap_or_else(|e| panic!("critic gradcheck: {e}"));
    gradgradcheck(f, &inputs, tol).unwrap_or_else(|e| panic!("critic gradgradcheck: {e}"));

    // The penalty itself, differentiated in every parameter (biases included) on the
    // training path: `gradients` of a loss that contains a backward pass.
    check_param_gradients("WGAN-GP penalty", &critic.params(), |tape| {
        gradient_penalty(tape, &critic, &x)
    });
    let tape = Tape::new();
    let gp = gradient_penalty(&tape, &critic, &x);
    assert!(gp.item().is_finite() && gp.item() > 0.0);
    let grad = gradients(&tape, gp, std::slice::from_ref(&critic.conv.layer.weight));
    assert!(grad[0].to_vec().iter().any(|g| g.abs() > 1e-6));
}
