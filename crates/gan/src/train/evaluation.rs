//! Sample quality during training: mode metrics and Wasserstein distances for toy data, the
//! digits FD for the bundled digits, and for every image data set the feature metrics of
//! `gantry eval` (FD, KID, precision/recall, density/coverage with their real-vs-real
//! floors, class accuracy of a conditional model) on the run's feature network.

use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::data::Data;
use crate::metrics::digits_judge::ImageReport;
use crate::metrics::{mixture_report, sliced_wasserstein, wasserstein1_1d, MixtureReport};
use crate::train::trainer::Trainer;

/// Sample-quality metrics at one step.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    /// Generator steps completed.
    pub step: usize,
    /// Mode coverage and quality, for mixture data.
    pub mixture: Option<MixtureReport>,
    /// Sliced Wasserstein-1 distance to fresh data (2-D data), exact W1 in 1-D.
    pub wasserstein1: Option<f64>,
    /// Digits FD and class coverage, for the bundled digits.
    pub images: Option<ImageReport>,
    /// The feature metrics, for image data once [`Trainer::run`] has its feature network
    /// (keys as `gantry eval`'s: `fd_<network>`, `fd_<network>_floor`, …).
    pub features: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Trainer {
    /// Measures sample quality with `config.eval_samples` samples (fixed noise). Draws
    /// from its own generators, so how often one evaluates does not change training.
    pub fn evaluate(&self) -> Evaluation {
        let n = self.config.eval_samples;
        let samples = self.sample(n, self.config.seed ^ 0x5EED_E7A1);
        let mut eval = Evaluation {
            step: self.step,
            ..Default::default()
        };
        if let Data::Toy(toy) = &self.data {
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ 0xDA7A);
            let data = toy.sample(n, &mut rng);
            // Point masses (σ = 0, a valid toy) have no 3σ ball to count samples in.
            if toy.is_mixture() && toy.std() > 0.0 {
                eval.mixture = Some(mixture_report(&samples, &toy.modes(), toy.std()));
            }
            eval.wasserstein1 = Some(if toy.dim() == 1 {
                let to64 =
                    |t: &Tensor<f32>| t.to_vec().iter().map(|&x| x as f64).collect::<Vec<_>>();
                wasserstein1_1d(&to64(&samples), &to64(&data))
            } else {
                sliced_wasserstein(&samples, &data, 256, &mut rng)
            });
        }
        if let (Some(judge), Some(real)) = (&self.judge, self.data.images()) {
            // A judge exists only for the 1797 bundled digits: 0.5 MB as f32.
            let real = real.to_tensor().expect("the bundled digits fit in memory");
            eval.images = Some(judge.report(&samples, &real));
        }
        if let (Some(net), Some(real)) = (&self.feature_net, self.data.images()) {
            let labels = self.cycling_labels(n);
            eval.features = Some(net.evaluate(&samples, labels.as_deref(), real).to_json());
        }
        eval
    }
}
