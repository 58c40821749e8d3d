//! Every metric of generated images against a real image set, on the features of one
//! [`FeatureNet`], each beside its real-vs-real floor.
//!
//! - On features: Fréchet distance ([`frechet`](super::frechet)), KID ([`kid`]), improved
//!   precision and recall with k = 3 ([`precision_recall`]), density and coverage with
//!   k = 5 ([`density_coverage`]).
//! - With a classifier: the class histogram of the generated images; and for a conditional
//!   model (labels given with the samples), the share the classifier assigns to the
//!   conditioning class and the intra-class FD (the mean over classes of the FD between the
//!   generated and real images of that class).
//! - The floor: the same metrics between two disjoint halves of the real set (a fixed
//!   shuffle, seed 0), i.e. what a perfect generator would score at half the sample size.
//!   FD and KID are biased upwards at small sample sizes, so the floor of FD is an upper
//!   bound of the perfect score at the full size, not the perfect score itself.
//!
//! Reported as one flat JSON object whose keys carry the feature network's name:
//! `fd_{net}`, `fd_{net}_floor`, `kid_{net}`, `kid_std_{net}`, `precision_{net}`, ….

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use gantry_tensor::Tensor;

use crate::data::ImageSet;
use crate::metrics::density_coverage::{self, density_coverage_with_radii};
use crate::metrics::feature_net::{FeatureNet, Objective};
use crate::metrics::frechet::frechet_distance_of;
use crate::metrics::kid::{self, kernel_inception_distance, Kid};
use crate::metrics::pairwise::{select_rows, NearestNeighbours};
use crate::metrics::precision_recall::{self, precision_recall_with_radii};

/// Seed of KID's subsets and of the real set's split into halves.
const SEED: u64 = 0;

/// The metrics on features of one generated set against one real set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FeatureScores {
    /// Fréchet distance.
    pub fd: f64,
    /// Kernel inception distance (mean and std over subsets).
    pub kid: Kid,
    /// Improved precision (k = 3).
    pub precision: f64,
    /// Improved recall (k = 3).
    pub recall: f64,
    /// Density (k = 5).
    pub density: f64,
    /// Coverage (k = 5).
    pub coverage: f64,
}

impl FeatureScores {
    /// All the metrics of `generated` against `real` (features `[n, d]`, `[m, d]`, each
    /// with more than 5 rows).
    pub fn of(real: &Tensor<f64>, generated: &Tensor<f64>) -> Self {
        let real_nn = NearestNeighbours::of(real, density_coverage::K.max(precision_recall::K));
        let generated_nn = NearestNeighbours::of(generated, precision_recall::K);
        let pr = precision_recall_with_radii(
            real,
            generated,
            &real_nn.radii(precision_recall::K),
            &generated_nn.radii(precision_recall::K),
        );
        let dc = density_coverage_with_radii(
            real,
            generated,
            &real_nn.radii(density_coverage::K),
            density_coverage::K,
        );
        FeatureScores {
            fd: frechet_distance_of(real, generated),
            kid: kernel_inception_distance(real, generated, kid::SUBSETS, kid::MAX_SUBSET, SEED),
            precision: pr.precision,
            recall: pr.recall,
            density: dc.density,
            coverage: dc.coverage,
        }
    }
}

/// The metrics that need class labels on the generated images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionalScores {
    /// Share of generated images the classifier assigns to their conditioning class.
    pub class_accuracy: f64,
    /// Mean over classes of the FD between generated and real images of the class
    /// (classes with fewer than two images on either side are left out).
    pub intra_class_fd: f64,
}

/// What [`FeatureNet::evaluate`] reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageMetrics {
    /// The feature network's name (in every key of the JSON form).
    pub feature_net: String,
    /// Its held-out accuracy (classifier) or reconstruction MSE (autoencoder).
    pub feature_net_held_out: f64,
    /// Generated images evaluated.
    pub n_generated: usize,
    /// Real images compared against.
    pub n_real: usize,
    /// Generated vs real.
    pub scores: FeatureScores,
    /// Half of the real set vs the other half.
    pub floor: FeatureScores,
    /// How many generated images the classifier assigns to each class (classifiers only).
    pub class_histogram: Option<Vec<usize>>,
    /// Conditional metrics, when labels came with the generated images.
    pub conditional: Option<ConditionalScores>,
    /// Their floor: the classifier's held-out accuracy, intra-class FD between the halves.
    pub conditional_floor: Option<ConditionalScores>,
}

