//! What a run is made of, and the loop that trains it.
//!
//! Read in this order:
//! 1. [`models`]: the standard generator and critic architectures.
//! 2. [`config`]: the TOML configuration of a run.
//! 3. [`trainer`]: the training loop (Algorithm 1 of WGAN-GP), checkpoints and resume.
//! 4. [`workloads`]: the standard benchmark steps.
//! 5. [`memory`]: the bytes a config needs, checked before anything is allocated.
//! 6. [`run_lock`]: one process per run directory.

pub mod config;
pub mod memory;
pub mod models;
pub mod run_lock;
pub mod trainer;
pub mod workloads;

pub use config::TrainConfig;
pub use trainer::{Event, TrainError, Trainer};
