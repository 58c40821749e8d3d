//! What a run is made of, and the loop that trains it.
//!
//! Read in this order:
//! 1. [`models`]: the standard generator and critic architectures.
//! 2. [`config`]: the TOML configuration of a run.
//! 3. [`trainer`]: one training step as Algorithm 1 of WGAN-GP writes it — `n_critic`
//!    critic updates, one generator update, the EMA, the finiteness check.
//! 4. [`evaluation`]: sample quality during training.
//! 5. [`run`]: the run on disk: logs, evaluations, checkpoints, resume.
//! 6. [`memory`]: the bytes a config needs, checked before anything is allocated.
//! 7. [`run_lock`]: one process per run directory.
//! 8. [`error`]: why a run stops early.
//! 9. [`workloads`]: the standard benchmark steps.

pub mod config;
pub mod error;
pub mod evaluation;
pub mod interpolation;
pub mod memory;
pub mod models;
pub mod optim;
pub mod run;
pub mod run_lock;
pub mod trainer;
pub mod workloads;

pub use config::TrainConfig;
pub use error::TrainError;
pub use evaluation::Evaluation;
pub use run::{read_step_log, Event, CHECKPOINT_FILE, JUDGE_FILE, LOG_FILE};
pub use trainer::{StepLog, Trainer};
