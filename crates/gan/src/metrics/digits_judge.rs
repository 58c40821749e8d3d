//! "Digits FD": a small classifier, trained by gantry on the bundled digits, whose
//! penultimate features give a Fréchet distance between real and generated 8x8 digits,
//! and whose predictions give the class histogram of generated samples (mode coverage
//! over the 10 classes).
//!
//! Training is deterministic (fixed seed), so every run judges with the same network; the
//! network is cached in the run folder as a safetensors file.

use std::path::Path;

use gantry_autograd::Tape;
use gantry_nn::{
    gradients, param_list, Adam, Checkpoint, Flatten, Linear, Module, Optimizer, ReLU, Sequential,
};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::data::digits::Digits;
use crate::metrics::frechet::frechet_distance_of;

/// Width of the feature layer.
pub const FEATURES: usize = 64;
/// Images used for training; the rest of the 1797 are held out to measure accuracy.
const TRAIN_IMAGES: usize = 1500;

/// The classifier: `body` (64 → 128 → 64 features, ReLU) then `head` (64 → 10 logits).
pub struct DigitsJudge {
    body: Sequential,
    head: Sequential,
}

/// What the judge says about a set of generated images.
#[derive(Clone, Debug, Serialize)]
pub struct ImageReport {
    /// Fréchet distance between the feature Gaussians of generated and real images.
    pub digits_fd: f64,
    /// How many generated images the classifier assigns to each class 0..=9.
    pub class_histogram: Vec<usize>,
    /// Classes that receive at least 1% of the generated images.
    pub classes_covered: usize,
}

impl DigitsJudge {
    fn untrained(rng: &mut ChaCha8Rng) -> Self {
        let body = Sequential::new()
            .add(Flatten)
            .add(Linear::new(64, 128, rng))
            .add(ReLU)
            .add(Linear::new(128, FEATURES, rng))
            .add(ReLU);
        let head = Sequential::new().add(Linear::new(FEATURES, 10, rng));
        DigitsJudge { body, head }
    }

    fn named(&self) -> Vec<gantry_nn::Named<f32>> {
        let mut v = gantry_nn::prefixed("body", self.body.params());
        v.extend(gantry_nn::prefixed("head", self.head.params()));
        v
    }

    /// Trains on the first 1500 digits (softmax cross-entropy, Adam 1e-3, 600 steps of 128,
    /// seed 0) and returns the judge with its accuracy on the 297 held-out digits.
    pub fn train(digits: &Digits) -> (Self, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let judge = Self::untrained(&mut rng);
        let params = param_list(&judge.body)
            .into_iter()
            .chain(param_list(&judge.head))
            .collect::<Vec<_>>();
        let mut opt = Optimizer::new(judge.named(), 1e-3, Adam::default());
        let images = digits.images.as_slice().expect("contiguous");
        for _ in 0..600 {
            let idx: Vec<usize> = (0..128).map(|_| rng.gen_range(0..TRAIN_IMAGES)).collect();
            let x: Vec<f32> = idx
                .iter()
                .flat_map(|&i| images[i * 64..(i + 1) * 64].iter().copied())
                .collect();
            let mut y = vec![0f32; 128 * 10];
            idx.iter()
                .enumerate()
                .for_each(|(r, &i)| y[r * 10 + digits.labels[i] as usize] = 1.0);
            let grads = {
                let tape = Tape::new();
                let x = tape.constant(Tensor::from_vec(x, &[128, 1, 8, 8]));
                let logits = judge.head.forward(&tape, judge.body.forward(&tape, x));
                let loss =
                    -(logits.log_softmax(1) * tape.constant(Tensor::from_vec(y, &[128, 10]))).sum()
                        * (1.0 / 128.0);
                gradients(&tape, loss, &params)
            };
            opt.step(&grads);
        }
        let held_out = digits
            .images
            .narrow(0, TRAIN_IMAGES, digits.labels.len() - TRAIN_IMAGES);
        let predicted = judge.predict(&held_out);
        let correct = predicted
            .iter()
            .zip(&digits.labels[TRAIN_IMAGES..])
            .filter(|(p, &l)| **p == l as usize)
            .count();
        let accuracy = correct as f64 / predicted.len() as f64;
        (judge, accuracy)
    }

    /// Loads the judge cached at `path`, or trains it and writes the cache. A cache that
    /// does not load (corrupt, another architecture) is replaced.
    pub fn load_or_train(path: &Path, digits: &Digits) -> Result<Self, gantry_nn::CheckpointError> {
        let judge = Self::untrained(&mut ChaCha8Rng::seed_from_u64(0));
        if let Ok(ck) = Checkpoint::load(path) {
            if ck.restore(&judge.named()).is_ok() {
                return Ok(judge);
            }
        }
        let (judge, _) = Self::train(digits);
        let mut ck = Checkpoint::new();
        ck.put_all("", &judge.named());
        ck.save(path)?;
        Ok(judge)
    }

    /// Penultimate features `[n, 64]` of images `[n, 1, 8, 8]`.
    pub fn features(&self, images: &Tensor<f32>) -> Tensor<f32> {
        let tape = Tape::new();
        tape.no_grad(|| self.body.forward(&tape, tape.constant(images.clone())))
            .value()
    }

    /// The predicted class of each image.
    pub fn predict(&self, images: &Tensor<f32>) -> Vec<usize> {
        let tape = Tape::new();
        let logits = tape
            .no_grad(|| {
                self.head
                    .forward(&tape, tape.constant(self.features(images)))
            })
            .value();
        logits
            .to_vec()
            .chunks(10)
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold(0, |best, (i, &v)| if v > r[best] { i } else { best })
            })
            .collect()
    }

    /// Digits FD and the class histogram of `generated` against `real`.
    pub fn report(&self, generated: &Tensor<f32>, real: &Tensor<f32>) -> ImageReport {
        let digits_fd = frechet_distance_of(
            &self.features(generated).cast(),
            &self.features(real).cast(),
        );
        let mut class_histogram = vec![0; 10];
        self.predict(generated)
            .into_iter()
            .for_each(|c| class_histogram[c] += 1);
        let n = generated.shape()[0].max(1) as f64;
        let classes_covered = class_histogram
            .iter()
            .filter(|&&c| c as f64 >= 0.01 * n)
            .count();
        ImageReport {
            digits_fd,
            class_histogram,
            classes_covered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_judge_classifies_held_out_digits_and_separates_real_from_noise() {
        let digits = Digits::load().expect("bundled digits");
        let (judge, accuracy) = DigitsJudge::train(&digits);
        assert!(accuracy >= 0.9, "held-out accuracy {accuracy}");
        let real_a = digits.images.narrow(0, 0, 800);
        let real_b = digits.images.narrow(0, 800, 800);
        let noise = Tensor::rand_uniform(
            &[800, 1, 8, 8],
            -1.0,
            1.0,
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        let same = judge.report(&real_a, &real_b);
        let far = judge.report(&noise, &real_b);
        assert!(
            same.digits_fd * 10.0 < far.digits_fd,
            "real/real {} vs noise/real {}",
            same.digits_fd,
            far.digits_fd
        );
        assert_eq!(same.classes_covered, 10);
    }
}
