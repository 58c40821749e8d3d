//! Feature networks trained by gantry, one per data set, for the metrics on features: no
//! download, no Inception network, the same network every time for the same data.
//!
//! - Labelled data: a small classifier (softmax cross-entropy); the features are its
//!   penultimate layer, its predictions give class accuracy and the class histogram.
//! - Unlabelled data: a small autoencoder (mean squared reconstruction error); the features
//!   are its encoder's output.
//!
//! The body depends on the image size: for the 8x8 digits it is the "digits judge" of
//! earlier versions (Flatten, 64 → 128 → 64, ReLU; the same initialization, batches and
//! steps, so digits FD numbers stay comparable); for larger images, stride-2 3x3
//! convolutions (16, 32, 64 channels, ReLU) until the side is at most 8, then a linear layer
//! to 128 features and ReLU.
//!
//! Training is deterministic: ChaCha8 seed 0 for the weights and the batches (drawn with
//! replacement from the training split), Adam. The network is cached in a directory as
//! `{name}-{hash}.safetensors`, where the hash (FNV-1a 64) covers the recipe version, the
//! shape, the pixels and the labels, with its held-out score in the file's metadata.

use std::path::{Path, PathBuf};

use gantry_autograd::Tape;
use gantry_nn::{
    gradients, param_list, prefixed, Adam, Checkpoint, CheckpointError, Conv2d, Flatten, Linear,
    Module, Named, Optimizer, ReLU, Sequential, Tanh,
};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::ImageSet;

/// Changes whenever the architectures or the training recipe change, so that old caches
/// are not reused.
const RECIPE_VERSION: &str = "feature-net-1";
/// Images per forward pass when computing features (bounds the activations' memory).
const FEATURE_BATCH: usize = 500;

/// What the network is trained to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    /// Predict one of this many classes.
    Classifier(usize),
    /// Reconstruct its input.
    Autoencoder,
}

/// How a network is trained: steps of Adam on batches drawn from the training split.
struct Recipe {
    steps: usize,
    batch: usize,
    learning_rate: f64,
}

/// A trained feature network.
pub struct FeatureNet {
    name: String,
    objective: Objective,
    image_shape: [usize; 3],
    body: Sequential,
    head: Sequential,
    features: usize,
    held_out_score: f64,
}

impl FeatureNet {
    /// The network's name, `{dataset}-classifier` or `{dataset}-autoencoder`: part of the
    /// name of every metric computed with it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Classifier or autoencoder.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// Width of the feature vector.
    pub fn feature_width(&self) -> usize {
        self.features
    }

    /// The score on the held-out split measured after training: accuracy for a
    /// classifier, mean squared error per pixel (in [−1, 1] units) for an autoencoder.
    pub fn held_out_score(&self) -> f64 {
        self.held_out_score
    }

    /// The file `dir/{name}-{hash}.safetensors` the network for `data` is cached in.
    pub fn cache_path(dir: &Path, dataset: &str, data: &ImageSet) -> PathBuf {
        let objective = objective_of(data);
        dir.join(format!(
            "{}-{:016x}.safetensors",
            net_name(dataset, objective),
            data_hash(data)
        ))
    }

