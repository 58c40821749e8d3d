//! Spectral normalization (Miyato et al. 2018) with PyTorch's semantics
//! (`torch.nn.utils.parametrizations.spectral_norm`).
//!
//! The weight is viewed as a matrix `W: [rows, cols]` (rows = output axis: 0, or 1 for
//! `ConvTranspose2d`). Persistent vectors `u` (rows) and `v` (cols) estimate its top
//! singular pair by power iteration. In training mode each forward runs
//! `n_power_iterations` of `u ← normalize(Wv)`, `v ← normalize(Wᵀu)` (PyTorch's order in
//! `_SpectralNorm._power_method`) **without gradient**,
//! then computes `σ = uᵀWv` **as a `Var`**, so the gradient flows through σ, and uses
//! `W/σ`. In eval mode `u` and `v` are reused as they are.

use std::cell::Cell;

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Rectifier, Tensor};
use rand::Rng;

use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};
use crate::weight_layer::WeightLayer;

/// A layer whose weight is divided by its largest singular value.
pub struct SpectralNorm<L, E: Element = f32> {
    /// The wrapped layer (its `weight` is PyTorch's `parametrizations.weight.original`).
    pub layer: L,
    /// Left singular vector estimate `u: [rows]` (buffer).
    pub u: Param<E>,
    /// Right singular vector estimate `v: [cols]` (buffer).
    pub v: Param<E>,
    /// Power iterations per training forward (PyTorch's default: 1).
    pub n_power_iterations: usize,
    /// `ε` in `normalize(x) = x / max(‖x‖, ε)`.
    pub eps: f64,
    training: Cell<bool>,
}

/// `x / max(‖x‖₂, ε)` (PyTorch's `F.normalize`).
fn normalize<E: Element>(x: &Tensor<E>, eps: f64) -> Tensor<E> {
    let norm = x.square().sum().item().sqrt().max(E::from_f64_lossy(eps));
    x.mul_scalar(E::one() / norm)
}

impl<L: WeightLayer<E>, E: Element> SpectralNorm<L, E> {
    /// Wraps `layer`; `u` and `v` start random and take 15 power iterations, as in PyTorch.
    pub fn new<R: Rng + ?Sized>(layer: L, rng: &mut R) -> Self {
        let w = Self::matrix_of(&layer, &layer.weight().value());
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        let sn = SpectralNorm {
            u: Param::new(normalize(&Tensor::randn(&[rows], rng), 1e-12)),
            v: Param::new(normalize(&Tensor::randn(&[cols], rng), 1e-12)),
            layer,
            n_power_iterations: 1,
            eps: 1e-12,
            training: Cell::new(true),
        };
        sn.power_iterations(&w, 15);
        sn
    }

    /// The weight as a matrix `[rows, cols]`, output axis first.
    fn matrix_of(layer: &L, w: &Tensor<E>) -> Tensor<E> {
        let w = if layer.output_axis() == 1 {
            w.transpose(0, 1)
        } else {
            w.clone()
        };
        let rows = w.shape()[0];
        w.reshape(&[rows, w.len() / rows.max(1)])
    }

    /// `n` rounds of `u ← normalize(Wv)`, `v ← normalize(Wᵀu)` on plain tensors.
    fn power_iterations(&self, w: &Tensor<E>, n: usize) {
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        let (mut u, mut v) = (self.u.value(), self.v.value());
        for _ in 0..n {
            u = normalize(&w.matmul(&v.reshape(&[cols, 1])).reshape(&[rows]), self.eps);
            v = normalize(
                &w.t().matmul(&u.reshape(&[rows, 1])).reshape(&[cols]),
                self.eps,
            );
        }
        self.u.set(u);
        self.v.set(v);
    }

    /// The current estimate `σ = uᵀWv` of the top singular value (no update).
    pub fn sigma(&self) -> E {
        let w = Self::matrix_of(&self.layer, &self.layer.weight().value());
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        self.u
            .value()
            .reshape(&[1, rows])
            .matmul(&w)
            .matmul(&self.v.value().reshape(&[cols, 1]))
            .item()
    }

    /// `W/σ` on the tape, with `σ = uᵀWv` differentiable in `W`; in training mode the
    /// power iteration first moves `u` and `v`.
    pub fn normalized_weight<'t>(&self, tape: &'t Tape<E>) -> Var<'t, E> {
        let w = tape.param(self.layer.weight());
        if self.training.get() {
            self.power_iterations(
                &Self::matrix_of(&self.layer, &w.value()),
                self.n_power_iterations,
            );
        }
        self.divide_by_sigma(w)
    }

    /// `w / (uᵀ W v)` for a weight `w` of the layer's shape (`W` its matrix view), with the
    /// current `u` and `v` held constant and no power iteration: the reparametrization as
    /// a function of `w`, so that its gradient, σ's part included, can be checked.
    pub fn divide_by_sigma<'t>(&self, w: Var<'t, E>) -> Var<'t, E> {
        let tape = w.tape();
        let shape = w.shape();
        let w_t = if self.layer.output_axis() == 1 {
            w.transpose(0, 1)
        } else {
            w
        };
        let rows = shape[self.layer.output_axis()];
        let cols = shape.iter().product::<usize>() / rows.max(1);
        let mat = w_t.reshape(&[rows, cols]);
        let u = tape.constant(self.u.value().reshape(&[1, rows]));
        let v = tape.constant(self.v.value().reshape(&[cols, 1]));
        let sigma = u.matmul(mat).matmul(v).reshape(&[]);
        w / sigma
    }
}

impl<L: WeightLayer<E>, E: Element> Module<E> for SpectralNorm<L, E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        let w = self.normalized_weight(tape);
        self.layer.forward_with_weight(tape, x, w)
    }
    fn forward_rectified<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        rectifier: Rectifier,
    ) -> Option<Var<'t, E>> {
        let w = self.normalized_weight(tape);
        Some(
            self.layer
                .forward_with_weight_rectified(tape, x, w, rectifier),
        )
    }
    /// PyTorch's names: `parametrizations.weight.original` and `bias`.
    fn params(&self) -> Vec<Named<E>> {
        let mut v = vec![(
            "parametrizations.weight.original".to_string(),
            self.layer.weight().clone(),
        )];
        if let Some(b) = self.layer.bias() {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }
    fn buffers(&self) -> Vec<Named<E>> {
        vec![
            ("parametrizations.weight.0._u".to_string(), self.u.clone()),
            ("parametrizations.weight.0._v".to_string(), self.v.clone()),
        ]
    }
    fn set_training(&self, training: bool) {
        self.training.set(training);
    }
}