impl ImageMetrics {
    /// The flat JSON object described in the module doc.
    pub fn to_json(&self) -> Map<String, Value> {
        let net = &self.feature_net;
        let mut out = Map::new();
        out.insert("feature_net".into(), json!(net));
        let held_out = match self.class_histogram {
            Some(_) => "held_out_accuracy",
            None => "held_out_mse",
        };
        out.insert(
            format!("{held_out}_{net}"),
            json!(self.feature_net_held_out),
        );
        out.insert("n_generated".into(), json!(self.n_generated));
        out.insert("n_real".into(), json!(self.n_real));
        for (suffix, s) in [("", &self.scores), ("_floor", &self.floor)] {
            out.insert(format!("fd_{net}{suffix}"), json!(s.fd));
            out.insert(format!("kid_{net}{suffix}"), json!(s.kid.mean));
            out.insert(format!("kid_std_{net}{suffix}"), json!(s.kid.std));
            out.insert(format!("precision_{net}{suffix}"), json!(s.precision));
            out.insert(format!("recall_{net}{suffix}"), json!(s.recall));
            out.insert(format!("density_{net}{suffix}"), json!(s.density));
            out.insert(format!("coverage_{net}{suffix}"), json!(s.coverage));
        }
        if let Some(h) = &self.class_histogram {
            out.insert(format!("class_histogram_{net}"), json!(h));
        }
        for (suffix, c) in [("", &self.conditional), ("_floor", &self.conditional_floor)] {
            if let Some(c) = c {
                out.insert(
                    format!("class_accuracy_{net}{suffix}"),
                    json!(c.class_accuracy),
                );
                out.insert(
                    format!("intra_class_fd_{net}{suffix}"),
                    json!(c.intra_class_fd),
                );
            }
        }
        out
    }
}

impl Serialize for ImageMetrics {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl FeatureNet {
    /// Every metric of `generated` (`[n, c, h, w]` in [−1, 1], with their conditioning
    /// classes if the model is conditional) against `real`, with the floors.
    pub fn evaluate(
        &self,
        generated: &Tensor<f32>,
        generated_labels: Option<&[u32]>,
        real: &ImageSet,
    ) -> ImageMetrics {
        let real_features = self.features_of(real);
        let generated_features = self.features(generated);
        let (half_a, half_b) = halves(real.len());
        let (features_a, features_b) =
            (rows(&real_features, &half_a), rows(&real_features, &half_b));
        let classifier = matches!(self.objective(), Objective::Classifier(_));
        let predicted = self.predict(generated);
        let class_histogram = classifier.then(|| {
            let mut h = vec![0; real.num_classes];
            predicted.iter().for_each(|&c| h[c as usize] += 1);
            h
        });
        let real_labels = real.labels.as_deref().filter(|_| classifier);
        let (conditional, conditional_floor) = match (generated_labels, real_labels) {
            (Some(wanted), Some(labels)) => {
                let hits = predicted.iter().zip(wanted).filter(|(p, w)| p == w).count();
                let labels_of =
                    |half: &[usize]| half.iter().map(|&i| labels[i]).collect::<Vec<_>>();
                (
                    Some(ConditionalScores {
                        class_accuracy: hits as f64 / wanted.len().max(1) as f64,
                        intra_class_fd: intra_class_fd(
                            &real_features,
                            labels,
                            &generated_features,
                            wanted,
                        ),
                    }),
                    Some(ConditionalScores {
                        class_accuracy: self.held_out_score(),
                        intra_class_fd: intra_class_fd(
                            &features_a,
                            &labels_of(&half_a),
                            &features_b,
                            &labels_of(&half_b),
                        ),
                    }),
                )
            }
            _ => (None, None),
        };
        ImageMetrics {
            feature_net: self.name().to_string(),
            feature_net_held_out: self.held_out_score(),
            n_generated: generated.shape()[0],
            n_real: real.len(),
            scores: FeatureScores::of(&real_features, &generated_features),
            floor: FeatureScores::of(&features_a, &features_b),
            class_histogram,
            conditional,
            conditional_floor,
        }
    }
}

/// Two disjoint halves of `0..n` after a fixed shuffle.
fn halves(n: usize) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SEED));
    let second = order.split_off(n / 2);
    (order, second)
}

/// The rows `indices` of `x` `[n, d]`.
fn rows(x: &Tensor<f64>, indices: &[usize]) -> Tensor<f64> {
    select_rows(&x.to_vec(), x.shape()[1], indices)
}

/// Mean over the classes present on both sides (at least two rows each) of the FD between
/// the rows of each class.
fn intra_class_fd(
    real: &Tensor<f64>,
    real_labels: &[u32],
    generated: &Tensor<f64>,
    generated_labels: &[u32],
) -> f64 {
    let classes = real_labels
        .iter()
        .chain(generated_labels)
        .max()
        .map_or(0, |&c| c as usize + 1);
    let of_class = |labels: &[u32], c: usize| -> Vec<usize> {
        (0..labels.len())
            .filter(|&i| labels[i] as usize == c)
            .collect()
    };
    let distances: Vec<f64> = (0..classes)
        .filter_map(|c| {
            let (r, g) = (of_class(real_labels, c), of_class(generated_labels, c));
            (r.len() >= 2 && g.len() >= 2)
                .then(|| frechet_distance_of(&rows(real, &r), &rows(generated, &g)))
        })
        .collect();
    distances.iter().sum::<f64>() / distances.len().max(1) as f64
}
