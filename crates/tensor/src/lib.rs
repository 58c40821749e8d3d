//! # gantry-tensor: CPU tensors and the kernels behind them
//!
//! `Tensor<E>` is an immutable n-d array of `f32` (or `f64`, for numerical gradient checks),
//! with the kernels a small GAN needs: elementwise maps with NumPy broadcasting, reductions,
//! shape ops, matrix multiplication on a SIMD GEMM of its own (AVX-512 or AVX2, chosen at run
//! time, see [`simd`]; `matrixmultiply` where both are missing, and for `f64`), and `unfold`/`fold`
//! (im2col/col2im) for convolution.
//!
//! It is **not** an autodiff library: tensors know nothing of gradients. The tape that
//! differentiates them lives in `gantry-autograd`.
//!
//! Read in this order:
//! 1. [`element`]: the two element types and their GEMM ([`gemm`]: our `f32` kernels, on the
//!    [`simd`] path the CPU supports).
//! 2. [`tensor`]: the `Tensor` type, constructors and readers ([`random`] for seeded ones).
//! 3. [`shape`]: pure index math (broadcasting, axes, convolution sizes).
//! 4. [`elementwise`], [`reduce`], [`layout`]: the everyday kernels ([`channel`]: batch
//!    norm's per-channel affine map).
//! 5. [`matmul`] and [`unfold`]: the two kernels that carry the FLOPs, and [`matmul_fold`],
//!    the two fused for a transposed convolution ([`doubling`]: DCGAN's stride-2 fold from
//!    contiguous runs); [`parallel`]: when
//!    work leaves the calling thread; [`gemm::peak`]: the CPU's FMA rate, which no kernel
//!    beats.
//! 6. [`linalg`]: the symmetric eigendecomposition (Jacobi) for small `f64` matrices;
//!    [`index_rows`]: rows picked by label (embedding lookups) and their adjoint.
//!
//! A program that trains with gantry calls [`alloc::keep_freed_memory`] first thing in `main`.
//!
//! ```
//! use gantry_tensor::Tensor;
//!
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
//! let w = Tensor::<f32>::ones(&[3, 1]);
//! assert_eq!(x.matmul(&w).to_vec(), vec![6.0, 15.0]); // row sums
//! assert_eq!(x.add(&Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3])).to_vec()[2], 33.0);
//! assert_eq!(x.t().shape(), &[3, 2]); // a strided view, no copy
//! ```
//!
//! Errors: every op with a `try_` form returns a [`ShapeError`] naming the op and the shapes;
//! the plain form panics with that message.

#![warn(missing_docs)]

pub mod alloc;
pub mod channel;
pub mod doubling;
pub mod element;
pub mod elementwise;
pub mod error;
pub mod gather;
pub mod gemm;
pub mod index_rows;
pub mod layout;
pub mod linalg;
pub mod matmul;
pub mod matmul_bias;
pub mod matmul_fold;
pub mod parallel;
pub mod random;
pub mod rectifier;
pub mod reduce;
pub mod shape;
pub mod simd;
pub mod tanh;
pub mod tensor;
pub mod unfold;
pub mod workers;

pub use element::Element;
pub use error::ShapeError;
pub use matmul::{matmul_flops, matmul_naive};
pub use rectifier::Rectifier;
pub use tensor::Tensor;
pub use unfold::{ColumnLayout, Window2d};
