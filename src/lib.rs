//! # gantry: a from-scratch deep-learning engine for training small GANs on a CPU
//!
//! This facade re-exports the four crates, in the order to read them:
//! [`tensor`] (values and kernels) → [`autograd`] (the tape, double backward) →
//! [`nn`] (layers, spectral norm, optimizers, checkpoints) → [`gan`] (objectives,
//! penalties, data, metrics, the trainer). [`lessons`] holds the computations behind the
//! examples; `docs/GUIDE.md` is the guided tour.
//!
//! Training a GAN from a config, step by step:
//!
//! ```
//! use gantry::gan::{TrainConfig, Trainer};
//!
//! let config = TrainConfig::from_toml(
//!     r#"
//!     steps = 3
//!     batch_size = 16
//!     n_critic = 2
//!     objective = "wasserstein"
//!     penalty = { kind = "gradient_penalty", lambda = 10.0 }
//!     [data]
//!     name = "ring8"
//!     [model]
//!     kind = "mlp"
//!     g_hidden = [8]
//!     d_hidden = [8]
//!     "#,
//!     &[],
//! )
//! .unwrap();
//! let mut trainer = Trainer::new(config).unwrap();
//! let started = std::time::Instant::now();
//! let log = trainer.train_step(started).unwrap();
//! assert_eq!(log.step, 1);
//! assert!(log.d_loss.is_finite() && log.penalty.is_some());
//! let samples = trainer.sample(5, 0);
//! assert_eq!(samples.shape(), &[5, 2]);
//! ```

pub use gantry_autograd as autograd;
pub use gantry_gan as gan;
pub use gantry_nn as nn;
pub use gantry_tensor as tensor;
pub mod lessons;
