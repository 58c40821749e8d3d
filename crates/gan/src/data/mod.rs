//! Training data: toy distributions and images.
//!
//! Read in this order:
//! 1. [`toy`]: seeded samplers of the toy distributions (ring8, grid25, ...).
//! 2. [`images`]: [`ImageSet`], the one in-memory form of every image source (`u8`
//!    pixels, optional labels).
//! 3. The image sources: [`digits`] (the bundled 8x8 digits), [`idx`] (MNIST-style IDX
//!    files), [`fashion_mnist`] (bundled or installed), [`folder`] (PNG and JPEG files,
//!    one subfolder per class).
//! 4. [`source`]: the `[data]` table of a config, and the loaded data batches are drawn from.

pub mod digits;
pub mod fashion_mnist;
pub mod folder;
pub mod idx;
pub mod images;
pub mod source;
pub mod toy;

pub use digits::DataError;
pub use images::ImageSet;
pub use source::{Batch, Data, DataConfig};
pub use toy::Toy;
