//! `Param`: a shared, mutable tensor with a stable identity, and `tape.param(&p)`.

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use gantry_autograd::{Tape, Var};
use gantry_tensor::{Element, Tensor};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A trainable parameter (or a buffer such as running statistics): a tensor behind a shared
/// `Rc<RefCell<…>>`, so a layer, its optimizer and a checkpoint all see the same value.
///
/// Each `Param` has a process-unique id; [`ParamTape::param`] uses it to put the parameter
/// on a tape once, however often the step uses it.
pub struct Param<E: Element = f32> {
    inner: Rc<(u64, RefCell<Tensor<E>>)>,
}

impl<E: Element> Clone for Param<E> {
    fn clone(&self) -> Self {
        Param {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<E: Element> std::fmt::Debug for Param<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Param(#{}, shape {:?})", self.id(), self.shape())
    }
}

impl<E: Element> Param<E> {
    /// A new parameter holding `value`.
    pub fn new(value: Tensor<E>) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Param {
            inner: Rc::new((id, RefCell::new(value))),
        }
    }

    /// The process-unique id.
    pub fn id(&self) -> u64 {
        self.inner.0
    }

    /// The current value (a cheap shared clone).
    pub fn value(&self) -> Tensor<E> {
        self.inner.1.borrow().clone()
    }

    /// Borrows the current value.
    pub fn borrow(&self) -> Ref<'_, Tensor<E>> {
        self.inner.1.borrow()
    }

    /// Borrows the current value mutably (for in-place updates; keep the shape).
    pub fn borrow_mut(&self) -> RefMut<'_, Tensor<E>> {
        self.inner.1.borrow_mut()
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.inner.1.borrow().shape().to_vec()
    }

    /// Replaces the value.
    ///
    /// # Panics
    /// If the new value has a different shape (a parameter's shape never changes).
    pub fn set(&self, value: Tensor<E>) {
        let old = self.shape();
        assert_eq!(
            old,
            value.shape(),
            "Param::set: shape {:?} cannot replace {old:?}",
            value.shape()
        );
        *self.inner.1.borrow_mut() = value;
    }
}

/// Puts parameters on a tape.
pub trait ParamTape<E: Element> {
    /// The parameter as a gradient-wanting leaf of this tape, created on first use and
    /// reused after, so every use in a step adds to one gradient.
    fn param(&self, p: &Param<E>) -> Var<'_, E>;
}

impl<E: Element> ParamTape<E> for Tape<E> {
    fn param(&self, p: &Param<E>) -> Var<'_, E> {
        self.keyed_var(p.id(), || p.value())
    }
}

/// Puts `params` on the tape as constants: the step will not differentiate them (the
/// critic during a generator step). Call before the forward pass that uses them.
pub fn freeze<E: Element>(tape: &Tape<E>, params: &[Param<E>]) {
    for p in params {
        tape.keyed_constant(p.id(), || p.value());
    }
}

/// The gradients of `loss` with respect to `params`, as tensors (the fast backward path:
/// nothing is recorded). A parameter the loss does not use gets zeros.
pub fn gradients<'t, E: Element>(
    tape: &'t Tape<E>,
    loss: Var<'t, E>,
    params: &[Param<E>],
) -> Vec<Tensor<E>> {
    let vars: Vec<Var<'t, E>> = params.iter().map(|p| tape.param(p)).collect();
    tape.grad_values(loss, &vars)
}
