//! Optimizers with PyTorch's exact update rules: SGD (momentum, dampening, Nesterov,
//! weight decay), Adam, AdamW and RMSprop, and [`AnyRule`], one of them chosen at run time.
//!
//! There is no `zero_grad`: gradients come fresh from the tape each step and are passed to
//! [`Optimizer::step`]. Parameters come in groups, each with its own learning rate.
//! The optimizer's state (moments, momentum buffers, the step count) is held in `Param`s
//! with names, so a checkpoint saves it beside the weights and a resumed run continues
//! exactly.

mod adam;
mod any_rule;
mod rmsprop;
mod sgd;

pub use adam::Adam;
pub use any_rule::AnyRule;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use gantry_tensor::tensor::squared_sum;
use gantry_tensor::{Element, Tensor};
use rayon::prelude::*;

use crate::module::Named;
use crate::param::Param;

/// Elements per chunk of a parallel update.
const UPDATE_CHUNK: usize = 1 << 14;

/// One chunk of a parameter, its gradient and its state slots.
type UpdateChunk<'a, E> = (&'a mut [E], &'a [E], Vec<&'a mut [E]>);

/// Runs `rule.update` over fixed-size chunks of a parameter, its gradient and its state
/// slots, in parallel (every rule is elementwise, so chunks are independent and the result
/// is the same for any number of threads), and returns whether every updated value is
/// finite and `Σ g²` (each chunk's [`Update`], the sums added chunk by chunk in order).
fn update_in_chunks<R: Rule, E: Element>(
    rule: &R,
    p: &mut [E],
    g: &[E],
    slots: Vec<&mut [E]>,
    lr: f64,
    step: u64,
) -> (bool, f64) {
    let mut slot_chunks: Vec<_> = slots
        .into_iter()
        .map(|s| s.chunks_mut(UPDATE_CHUNK))
        .collect();
    let chunks: Vec<UpdateChunk<'_, E>> = p
        .chunks_mut(UPDATE_CHUNK)
        .zip(g.chunks(UPDATE_CHUNK))
        .map(|(p, g)| {
            let s = slot_chunks
                .iter_mut()
                .map(|c| c.next().expect("slots as long as the parameter"))
                .collect();
            (p, g, s)
        })
        .collect();
    chunks
        .into_par_iter()
        .map(|(p, g, mut s)| rule.update(p, g, &mut s, lr, step))
        .collect::<Vec<_>>()
        .into_iter()
        .fold((true, 0.0), |(ok, sq), u| {
            (ok && u.finite, sq + u.grad_squares)
        })
}

/// What a rule reports about the chunk it updated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Update {
    /// Whether every value it wrote (`p` and the state slots) is finite.
    pub finite: bool,
    /// `Σ g²` over the chunk's gradient, accumulated in `f64` (the optimizer's
    /// [`Optimizer::grad_norm`] is the root of their sum).
    pub grad_squares: f64,
}

/// An update rule: how one parameter changes given its gradient and its state slots.
pub trait Rule: Clone + Sync {
    /// The names of the per-parameter state tensors (PyTorch's names, e.g. `exp_avg`).
    fn slots(&self) -> &'static [&'static str];
    /// Updates `p` in place, given gradient `g`, the state slots (same length as `p`),
    /// the learning rate and the 1-based step number. Elementwise: element `i` of `p` and
    /// of each slot depends only on element `i` of the inputs, so the optimizer may call
    /// it on any chunking of a parameter. Reports whether every value it wrote is finite
    /// and the sum of the gradient's squares.
    fn update<E: Element>(
        &self,
        p: &mut [E],
        g: &[E],
        state: &mut [&mut [E]],
        lr: f64,
        step: u64,
    ) -> Update;
}

/// The [`Update`] of a rule that does not make its checks in its own loop, taken on a
/// chunk just updated (still in cache): whether `p` and every state slot hold only
/// finite values, and `Σ g²` by [`squared_sum`].
fn checked_after<E: Element>(p: &[E], g: &[E], state: &[&mut [E]]) -> Update {
    let finite = |c: &[E]| c.iter().fold(true, |ok, x| ok & x.is_finite());
    Update {
        finite: finite(p) && state.iter().all(|s| finite(s)),
        grad_squares: squared_sum(g),
    }
}

/// Parameters that share a learning rate.
pub struct ParamGroup<E: Element = f32> {
    /// The parameters, with names (used as checkpoint keys for their state).
    pub params: Vec<Named<E>>,
    /// The learning rate.
    pub lr: f64,
}

