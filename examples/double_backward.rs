//! A WGAN-GP gradient penalty by hand, and why it needs double backward.
//!
//! WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3) keeps the
//! critic `D_θ` close to 1-Lipschitz by penalizing its input gradient on points `x̂`
//! interpolated between real and fake samples:
//!
//! ```text
//! GP(θ) = mean_i ( ‖∇ₓ D_θ(x̂ᵢ)‖₂ − 1 )²,    x̂ᵢ = εᵢ·realᵢ + (1 − εᵢ)·fakeᵢ,  εᵢ ~ U[0, 1]
//! ```
//!
//! The critic is trained by gradient descent on `GP`, so we need `∂GP/∂θ`. But `GP` is
//! built from `∇ₓD`, itself the result of a backward pass. Differentiating it again in θ
//! means differentiating *through the backward pass*: double backward. On a gantry tape
//! that is `tape.grad(.., create_graph = true)`: the backward pass is recorded like any
//! other computation, so a second `tape.grad` can run through it.
//!
//! This program computes `∂GP/∂θ` for a tiny critic that way, checks every entry against
//! central finite differences of `GP` itself, and shows what goes wrong without
//! `create_graph`.
//!
//! Run: `cargo run --release --example double_backward`

use gantry::autograd::{Tape, Var};
use gantry::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The critic: 2 → 4 → 4 → 1 with LeakyReLU(0.2), as in the WGAN-GP toy experiments
/// (only narrower, so that every gradient entry can be printed).
const PARAM_SHAPES: [(&str, &[usize]); 6] = [
    ("W1", &[2, 4]),
    ("b1", &[4]),
    ("W2", &[4, 4]),
    ("b2", &[4]),
    ("W3", &[4, 1]),
    ("b3", &[1]),
];

fn critic<'t>(p: &[Var<'t, f64>], x: Var<'t, f64>) -> Var<'t, f64> {
    let h = (x.matmul(p[0]) + p[1]).leaky_relu(0.2);
    let h = (h.matmul(p[2]) + p[3]).leaky_relu(0.2);
    h.matmul(p[4]) + p[5]
}

/// `GP` on the tape. With `create_graph = false` the input gradient comes back as a
/// constant: correct in value, but cut off from θ.
fn gradient_penalty<'t>(
    p: &[Var<'t, f64>],
    x_hat: Var<'t, f64>,
    create_graph: bool,
) -> Var<'t, f64> {
    let tape = x_hat.tape();
    // Each score depends only on its own sample, so the gradient of the *sum* of scores
    // holds every per-sample gradient ∇ₓD(x̂ᵢ) in its rows: one backward pass for the batch.
    let scores = critic(p, x_hat).sum();
    let grad_x = tape.grad(scores, &[x_hat], create_graph)[0]; // [N, 2]
                                                               // ‖·‖₂ over each sample's axes (a small ε keeps the norm differentiable at 0).
    let norms = grad_x.norm_axes(&[1], false, 1e-12);
    (norms - 1.0).square().mean()
}

/// `GP` as a plain number, on a fresh tape: what finite differences evaluate.
fn penalty_at(params: &[Tensor<f64>], x_hat: &Tensor<f64>) -> f64 {
    let tape = Tape::new();
    let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
    gradient_penalty(&p, tape.var(x_hat.clone()), true).item()
}

fn main() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let params: Vec<Tensor<f64>> = PARAM_SHAPES
        .iter()
        .map(|(_, shape)| Tensor::rand_uniform(shape, -0.9, 0.9, &mut rng))
        .collect();

    // A batch of interpolates between "real" points on the unit circle and "fake" noise.
    let n = 6;
    let angles = Tensor::rand_uniform(&[n, 1], 0.0, std::f64::consts::TAU, &mut rng);
    let real = Tensor::concat(&[angles.map(f64::cos), angles.map(f64::sin)], 1);
    let fake = Tensor::<f64>::randn(&[n, 2], &mut rng).mul_scalar(0.5);
    let eps = Tensor::rand_uniform(&[n, 1], 0.0, 1.0, &mut rng);
    let x_hat = eps.mul(&real).add(&eps.neg().add_scalar(1.0).mul(&fake));

    // --- Double backward ----------------------------------------------------------------
    let tape = Tape::new();
    let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
    // x̂ must be a gradient-wanting leaf: we differentiate D with respect to it.
    let x_hat_var = tape.var(x_hat.clone());
    // First backward (recorded, create_graph = true): ∇ₓD as a function of θ on the tape.
    let gp = gradient_penalty(&p, x_hat_var, true);
    // Second backward: through GP, through the recorded first backward, down to θ.
    let analytic: Vec<Tensor<f64>> = tape.grad_values(gp, &p);
    println!("gradient penalty GP(θ) = {:.12}", gp.item());

    // --- Central finite differences of GP ----------------------------------------------
    let h = 1e-6;
    println!(
        "\n{:<8} {:>20} {:>20} {:>10}",
        "entry", "double backward", "finite difference", "|diff|"
    );
    let mut max_diff = 0.0f64;
    for (i, (name, shape)) in PARAM_SHAPES.iter().enumerate() {
        for (j, &a) in analytic[i].to_vec().iter().enumerate() {
            let at = |delta: f64| {
                let mut shifted = params.clone();
                let mut v = params[i].to_vec();
                v[j] += delta;
                shifted[i] = Tensor::from_vec(v, shape);
                penalty_at(&shifted, &x_hat)
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            let diff = (a - numeric).abs();
            max_diff = max_diff.max(diff);
            println!(
                "{:<8} {a:>20.12} {numeric:>20.12} {diff:>10.2e}",
                format!("{name}[{j}]")
            );
        }
    }
    println!("\nmax |double backward − finite difference| = {max_diff:.3e}");
    // The biases' entries are exactly 0, and rightly so: for a piecewise-linear critic
    // ∇ₓD = W1·diag(m1)·W2·diag(m2)·W3 depends on the biases only through the LeakyReLU
    // masks m1, m2, which do not change under a small shift. A smooth activation (tanh,
    // softplus) would give them nonzero gradients.
    println!("(biases: exactly 0, since ∇ₓD of a piecewise-linear critic ignores them)");

    // --- Without create_graph ----------------------------------------------------------
    // The first backward then returns ∇ₓD as a constant: GP has the same value, but the
    // tape no longer knows it depends on θ, so its "gradient" is silently zero. This is why
    // engines whose backward pass works on raw buffers cannot train WGAN-GP.
    let tape = Tape::new();
    let p: Vec<_> = params.iter().map(|t| tape.var(t.clone())).collect();
    let gp_cut = gradient_penalty(&p, tape.var(x_hat.clone()), false);
    let cut: f64 = tape
        .grad_values(gp_cut, &p)
        .iter()
        .flat_map(|g| g.to_vec())
        .map(f64::abs)
        .fold(0.0, f64::max);
    println!(
        "without create_graph: GP = {:.12} (same value), max |∂GP/∂θ| = {cut} (wrong)",
        gp_cut.item()
    );

    assert!(
        max_diff < 1e-6,
        "double backward disagrees with finite differences"
    );
}