    /// Loads the network for `data` cached in `dir`, or trains it (printing its held-out
    /// score on standard error) and writes the cache. A cache that does not load is
    /// replaced. `dataset` names the data (`"digits"`, `"fashion"`).
    pub fn load_or_train(
        dir: &Path,
        dataset: &str,
        data: &ImageSet,
    ) -> Result<Self, CheckpointError> {
        let path = Self::cache_path(dir, dataset, data);
        if let Some(net) = Self::load(&path, dataset, data) {
            return Ok(net);
        }
        let net = Self::train(dataset, data);
        eprintln!(
            "trained feature network {}: held-out {} {:.4}",
            net.name,
            net.score_name(),
            net.held_out_score
        );
        let mut ck = Checkpoint::new();
        ck.put_all("", &net.named());
        ck.set_meta("feature_net", net.name.clone());
        ck.set_meta(net.score_name(), net.held_out_score.to_string());
        std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
            path: dir.into(),
            source,
        })?;
        ck.save(&path)?;
        Ok(net)
    }

    fn load(path: &Path, dataset: &str, data: &ImageSet) -> Option<Self> {
        let ck = Checkpoint::load(path).ok()?;
        let mut net = Self::untrained(dataset, data, &mut ChaCha8Rng::seed_from_u64(0));
        ck.restore(&net.named()).ok()?;
        net.held_out_score = ck.meta(net.score_name())?.parse().ok()?;
        Some(net)
    }

    fn score_name(&self) -> &'static str {
        match self.objective {
            Objective::Classifier(_) => "held_out_accuracy",
            Objective::Autoencoder => "held_out_mse",
        }
    }

    /// Trains the network for `data` (deterministic; see the module doc).
    pub fn train(dataset: &str, data: &ImageSet) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut net = Self::untrained(dataset, data, &mut rng);
        let recipe = net.recipe();
        let (train, held_out) = split(data);
        let params: Vec<_> = param_list(&net.body)
            .into_iter()
            .chain(param_list(&net.head))
            .collect();
        let mut opt = Optimizer::new(net.named(), recipe.learning_rate, Adam::default());
        for _ in 0..recipe.steps {
            let batch: Vec<usize> = (0..recipe.batch)
                .map(|_| train[rng.gen_range(0..train.len())])
                .collect();
            let grads = {
                let tape = Tape::new();
                let loss = net.loss(&tape, data, &batch);
                gradients(&tape, loss, &params)
            };
            opt.step(&grads);
        }
        net.held_out_score = net.score(data, &held_out);
        net
    }

    fn untrained(dataset: &str, data: &ImageSet, rng: &mut ChaCha8Rng) -> Self {
        let objective = objective_of(data);
        let [c, h, w] = data.image_shape();
        let (body, features) = if [c, h, w] == [1, 8, 8] {
            digits_body(rng)
        } else {
            conv_body(c, h, w, rng)
        };
        let head = match objective {
            Objective::Classifier(classes) => {
                Sequential::new().add(Linear::new(features, classes, rng))
            }
            Objective::Autoencoder => Sequential::new()
                .add(Linear::new(features, c * h * w, rng))
                .add(Tanh),
        };
        FeatureNet {
            name: net_name(dataset, objective),
            objective,
            image_shape: [c, h, w],
            body,
            head,
            features,
            held_out_score: f64::NAN,
        }
    }

    fn recipe(&self) -> Recipe {
        if self.image_shape == [1, 8, 8] {
            // The digits judge's recipe.
            Recipe {
                steps: 600,
                batch: 128,
                learning_rate: 1e-3,
            }
        } else {
            Recipe {
                steps: 800,
                batch: 64,
                learning_rate: 1e-3,
            }
        }
    }

    fn named(&self) -> Vec<Named<f32>> {
        let mut v = prefixed("body", self.body.params());
        v.extend(prefixed("head", self.head.params()));
        v
    }

    /// Cross-entropy of the classes, or the mean squared reconstruction error.
    fn loss<'t>(
        &self,
        tape: &'t Tape<f32>,
        data: &ImageSet,
        batch: &[usize],
    ) -> gantry_autograd::Var<'t, f32> {
        let images = images_at(data, batch);
        let n = batch.len() as f32;
        let x = tape.constant(images.clone());
        let out = self.head.forward(tape, self.body.forward(tape, x));
        match self.objective {
            Objective::Classifier(classes) => {
                let labels = data.labels_at(batch).expect("a classifier has labels");
                let mut y = vec![0f32; batch.len() * classes];
                labels
                    .iter()
                    .enumerate()
                    .for_each(|(r, &l)| y[r * classes + l as usize] = 1.0);
                let y = tape.constant(Tensor::from_vec(y, &[batch.len(), classes]));
                -(out.log_softmax(1) * y).sum() * (1.0 / n)
            }
            Objective::Autoencoder => {
                let target = tape.constant(images.reshape(&[batch.len(), data.image_len()]));
                (out - target).square().sum() * (1.0 / (n * data.image_len() as f32))
            }
        }
    }

    /// Accuracy or mean squared error on the images `indices`.
    fn score(&self, data: &ImageSet, indices: &[usize]) -> f64 {
        match self.objective {
            Objective::Classifier(_) => {
                let labels = data.labels_at(indices).expect("a classifier has labels");
                let predicted = self.predict(&images_at(data, indices));
                let correct = predicted
                    .iter()
                    .zip(&labels)
                    .filter(|(p, l)| **p == **l)
                    .count();
                correct as f64 / indices.len().max(1) as f64
            }
            Objective::Autoencoder => {
                let images = images_at(data, indices);
                let rebuilt = self.forward_head(&images).to_vec();
                let squared: f64 = rebuilt
                    .iter()
                    .zip(images.to_vec())
                    .map(|(r, x)| f64::from(r - x).powi(2))
                    .sum();
                squared / rebuilt.len().max(1) as f64
            }
        }
    }

    /// Features `[n, width]` (`f64`) of images `[n, c, h, w]` in [−1, 1], in batches.
    pub fn features(&self, images: &Tensor<f32>) -> Tensor<f64> {
        let n = images.shape()[0];
        let mut out = Vec::with_capacity(n * self.features);
        for start in (0..n).step_by(FEATURE_BATCH) {
            let batch = images.narrow(0, start, FEATURE_BATCH.min(n - start));
            out.extend(
                self.body_forward(&batch)
                    .to_vec()
                    .into_iter()
                    .map(f64::from),
            );
        }
        Tensor::from_vec(out, &[n, self.features])
    }

    /// Features of every image of `data`.
    pub fn features_of(&self, data: &ImageSet) -> Tensor<f64> {
        let mut out = Vec::with_capacity(data.len() * self.features);
        for start in (0..data.len()).step_by(FEATURE_BATCH) {
            let indices: Vec<usize> = (start..data.len().min(start + FEATURE_BATCH)).collect();
            out.extend(
                self.body_forward(&images_at(data, &indices))
                    .to_vec()
                    .into_iter()
                    .map(f64::from),
            );
        }
        Tensor::from_vec(out, &[data.len(), self.features])
    }

    /// The predicted class of each image (a classifier only; empty for an autoencoder).
    pub fn predict(&self, images: &Tensor<f32>) -> Vec<u32> {
        let Objective::Classifier(classes) = self.objective else {
            return Vec::new();
        };
        let n = images.shape()[0];
        let mut out = Vec::with_capacity(n);
        for start in (0..n).step_by(FEATURE_BATCH) {
            let logits = self.forward_head(&images.narrow(0, start, FEATURE_BATCH.min(n - start)));
            out.extend(logits.to_vec().chunks(classes).map(|r| {
                r.iter()
                    .enumerate()
                    .fold(0, |best, (i, &v)| if v > r[best] { i } else { best })
                    as u32
            }));
        }
        out
    }

    fn body_forward(&self, images: &Tensor<f32>) -> Tensor<f32> {
        let tape = Tape::new();
        tape.no_grad(|| self.body.forward(&tape, tape.constant(images.clone())))
            .value()
    }

    fn forward_head(&self, images: &Tensor<f32>) -> Tensor<f32> {
        let tape = Tape::new();
        tape.no_grad(|| {
            let features = self.body.forward(&tape, tape.constant(images.clone()));
            self.head.forward(&tape, features)
        })
        .value()
    }
}

