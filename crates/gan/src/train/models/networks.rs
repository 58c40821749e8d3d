//! The two networks of a GAN as types: a [`Generator`] `G(z, y)` and a [`Critic`]
//! `D(x, y)`, each optionally conditioned on a class label `y`.
//!
//! An unconditional network is exactly the `Sequential` it always was (same layers, same
//! order, same names), so it pays nothing for the conditional machinery. Names follow
//! PyTorch's `state_dict` for the same module tree: the critic's trunk and last layer are
//! numbered as one `nn.Sequential` (`0.weight`, …, `5.bias`), the conditional parts are
//! named `embed` and `classifier`.

use gantry_autograd::{Tape, Var};
use gantry_nn::{label_tensor, prefixed, Embedding, Module, Named, Sequential};
use gantry_tensor::Element;

/// `G(z)`, or `G(z, y)` for a class-conditional generator: by conditional batch norm
/// inside `net` (the labels reach every `ConditionalBatchNorm`), or by a label embedding
/// concatenated to `z` (Mirza & Osindero 2014, with a learned embedding for the one-hot).
pub struct Generator<E: Element = f32> {
    /// The network from the latent (with the label embedding appended, if any) to a sample.
    pub net: Sequential<E>,
    /// The label embedding concatenated to `z` (`concat` conditioning).
    pub embed: Option<Embedding<E>>,
    /// The number of classes of a conditional generator.
    pub num_classes: Option<usize>,
}

impl<E: Element> Generator<E> {
    /// A generator that is `net` alone (unconditional).
    pub fn unconditional(net: Sequential<E>) -> Self {
        Generator {
            net,
            embed: None,
            num_classes: None,
        }
    }

    /// A batch of samples from latents `z: [n, z_dim]` and, for a conditional generator,
    /// one class label per latent (an unconditional one ignores labels).
    ///
    /// # Panics
    /// If a conditional generator gets no labels, or labels out of range.
    pub fn forward<'t>(
        &self,
        tape: &'t Tape<E>,
        z: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        if self.num_classes.is_none() {
            return self.net.forward(tape, z);
        }
        let labels = labels.unwrap_or_else(|| {
            panic!("Generator: a class-conditional generator needs one label per latent")
        });
        let input = match &self.embed {
            Some(embed) => Var::concat(&[z, embed.lookup(tape, labels)], 1),
            None => z,
        };
        self.net.forward_with_labels(tape, input, Some(labels))
    }
}

impl<E: Element> Module<E> for Generator<E> {
    /// `G(z)`; see [`Generator::forward`] for labels.
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        Generator::forward(self, tape, x, None)
    }
    fn forward_with_labels<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        Generator::forward(self, tape, x, labels)
    }
    fn params(&self) -> Vec<Named<E>> {
        let mut p = self.net.params();
        if let Some(embed) = &self.embed {
            p.extend(prefixed("embed", embed.params()));
        }
        p
    }
    fn buffers(&self) -> Vec<Named<E>> {
        self.net.buffers()
    }
    fn set_training(&self, training: bool) {
        self.net.set_training(training);
    }
}

/// What a critic says about a batch.
pub struct CriticOutput<'t, E: Element = f32> {
    /// The critic's value (logit) per sample, `[n, 1]`.
    pub logit: Var<'t, E>,
    /// AC-GAN's class logits per sample, `[n, num_classes]`.
    pub class_logits: Option<Var<'t, E>>,
}

/// `D(x) = ψ(φ(x))`, optionally conditioned on the class:
/// - projection (Miyato & Koyama 2018): `D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩`, the
///   embedding spectrally normalized when the critic is;
/// - AC-GAN (Odena et al. 2017): class logits `classifier(φ(x))` beside the logit.
pub struct Critic<E: Element = f32> {
    /// `φ`: every layer but the last (the features).
    pub trunk: Sequential<E>,
    /// `ψ`: the last layer, features → one logit.
    pub head: Box<dyn Module<E>>,
    /// The class embedding of a projection critic (an `Embedding`, maybe spectrally
    /// normalized), `[num_classes, features]`.
    pub embed: Option<Box<dyn Module<E>>>,
    /// The auxiliary classifier of an AC-GAN critic, features → `num_classes` logits.
    pub classifier: Option<Box<dyn Module<E>>>,
}

impl<E: Element> Critic<E> {
    /// A critic that is `trunk` then `head` (unconditional).
    pub fn unconditional(trunk: Sequential<E>, head: impl Module<E> + 'static) -> Self {
        Critic {
            trunk,
            head: Box::new(head),
            embed: None,
            classifier: None,
        }
    }

    /// The critic's logit on `x` and, for AC-GAN, its class logits; a projection critic
    /// needs the labels (the others ignore them).
    ///
    /// # Panics
    /// If a projection critic gets no labels, or labels out of range.
    pub fn forward<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> CriticOutput<'t, E> {
        let features = self.trunk.forward(tape, x);
        let mut logit = self.head.forward(tape, features);
        if let Some(embed) = &self.embed {
            let labels = labels.unwrap_or_else(|| {
                panic!("Critic: a projection critic needs one label per sample")
            });
            let e = embed.forward(tape, tape.constant(label_tensor(labels)));
            logit = logit + (e * features).sum_axes(&[1], true);
        }
        let class_logits = self.classifier.as_ref().map(|c| c.forward(tape, features));
        CriticOutput {
            logit,
            class_logits,
        }
    }
}

impl<E: Element> Module<E> for Critic<E> {
    /// `D(x)`'s logit; see [`Critic::forward`] for labels and class logits.
    fn forward<'t>(&self, tape: &'t Tape<E>, x: Var<'t, E>) -> Var<'t, E> {
        Critic::forward(self, tape, x, None).logit
    }
    fn forward_with_labels<'t>(
        &self,
        tape: &'t Tape<E>,
        x: Var<'t, E>,
        labels: Option<&[u32]>,
    ) -> Var<'t, E> {
        Critic::forward(self, tape, x, labels).logit
    }
    fn params(&self) -> Vec<Named<E>> {
        self.named(|m| m.params())
    }
    fn buffers(&self) -> Vec<Named<E>> {
        self.named(|m| m.buffers())
    }
    fn set_training(&self, training: bool) {
        self.trunk.set_training(training);
        self.head.set_training(training);
        self.embed.iter().for_each(|m| m.set_training(training));
        self.classifier
            .iter()
            .for_each(|m| m.set_training(training));
    }
}

impl<E: Element> Critic<E> {
    /// `items` of every part, named as one `nn.Sequential` (trunk then head) plus `embed`
    /// and `classifier`.
    fn named(&self, items: impl Fn(&dyn Module<E>) -> Vec<Named<E>>) -> Vec<Named<E>> {
        let mut all = items(&self.trunk);
        all.extend(prefixed(&self.trunk.len().to_string(), items(&*self.head)));
        if let Some(embed) = &self.embed {
            all.extend(prefixed("embed", items(&**embed)));
        }
        if let Some(classifier) = &self.classifier {
            all.extend(prefixed("classifier", items(&**classifier)));
        }
        all
    }
}
