//! gantry: a from-scratch deep-learning engine for training small GANs on a CPU.
pub use gantry_autograd as autograd;
pub use gantry_gan as gan;
pub use gantry_nn as nn;
pub use gantry_tensor as tensor;
pub mod lessons;
