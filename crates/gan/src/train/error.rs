//! Why training stopped early.

use std::path::PathBuf;

use gantry_nn::CheckpointError;
use gantry_tensor::alloc::AllocError;

use crate::data::DataError;

/// Why training stopped early.
#[derive(Debug)]
pub enum TrainError {
    /// The config is invalid (names the field).
    Config(String),
    /// The data could not be loaded (names the file).
    Data(DataError),
    /// A checkpoint could not be written or restored.
    Checkpoint(CheckpointError),
    /// Writing the log or creating the run directory failed.
    Io(PathBuf, std::io::Error),
    /// A batch could not be allocated (`what` names the size and the option it comes from).
    Memory {
        /// The request, as `a batch of batch_size = 1000000000000 samples`.
        what: String,
        /// The allocation that failed.
        error: AllocError,
    },
    /// A loss or parameter became NaN or infinite.
    NonFinite {
        /// The step at which it happened.
        step: usize,
        /// Which value (a loss name or a parameter name).
        what: String,
    },
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Config(e) => write!(f, "invalid config: {e}"),
            TrainError::Data(e) => write!(f, "{e}"),
            TrainError::Checkpoint(e) => write!(f, "{e}"),
            TrainError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            TrainError::Memory { what, error } => write!(f, "{what}: {error}"),
            TrainError::NonFinite { step, what } => write!(
                f,
                "training diverged at step {step}: {what} is not finite (NaN or ±inf); \
                 stopped, the last good checkpoint is kept (try a smaller learning rate)"
            ),
        }
    }
}

impl std::error::Error for TrainError {}

/// `v` if it is finite, else the error naming `what` at `step`.
pub(crate) fn finite(v: f64, step: usize, what: &str) -> Result<f64, TrainError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(TrainError::NonFinite {
            step,
            what: what.to_string(),
        })
    }
}
