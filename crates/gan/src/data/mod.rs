//! Training data: toy distributions and images.
//!
//! Read in this order:
//! 1. [`toy`]: seeded samplers of the toy distributions (ring8, grid25, ...).
//! 2. [`images`]: [`ImageSet`], the one in-memory form of every image source (`u8`
//!    pixels, optional labels).
//! 3. [`digits`] and [`idx`]: image data (the bundled 8x8 digits, MNIST-style IDX files).
//! 4. [`source`]: the `[data]` table of a config, and the loaded data batches are drawn from.

pub mod digits;
pub mod idx;
pub mod images;
pub mod source;
pub mod toy;

pub use digits::DataError;
pub use images::ImageSet;
pub use source::{Data, DataConfig};
pub use toy::Toy;