/// An optimizer: parameter groups, an update rule, and per-parameter state.
pub struct Optimizer<R: Rule, E: Element = f32> {
    /// The parameter groups.
    pub groups: Vec<ParamGroup<E>>,
    /// The update rule and its hyperparameters.
    pub rule: R,
    state: Vec<Vec<Param<E>>>,
    step: Param<E>,
    grad_norm: f64,
}

impl<R: Rule, E: Element> Optimizer<R, E> {
    /// One group of parameters with learning rate `lr`.
    pub fn new(params: Vec<Named<E>>, lr: f64, rule: R) -> Self {
        Self::with_groups(vec![ParamGroup { params, lr }], rule)
    }

    /// Several groups, each with its own learning rate.
    pub fn with_groups(groups: Vec<ParamGroup<E>>, rule: R) -> Self {
        let state = groups
            .iter()
            .flat_map(|g| &g.params)
            .map(|(_, p)| {
                rule.slots()
                    .iter()
                    .map(|_| Param::new(Tensor::zeros(&p.shape())))
                    .collect()
            })
            .collect();
        Optimizer {
            groups,
            rule,
            state,
            step: Param::new(Tensor::scalar(E::zero())),
            grad_norm: 0.0,
        }
    }

    /// All parameters, in the order `step` expects their gradients.
    pub fn params(&self) -> Vec<Param<E>> {
        self.groups
            .iter()
            .flat_map(|g| g.params.iter().map(|(_, p)| p.clone()))
            .collect()
    }

    /// How many steps have been taken.
    pub fn steps_taken(&self) -> u64 {
        self.step.value().item().to_u64().unwrap_or(0)
    }

    /// Applies one update. `grads[i]` is the gradient of the `i`-th parameter of
    /// [`Optimizer::params`]. Returns whether every updated value (parameters and state)
    /// is finite, checked while each is still in cache.
    ///
    /// # Panics
    /// If the number or shapes of the gradients do not match the parameters.
    pub fn step(&mut self, grads: &[Tensor<E>]) -> bool {
        let n: usize = self.groups.iter().map(|g| g.params.len()).sum();
        assert_eq!(
            grads.len(),
            n,
            "Optimizer::step: {} gradients for {n} parameters",
            grads.len()
        );
        let step = self.steps_taken() + 1;
        let mut finite = true;
        let mut squares = 0.0;
        let mut i = 0;
        for group in &self.groups {
            for (name, p) in &group.params {
                let g = grads[i].contiguous();
                assert_eq!(
                    g.shape(),
                    p.shape(),
                    "Optimizer::step: gradient {:?} for parameter {name} {:?}",
                    g.shape(),
                    p.shape()
                );
                let g = g.as_slice().expect("contiguous");
                // In place (copy-on-write: a value still shared, e.g. by a live tape, is
                // copied first, so nobody else sees the change).
                let mut value = p.borrow_mut();
                let mut slots: Vec<_> = self.state[i].iter().map(|s| s.borrow_mut()).collect();
                let views: Vec<&mut [E]> = slots.iter_mut().map(|t| t.make_mut()).collect();
                let (ok, sq) =
                    update_in_chunks(&self.rule, value.make_mut(), g, views, group.lr, step);
                finite &= ok;
                squares += sq;
                i += 1;
            }
        }
        self.step
            .set(Tensor::scalar(E::from_u64(step).expect("step count fits")));
        self.grad_norm = squares.sqrt();
        finite
    }

    /// `√Σ‖gᵢ‖²` over the gradients the last [`Optimizer::step`] was given (0 before the
    /// first), accumulated in `f64`: squares of finite `f32` gradients above ~1.8e19
    /// overflow `f32`, and an infinite norm would be logged as `null`. Computed during the
    /// update, as each gradient chunk is read anyway.
    pub fn grad_norm(&self) -> f64 {
        self.grad_norm
    }

    /// The state as named tensors: `{param}.{slot}` for each parameter, and `step`.
    pub fn state(&self) -> Vec<Named<E>> {
        let names = self
            .groups
            .iter()
            .flat_map(|g| g.params.iter().map(|(n, _)| n));
        let mut out: Vec<Named<E>> = names
            .zip(&self.state)
            .flat_map(|(n, slots)| {
                self.rule
                    .slots()
                    .iter()
                    .zip(slots)
                    .map(move |(s, p)| (format!("{n}.{s}"), p.clone()))
            })
            .collect();
        out.push(("step".to_string(), self.step.clone()));
        out
    }
}