/// The images `indices` of `data` as `f32`. Only ever called with a training batch, a
/// [`FEATURE_BATCH`] or the held-out split: sizes fixed here, a few megabytes at most.
fn images_at(data: &ImageSet, indices: &[usize]) -> Tensor<f32> {
    data.gather(indices, None)
        .unwrap_or_else(|e| panic!("a feature-net batch: {e}"))
}

fn objective_of(data: &ImageSet) -> Objective {
    match data.labels {
        Some(_) if data.num_classes > 1 => Objective::Classifier(data.num_classes),
        _ => Objective::Autoencoder,
    }
}

fn net_name(dataset: &str, objective: Objective) -> String {
    match objective {
        Objective::Classifier(_) => format!("{dataset}-classifier"),
        Objective::Autoencoder => format!("{dataset}-autoencoder"),
    }
}

/// The digits judge's body: Flatten, Linear 64 → 128, ReLU, Linear 128 → 64, ReLU.
fn digits_body(rng: &mut ChaCha8Rng) -> (Sequential, usize) {
    let body = Sequential::new()
        .add(Flatten)
        .add(Linear::new(64, 128, rng))
        .add(ReLU)
        .add(Linear::new(128, 64, rng))
        .add(ReLU);
    (body, 64)
}

/// Stride-2 3x3 convolutions (16, 32, 64, … channels, ReLU) while the side exceeds 8 (at
/// least one), then Flatten, Linear to 128 and ReLU.
fn conv_body(c: usize, h: usize, w: usize, rng: &mut ChaCha8Rng) -> (Sequential, usize) {
    let (mut body, mut channels, mut side) = (Sequential::new(), c, (h, w));
    let mut width = 16;
    while width == 16 || side.0.max(side.1) > 8 {
        body = body
            .add(Conv2d::new(channels, width, 3, 2, 1, rng))
            .add(ReLU);
        channels = width;
        side = (side.0.div_ceil(2), side.1.div_ceil(2));
        width *= 2;
    }
    let flat = channels * side.0 * side.1;
    let body = body.add(Flatten).add(Linear::new(flat, 128, rng)).add(ReLU);
    (body, 128)
}

/// The training and held-out image indices: for the 1797 digits the judge's split (the
/// first 1500 train), otherwise every sixth image (`i % 6 == 5`) is held out, which keeps
/// class-sorted folders balanced.
fn split(data: &ImageSet) -> (Vec<usize>, Vec<usize>) {
    if data.image_shape() == [1, 8, 8] && data.len() > 1500 {
        return ((0..1500).collect(), (1500..data.len()).collect());
    }
    (0..data.len()).partition(|i| i % 6 != 5)
}

/// FNV-1a (64-bit) over the recipe version, the shape, the white level, the labels and
/// the pixels.
fn data_hash(data: &ImageSet) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(RECIPE_VERSION.as_bytes());
    data.shape
        .iter()
        .for_each(|&s| eat(&(s as u64).to_le_bytes()));
    eat(&[data.max_value]);
    eat(&(data.num_classes as u64).to_le_bytes());
    if let Some(labels) = &data.labels {
        labels.iter().for_each(|l| eat(&l.to_le_bytes()));
    }
    eat(&data.pixels);
    hash
}
