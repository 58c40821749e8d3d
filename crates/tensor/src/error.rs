//! The one error type of the tensor crate: an op refused its operands' shapes or data.

use std::fmt;

/// A shape or data error, naming the op that refused and why (with the shapes involved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The op that refused, e.g. `"matmul"`.
    pub op: &'static str,
    /// What was wrong, with the shapes involved.
    pub message: String,
}

impl ShapeError {
    /// A new error for `op`.
    pub fn new(op: &'static str, message: impl Into<String>) -> Self {
        ShapeError {
            op,
            message: message.into(),
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for ShapeError {}

/// Unwraps a tensor result, panicking with the error's message (op and shapes).
pub(crate) fn or_panic<T>(r: Result<T, ShapeError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
