//! `Embedding`: a table of learned vectors, one row per class, looked up by label
//! (PyTorch's `nn.Embedding`: `weight: [num_embeddings, embedding_dim]`, drawn `N(0, 1)`).
//!
//! `y[i] = W[labels[i]]`, the `index_rows` primitive of the tape, whose gradient adds each
//! `ȳ[i]` into row `labels[i]` of `W̄` (and is itself differentiable, for double backward).
//!
//! As in PyTorch, the module's input is the tensor of class indices; gantry's tensors hold
//! floats, so a label `k` is the value `k` (exact up to 2²⁴ in `f32`): build it with
//! [`label_tensor`], or call [`Embedding::lookup`] with the `u32` labels directly. Spectral
//! normalization wraps it like any weight layer, `SpectralNorm::new(Embedding::new(…), rng)`,
//! with `W` viewed as a `[num_embeddings, embedding_dim]` matrix (the projection
//! discriminator's embedding, Miyato & Koyama 2018).

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Tensor};
use rand::Rng;

use crate::module::{Module, Named};
use crate::param::{Param, ParamTape};
use crate::weight_layer::WeightLayer;

/// A lookup table `W: [num_embeddings, embedding_dim]`; input: labels `[n]`, output `[n, dim]`.
pub struct Embedding<E: Element = f32> {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Param<E>,
}

impl<E: Element> Embedding<E> {
    /// `num_embeddings` rows of `embedding_dim`, drawn from `N(0, 1)` as PyTorch does.
    pub fn new<R: Rng + ?Sized>(num_embeddings: usize, embedding_dim: usize, rng: &mut R) -> Self {
        Self::from_table(Tensor::randn(&[num_embeddings, embedding_dim], rng))
    }

    /// An embedding holding `table` (e.g. all ones for the gains of a conditional batch norm).
    pub fn from_table(table: Tensor<E>) -> Self {
        Embedding {
            weight: Param::new(table),
        }
    }

    /// The number of rows (classes).
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape()[0]
    }

    /// `W[labels]`: `[labels.len(), embedding_dim]`.
    ///
    /// # Panics
    /// If a label is `≥ num_embeddings`, naming it.
    pub fn lookup<'t>(&self, tape: &'t Tape<E>, labels: &[u32]) -> Var<'t, E> {
        tape.param(&self.weight).index_rows(labels)
    }
}

/// Class labels as the tensor an `Embedding` module takes: the value `k` for label `k`.
pub fn label_tensor<E: Element>(labels: &[u32]) -> Tensor<E> {
    let values = labels
        .iter()
        .map(|&k| E::from_f64_lossy(k as f64))
        .collect();
    Tensor::from_vec(values, &[labels.len()])
}

/// The labels held by a label tensor `[n]`.
///
/// # Panics
/// If a value is not a non-negative whole number (the input was not labels).
fn labels_of<E: Element>(x: &Tensor<E>) -> Vec<u32> {
    assert!(
        x.ndim() == 1,
        "Embedding: the input must be labels [n], got shape {:?}",
        x.shape()
    );
    x.to_vec()
        .iter()
        .map(|v| {
            let f = v.to_f64().unwrap_or(f64::NAN);
            assert!(
                f >= 0.0 && f.fract() == 0.0 && f <= u32::MAX as f64,
                "Embedding: the input must hold class indices (whole numbers ≥ 0), got {f}"
            );
            f as u32
        })
        .collect()
}

impl<E: Element> WeightLayer<E> for Embedding<E> {
    fn weight(&self) -> &Param<E> {
        &self.weight
    }
    fn bias(&self) -> Option<&Param<E>> {
        None
    }
    /// `w[labels]` for a label tensor `x` (labels carry no gradient).
    fn forward_with_weight<'t>(
        &self,
        _tape: &'t Tape<E>,
        x: Var<'t, E>,
        w: Var<'t, E>,
    ) -> Var<'t, E> {
        w.index_rows(&labels_of(&x.value()))
    }
}

impl<E: Element> Module<E> for Embedding<E> {
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        self.forward_with_weight(tape, x, tape.param(&self.weight))
    }
    fn params(&self) -> Vec<Named<E>> {
        crate::weight_layer::weight_and_bias(self)
    }
}
