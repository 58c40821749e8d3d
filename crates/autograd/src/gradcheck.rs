//! Numerical gradient checks in `f64`, as PyTorch's `gradcheck` / `gradgradcheck` do them.
//!
//! For a function `f` of tensors, the analytic gradient of the scalar `⟨f(x), r⟩` (with a
//! fixed random `r`, so non-scalar outputs are covered) is compared with central finite
//! differences `(s(x + ε·eⱼ) − s(x − ε·eⱼ)) / 2ε` for every input element `j`.
//! `gradgradcheck` applies the same check to `x ↦ ⟨∇ₓ⟨f(x), r⟩, v⟩`, a function that
//! contains a backward pass, so it tests the VJPs of the VJPs.

use std::fmt;

use gantry_tensor::Tensor;

use crate::tape::{Tape, Var};

/// Tolerances: PyTorch's defaults are `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numerical value).
    pub rtol: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The first disagreement found: which input, which element, both values.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// Index of the input tensor.
    pub input: usize,
    /// Row-major index of the element within it.
    pub element: usize,
    /// The gradient from the tape.
    pub analytic: f64,
    /// The central finite difference.
    pub numeric: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient mismatch at input {} element {}: analytic {:.10e}, numeric {:.10e}",
            self.input, self.element, self.analytic, self.numeric
        )
    }
}

impl std::error::Error for GradcheckError {}

/// A fixed pseudo-random tensor (splitmix64), with values in ±[0.5, 1.5): weights that
/// neither vanish nor cancel.
fn fixed_weights(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut state = seed;
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
            if u < 0.5 {
                -(0.5 + 2.0 * u)
            } else {
                2.0 * u - 0.5
            }
        })
        .collect();
    Tensor::from_vec(v, shape)
}

/// `⟨f(x), r⟩`: reduces any output to a scalar with fixed weights.
fn weighted<'t>(y: Var<'t, f64>) -> Var<'t, f64> {
    let r = y.tape().constant(fixed_weights(&y.shape(), 7));
    (y * r).sum()
}

/// Checks the tape's gradient of `f` at `inputs` against central finite differences.
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>], tol: Tolerance) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let analytic = {
        let tape = Tape::new();
        let xs: Vec<_> = inputs.iter().map(|t| tape.var(t.clone())).collect();
        let s = weighted(f(&xs));
        tape.grad_values(s, &xs)
    };
    let eval = |xs: &[Tensor<f64>]| {
        let tape = Tape::new();
        let vars: Vec<_> = xs.iter().map(|t| tape.var(t.clone())).collect();
        weighted(f(&vars)).item()
    };
    for (i, x) in inputs.iter().enumerate() {
        let base = x.to_vec();
        let ana = analytic[i].to_vec();
        for j in 0..base.len() {
            let mut shifted = inputs.to_vec();
            let mut at = |delta: f64| {
                let mut v = base.clone();
                v[j] += delta;
                shifted[i] = Tensor::from_vec(v, x.shape());
                eval(&shifted)
            };
            let numeric = (at(tol.eps) - at(-tol.eps)) / (2.0 * tol.eps);
            let ok = (ana[j] - numeric).abs() <= tol.atol + tol.rtol * numeric.abs();
            if !ok || !ana[j].is_finite() {
                return Err(GradcheckError {
                    input: i,
                    element: j,
                    analytic: ana[j],
                    numeric,
                });
            }
        }
    }
    Ok(())
}

/// Pins a closure's signature to `for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>` (closures
/// do not infer higher-ranked lifetimes on their own).
pub fn higher_ranked<F>(f: F) -> F
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    f
}

/// Checks second derivatives: `gradcheck` of `x ↦ Σᵢ ⟨∂⟨f(x), r⟩/∂xᵢ, vᵢ⟩`, whose own
/// gradient needs the backward pass of `f` to be differentiated.
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor<f64>], tol: Tolerance) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let first_order = higher_ranked(|xs| {
        let tape = xs[0].tape();
        let gs = tape.grad(weighted(f(xs)), xs, true);
        gs.iter()
            .enumerate()
            .map(|(i, g)| (*g * tape.constant(fixed_weights(&g.shape(), 11 + i as u64))).sum())
            .reduce(|a, b| a + b)
            .expect("at least one input")
    });
    gradcheck(first_order, inputs, tol)
}
