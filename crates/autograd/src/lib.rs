//! # gantry-autograd: a reverse-mode tape whose backward pass is differentiable
//!
//! A [`Tape`] records every operation on [`Var`]s in creation order (a Wengert list);
//! [`Tape::grad`] sweeps it once in reverse. Every primitive's vector-Jacobian product is
//! written with `Var` operations, so with `create_graph = true` the backward pass is itself
//! recorded and can be differentiated again: gradient penalties (WGAN-GP, R1) just work.
//!
//! It is **not** a layer library (that is `gantry-nn`) and holds no parameters: a tape lives
//! for one training step.
//!
//! Read in this order:
//! 1. [`tape`]: `Tape`, `Var`, leaves and constants.
//! 2. `op.rs`: the closed set of primitives, then one file per family with each forward
//!    and its VJP side by side: `unary.rs`, `binary.rs`, `reduce.rs`, `layout.rs`,
//!    `linalg.rs` (matmul, unfold, fold), `channel.rs` (per-channel affine map and bias),
//!    `index_rows.rs` (rows picked by labels, the embedding lookup, and its scatter-add).
//! 3. [`backward`]: the reverse sweep, in two modes (recorded or not).
//! 4. `composite.rs` and `operators.rs`: ops built from primitives (sub, div, mean, norms).
//! 5. [`conv`]: convolution and transposed convolution composed from unfold/fold + matmul.
//! 6. [`mod@gradcheck`]: numerical checks of first and second derivatives.

#![warn(missing_docs)]

pub mod backward;
mod binary;
mod channel;
mod composite;
pub mod conv;
pub mod gradcheck;
mod index_rows;
mod layout;
mod linalg;
mod op;
mod operators;
mod reduce;
pub mod tape;
mod unary;

pub use conv::{conv2d, conv2d_rectified, conv_transpose2d, ConvOptions};
pub use gradcheck::{gradcheck, gradgradcheck, GradcheckError, Tolerance};
pub use tape::{Tape, Var};
