//! The tape (a Wengert list) and `Var`, the handle through which expressions are written.
//!
//! A [`Tape`] owns a `Vec` of nodes in creation order. Every node holds its value and the
//! `Op` that made it (which names its inputs by index). Because an op's inputs always exist
//! before the op is recorded, **creation order is a topological order**: backward is a
//! single sweep from the output down to index 0 (see `backward.rs`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use gantry_tensor::{Element, Tensor};

use crate::op::Op;

/// One entry of the tape: a value and how it was computed.
pub(crate) struct Node<E: Element> {
    pub(crate) value: Tensor<E>,
    pub(crate) op: Op,
    /// Whether any gradient can flow into this node (a `var` leaf, or an op on one).
    pub(crate) requires_grad: bool,
}

/// A reverse-mode tape. Create one per training step; drop it to free the step's memory.
///
/// ```
/// use gantry_autograd::Tape;
/// use gantry_tensor::Tensor;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(vec![0.5, -1.0], &[2]));
/// let y = (x.tanh() * 3.0).sum();
/// let g = tape.grad(y, &[x], true); // create_graph: g[0] is itself on the tape
/// let gg = tape.grad(g[0].square().sum(), &[x], false); // a second derivative
/// assert_eq!(gg[0].shape(), vec![2]);
/// ```
pub struct Tape<E: Element = f32> {
    pub(crate) nodes: RefCell<Vec<Node<E>>>,
    /// False inside [`Tape::no_grad`] and during a backward pass without `create_graph`:
    /// ops then compute values but record nothing to differentiate.
    pub(crate) recording: Cell<bool>,
    /// Leaves registered under a caller's key (parameters: one leaf per tape, see `nn`).
    keyed: RefCell<HashMap<u64, usize>>,
}

impl<E: Element> Default for Tape<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// A handle to one value on a tape: `Copy`, so expressions read like math.
///
/// It borrows the tape (`'t`), so it cannot outlive it; combining `Var`s of two different
/// tapes panics with a clear message.
pub struct Var<'t, E: Element = f32> {
    pub(crate) tape: &'t Tape<E>,
    pub(crate) index: usize,
}

impl<E: Element> Clone for Var<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E: Element> Copy for Var<'_, E> {}

impl<E: Element> std::fmt::Debug for Var<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var(#{}, shape {:?})", self.index, self.shape())
    }
}

impl<E: Element> Tape<E> {
    /// An empty tape, recording.
    pub fn new() -> Self {
        Tape {
            nodes: RefCell::new(Vec::new()),
            recording: Cell::new(true),
            keyed: RefCell::new(HashMap::new()),
        }
    }

    /// A leaf that wants a gradient.
    pub fn var(&self, value: Tensor<E>) -> Var<'_, E> {
        self.push_node(value, Op::Leaf, true)
    }

    /// A leaf that does not want a gradient (data, masks, noise).
    pub fn constant(&self, value: Tensor<E>) -> Var<'_, E> {
        self.push_node(value, Op::Leaf, false)
    }

    /// A gradient-wanting leaf registered under `key`: the first call for a key creates it
    /// from `make()`, later calls return the same `Var` (so a parameter used twice in one
    /// step collects both gradients on one leaf).
    pub fn keyed_var(&self, key: u64, make: impl FnOnce() -> Tensor<E>) -> Var<'_, E> {
        self.keyed_leaf(key, make, true)
    }

    /// Registers a constant under `key`, so later [`Tape::keyed_var`] calls for the key
    /// return it: a frozen parameter (the critic's weights during a generator step) then
    /// costs no gradient work.
    pub fn keyed_constant(&self, key: u64, make: impl FnOnce() -> Tensor<E>) -> Var<'_, E> {
        self.keyed_leaf(key, make, false)
    }

    fn keyed_leaf(
        &self,
        key: u64,
        make: impl FnOnce() -> Tensor<E>,
        requires_grad: bool,
    ) -> Var<'_, E> {
        if let Some(&index) = self.keyed.borrow().get(&key) {
            return Var { tape: self, index };
        }
        let v = self.push_node(make(), Op::Leaf, requires_grad);
        self.keyed.borrow_mut().insert(key, v.index);
        v
    }

    /// The number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` without recording: values are computed, but nothing inside is differentiated
    /// (used for spectral norm's power iteration, EMA updates, evaluation).
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = self.recording.replace(false);
        let r = f();
        self.recording.set(before);
        r
    }

    /// Appends a node. `op` is kept only when recording and some input wants a gradient;
    /// otherwise the node is a plain constant and its inputs can be freed by the caller.
    pub(crate) fn push_node(&self, value: Tensor<E>, op: Op, requires_grad: bool) -> Var<'_, E> {
        let mut nodes = self.nodes.borrow_mut();
        let keep = requires_grad && (self.recording.get() || matches!(op, Op::Leaf));
        let op = if keep { op } else { Op::Leaf };
        nodes.push(Node {
            value,
            op,
            requires_grad: keep,
        });
        Var {
            tape: self,
            index: nodes.len() - 1,
        }
    }

    /// Records the result of an op on `inputs`.
    pub(crate) fn record(&self, value: Tensor<E>, op: Op, inputs: &[usize]) -> Var<'_, E> {
        let requires_grad = {
            let nodes = self.nodes.borrow();
            inputs.iter().any(|&i| nodes[i].requires_grad)
        };
        self.push_node(value, op, requires_grad)
    }

    /// The value at `index`.
    pub(crate) fn value_at(&self, index: usize) -> Tensor<E> {
        self.nodes.borrow()[index].value.clone()
    }

    /// A handle to the node at `index`.
    pub(crate) fn at(&self, index: usize) -> Var<'_, E> {
        Var { tape: self, index }
    }

    /// Drops every node from `len` on (only nodes no live `Var` refers to).
    pub(crate) fn truncate(&self, len: usize) {
        self.nodes.borrow_mut().truncate(len);
    }
}

impl<'t, E: Element> Var<'t, E> {
    /// The value (a cheap shared clone).
    pub fn value(&self) -> Tensor<E> {
        self.tape.value_at(self.index)
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.tape.nodes.borrow()[self.index].value.shape().to_vec()
    }

    /// The single value of a one-element `Var`.
    pub fn item(&self) -> E {
        self.value().item()
    }

    /// The same value as a constant: gradients stop here.
    pub fn detach(&self) -> Var<'t, E> {
        self.tape.constant(self.value())
    }

    /// Whether a gradient can flow into this value.
    pub fn requires_grad(&self) -> bool {
        self.tape.nodes.borrow()[self.index].requires_grad
    }

    /// The tape this `Var` lives on.
    pub fn tape(&self) -> &'t Tape<E> {
        self.tape
    }

    /// The position on the tape (creation order).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Panics unless `other` lives on the same tape; `op` names the operation.
    pub(crate) fn same_tape(&self, other: &Var<'t, E>, op: &str) {
        assert!(
            std::ptr::eq(self.tape, other.tape),
            "{op}: the two Vars live on different tapes; combine only Vars of one tape \
             (use tape.constant(v.value()) to move a value across)"
        );
    }

    /// A constant on the same tape.
    pub(crate) fn constant(&self, t: Tensor<E>) -> Var<'t, E> {
        self.tape.constant(t)
    }
}
