//! # gantry-nn: layers, spectral normalization, optimizers, checkpoints
//!
//! Parameters are [`Param`]s (shared, mutable tensors with a stable id); a layer's forward
//! pass takes the step's tape and puts its parameters on it with `tape.param(&p)`.
//! Shapes, semantics, default initializations, parameter names and optimizer update rules
//! follow PyTorch, so results and checkpoints transfer.
//!
//! It is **not** a training loop (that is `gantry-gan`'s `Trainer`).
//!
//! Read in this order:
//! 1. [`param`] and [`module`]: `Param`, `Module`, names, `Sequential`.
//! 2. [`init`], [`linear`], [`conv`], [`activation`]: the layers a DCGAN needs.
//! 3. [`batch_norm`], [`layer_norm`]: normalization with train/eval modes.
//! 4. [`embedding`] and [`conditional_batch_norm`]: per-class vectors looked up by label,
//!    and batch norm with a per-class gain and bias (class-conditional GANs).
//! 5. [`weight_layer`] and [`spectral_norm`]: `W/σ(W)` by power iteration.
//! 6. [`optim`]: SGD, Adam/AdamW, RMSprop with PyTorch's exact rules.
//! 7. [`checkpoint`]: safetensors state dicts, atomic writes, validated loads.

#![warn(missing_docs)]

pub mod activation;
pub mod batch_norm;
pub mod checkpoint;
pub mod conditional_batch_norm;
pub mod conv;
pub mod embedding;
pub mod init;
pub mod layer_norm;
pub mod linear;
pub mod module;
pub mod optim;
pub mod param;
pub mod spectral_norm;
pub mod weight_layer;

pub use activation::{Flatten, LeakyReLU, ReLU, Reshape, Sigmoid, Tanh, Upsample};
pub use batch_norm::BatchNorm;
pub use checkpoint::{Checkpoint, CheckpointError};
pub use conditional_batch_norm::ConditionalBatchNorm;
pub use conv::{Conv2d, ConvTranspose2d};
pub use embedding::{label_tensor, Embedding};
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use module::{param_list, prefixed, Module, Named, Sequential};
pub use optim::{Adam, AnyRule, Optimizer, ParamGroup, RmsProp, Rule, Sgd, Update};
pub use param::{freeze, gradients, Param, ParamTape};
pub use spectral_norm::SpectralNorm;
pub use weight_layer::WeightLayer;
