//! One of the update rules, chosen at run time (a training config's `optim.g` and
//! `optim.d`): the chosen rule's slots and update, unchanged.

use gantry_tensor::Element;

use super::{Adam, RmsProp, Rule, Sgd, Update};

/// Adam, RMSprop or SGD, whichever a config names.
#[derive(Clone, Copy, Debug)]
pub enum AnyRule {
    /// [`Adam`] (or AdamW).
    Adam(Adam),
    /// [`RmsProp`].
    RmsProp(RmsProp),
    /// [`Sgd`].
    Sgd(Sgd),
}

impl Rule for AnyRule {
    fn slots(&self) -> &'static [&'static str] {
        match self {
            AnyRule::Adam(r) => r.slots(),
            AnyRule::RmsProp(r) => r.slots(),
            AnyRule::Sgd(r) => r.slots(),
        }
    }

    fn update<E: Element>(
        &self,
        p: &mut [E],
        g: &[E],
        state: &mut [&mut [E]],
        lr: f64,
        step: u64,
    ) -> Update {
        match self {
            AnyRule::Adam(r) => r.update(p, g, state, lr, step),
            AnyRule::RmsProp(r) => r.update(p, g, state, lr, step),
            AnyRule::Sgd(r) => r.update(p, g, state, lr, step),
        }
    }
}
