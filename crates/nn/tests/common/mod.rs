//! Gradient checks shared by the layer and spectral-norm tests.
//!
//! `gantry_autograd::gradcheck` differentiates with respect to its own input `Var`s, so it
//! checks a layer's input and (through `WeightLayer::forward_with_weight`) its weight.
//! Parameters reached only through `tape.param` (biases, γ and β) are checked here instead,
//! on the path training uses: `gradients(tape, s, params)` against central differences
//! taken by perturbing each `Param` in place. The same tolerances as PyTorch's gradcheck.

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tape, Tolerance, Var};
use gantry_nn::{gradients, Module, Named, Param};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A fixed tensor with values in ±[0.5, 1.5) for a given shape and seed.
pub fn fixed(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    let v = (0..n)
        .map(|_| {
            let m: f64 = rng.gen_range(0.5..1.5);
            if rng.gen() {
                m
            } else {
                -m
            }
        })
        .collect();
    Tensor::from_vec(v, shape)
}

/// `⟨y, r⟩` with a fixed `r`: any output reduced to a scalar.
pub fn weighted<'t>(y: Var<'t, f64>) -> Var<'t, f64> {
    (y * y.tape().constant(fixed(&y.shape(), 7))).sum()
}

/// `⟨∇ₓ⟨m(x), r⟩, v⟩` with a fixed `v`: a scalar whose gradient in the parameters needs the
/// backward pass of `m` to be differentiated (as a gradient penalty does).
pub fn input_gradient_dot<'t>(
    tape: &'t Tape<f64>,
    m: &dyn Module<f64>,
    x: &Tensor<f64>,
) -> Var<'t, f64> {
    let x = tape.var(x.clone());
    let g = tape.grad(weighted(m.forward(tape, x)), &[x], true)[0];
    (g * tape.constant(fixed(x.value().shape(), 11))).sum()
}

/// Checks the gradient of the scalar `s` in every parameter of `params` against central
/// differences, element by element; panics naming the parameter and element.
pub fn check_param_gradients<F>(what: &str, params: &[Named<f64>], s: F)
where
    F: for<'t> Fn(&'t Tape<f64>) -> Var<'t, f64>,
{
    let tol = Tolerance::default();
    let analytic = {
        let tape = Tape::new();
        let out = s(&tape);
        let ps: Vec<Param<f64>> = params.iter().map(|(_, p)| p.clone()).collect();
        gradients(&tape, out, &ps)
    };
    for ((name, p), grad) in params.iter().zip(&analytic) {
        let base = p.value();
        let (values, grad) = (base.to_vec(), grad.to_vec());
        for j in 0..values.len() {
            let at = |delta: f64| {
                let mut v = values.clone();
                v[j] += delta;
                p.set(Tensor::from_vec(v, base.shape()));
                s(&Tape::new()).item()
            };
            let numeric = (at(tol.eps) - at(-tol.eps)) / (2.0 * tol.eps);
            p.set(base.clone());
            assert!(
                grad[j].is_finite()
                    && (grad[j] - numeric).abs() <= tol.atol + tol.rtol * numeric.abs(),
                "{what}: gradient in {name}[{j}]: analytic {:e}, numeric {numeric:e}",
                grad[j]
            );
        }
    }
}

/// First and second derivatives of a module, in its input (`gradcheck`, `gradgradcheck`)
/// and in all its parameters (first order, and through `⟨∇ₓ⟨m(x), r⟩, v⟩`).
pub fn check_module(what: &str, m: &dyn Module<f64>, x: &Tensor<f64>) {
    let tol = Tolerance::default();
    let f = higher_ranked(|xs| m.forward(xs[0].tape(), xs[0]));
    gradcheck(f, std::slice::from_ref(x), tol)
        .unwrap_or_else(|e| panic!("{what}: gradcheck in the input: {e}"));
    gradgradcheck(f, std::slice::from_ref(x), tol)
        .unwrap_or_else(|e| panic!("{what}: gradgradcheck in the input: {e}"));
    let params = m.params();
    check_param_gradients(what, &params, |tape| {
        weighted(m.forward(tape, tape.constant(x.clone())))
    });
    check_param_gradients(&format!("{what} (second order)"), &params, |tape| {
        input_gradient_dot(tape, m, x)
    });
}

/// Uniform values in [-1, 1) with a seeded generator, as a tensor.
pub fn uniform(shape: &[usize], rng: &mut ChaCha8Rng) -> Tensor<f64> {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| rng.gen_range(-1.0..1.0)).collect(), shape)
}
