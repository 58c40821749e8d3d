//! The backward pass: one reverse sweep over the tape.
//!
//! Precondition (from `tape.rs`): node `i`'s inputs all have indices `< i`, so visiting
//! nodes from the output down to the lowest `wrt` visits each node after every node that
//! uses it, i.e. once its cotangent is complete.
//!
//! Two modes share the sweep:
//! - `create_graph = true`: cotangents are `Var`s and each VJP is recorded, so the
//!   gradients can be differentiated again (double backward, gradient penalties).
//! - `create_graph = false`: cotangents are plain tensors. Each VJP still runs through the
//!   same `Var` rules, but with recording off, and the tape is cut back right after, so
//!   the backward pass leaves nothing behind; each cotangent is dropped once consumed.

use gantry_tensor::{Element, Tensor};

use crate::op::{vjp, Op};
use crate::tape::{Tape, Var};

/// Adds a contribution to a cotangent slot: the one place where gradients accumulate.
fn accumulate<C>(slot: &mut Option<C>, contribution: C, add: impl Fn(C, C) -> C) {
    *slot = Some(match slot.take() {
        None => contribution,
        Some(sum) => add(sum, contribution),
    });
}

impl<E: Element> Tape<E> {
    /// The gradients `∂output/∂wrt[i]`, one per input, with zeros for inputs the output does
    /// not depend on. With `create_graph` the gradients are recorded ops (differentiate them
    /// again); without, they are constants and the pass records nothing.
    ///
    /// # Panics
    /// If `output` is not a single value, or a `Var` comes from another tape.
    pub fn grad<'t>(
        &'t self,
        output: Var<'t, E>,
        wrt: &[Var<'t, E>],
        create_graph: bool,
    ) -> Vec<Var<'t, E>> {
        if !create_graph {
            return self
                .grad_values(output, wrt)
                .into_iter()
                .map(|t| self.constant(t))
                .collect();
        }
        self.check_grad_args(&output, wrt);
        let seed = self.constant(Tensor::ones(&output.shape()));
        let before = self.recording.replace(true);
        let grads = self.sweep(
            output.index,
            wrt,
            seed,
            |op, i, g, needs| vjp(op, self.at(i), g, needs),
            |a, b| a + b,
        );
        self.recording.set(before);
        grads
            .into_iter()
            .zip(wrt)
            .map(|(g, w)| g.unwrap_or_else(|| self.constant(Tensor::zeros(&w.shape()))))
            .collect()
    }

    /// The gradients as tensors (the `create_graph = false` fast path): the tape is left
    /// exactly as long as it was.
    pub fn grad_values<'t>(&'t self, output: Var<'t, E>, wrt: &[Var<'t, E>]) -> Vec<Tensor<E>> {
        self.check_grad_args(&output, wrt);
        let before = self.recording.replace(false);
        let seed = Tensor::ones(&output.shape());
        let grads = self.sweep(
            output.index,
            wrt,
            seed,
            |op, i, g, needs| {
                let base = self.len();
                let contributions = vjp(op, self.at(i), self.constant(g), needs);
                let values = contributions
                    .into_iter()
                    .map(|(j, c)| (j, c.value()))
                    .collect();
                self.truncate(base);
                values
            },
            |a, b| a.add(&b),
        );
        self.recording.set(before);
        grads
            .into_iter()
            .zip(wrt)
            .map(|(g, w)| g.unwrap_or_else(|| Tensor::zeros(&w.shape())))
            .collect()
    }

    fn check_grad_args<'t>(&'t self, output: &Var<'t, E>, wrt: &[Var<'t, E>]) {
        for v in std::iter::once(output).chain(wrt) {
            assert!(
                std::ptr::eq(v.tape, self),
                "grad: {v:?} is not on this tape (a Var can only be differentiated on the tape that made it)"
            );
        }
        let shape = output.shape();
        assert!(
            shape.iter().product::<usize>() == 1,
            "grad: the output must be a single value, got shape {shape:?}; reduce it first (e.g. .sum() or .mean())"
        );
    }

    /// The reverse sweep, generic over the cotangent type `C` (a `Var` or a `Tensor`).
    /// `step(op, i, g, needs)` returns the contributions of node `i` to those of its inputs
    /// for which `needs(input)` holds.
    fn sweep<C: Clone>(
        &self,
        output: usize,
        wrt: &[Var<'_, E>],
        seed: C,
        mut step: impl FnMut(&Op, usize, C, &dyn Fn(usize) -> bool) -> Vec<(usize, C)>,
        add: impl Fn(C, C) -> C + Copy,
    ) -> Vec<Option<C>> {
        let Some(lowest) = wrt.iter().map(|w| w.index).filter(|&w| w <= output).min() else {
            return vec![None; wrt.len()];
        };
        let mut wanted = vec![false; output + 1];
        wrt.iter()
            .filter(|w| w.index <= output)
            .for_each(|w| wanted[w.index] = true);
        let needed = self.needed(lowest, output, &wanted);
        let needs = |j: usize| j >= lowest && needed[j - lowest];
        let mut cotangents: Vec<Option<C>> = vec![None; output + 1];
        cotangents[output] = Some(seed);
        for i in (lowest..=output).rev() {
            // A wanted cotangent is kept for the caller; any other is dropped once used.
            let g = if wanted[i] {
                cotangents[i].clone()
            } else {
                cotangents[i].take()
            };
            let Some(g) = g else { continue };
            let op = {
                let nodes = self.nodes.borrow();
                if !nodes[i].requires_grad || matches!(nodes[i].op, Op::Leaf) {
                    continue;
                }
                nodes[i].op.clone()
            };
            for (j, c) in step(&op, i, g, &needs) {
                if needs(j) {
                    accumulate(&mut cotangents[j], c, add);
                }
            }
        }
        wrt.iter()
            .map(|w| {
                if w.index <= output {
                    cotangents[w.index].clone()
                } else {
                    None
                }
            })
            .collect()
    }

    /// Which nodes in `lowest..=output` lie on a path from a `wanted` node to the output,
    /// i.e. which need a cotangent; indexed from `lowest`. One forward pass, since every
    /// input precedes its node. Every other gradient would be thrown away, so its VJP is
    /// never computed.
    fn needed(&self, lowest: usize, output: usize, wanted: &[bool]) -> Vec<bool> {
        let nodes = self.nodes.borrow();
        let mut needed = vec![false; output + 1 - lowest];
        for i in lowest..=output {
            let node = &nodes[i];
            needed[i - lowest] = node.requires_grad
                && (wanted[i] || node.op.any_input(|j| j >= lowest && needed[j - lowest]));
        }
        needed
    }
}
