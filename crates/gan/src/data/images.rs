//! One in-memory image set for every image source (the digits, IDX files, Fashion-MNIST,
//! image folders): pixels kept as `u8` `[n, c, h, w]`, labels optional, converted to `f32`
//! in [−1, 1] only for the images of a batch.
//!
//! Keeping `u8` matters for real data: 10 000 RGB 64x64 images are 123 MB as `u8` and
//! 492 MB as `f32`.

use gantry_tensor::alloc::{try_vec, AllocError};
use gantry_tensor::Tensor;

/// Images as `u8` `[n, c, h, w]`, with optional class labels.
///
/// A pixel `p` stands for `2·p/max_value − 1` in [−1, 1] (`max_value` is 255 for 8-bit
/// images, 16 for the bundled digits, whose pixels count set bits in a 4x4 block).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    /// Row-major pixels, `n·c·h·w` of them.
    pub pixels: Vec<u8>,
    /// `[n, c, h, w]`.
    pub shape: [usize; 4],
    /// The value of a white pixel (maps to +1).
    pub max_value: u8,
    /// One class per image, each `< num_classes`, if the set is labelled.
    pub labels: Option<Vec<u32>>,
    /// The number of classes (0 when unlabelled).
    pub num_classes: usize,
}

impl ImageSet {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// The shape of one image, `[c, h, w]`.
    pub fn image_shape(&self) -> [usize; 3] {
        [self.shape[1], self.shape[2], self.shape[3]]
    }

    /// Pixels per image, `c·h·w`.
    pub fn image_len(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let per = self.image_len();
        &self.pixels[i * per..(i + 1) * per]
    }

    /// The images at `indices` as `f32` `[len, c, h, w]` in [−1, 1]; with `flip[k]` set,
    /// the `k`-th is mirrored left to right. An error if the buffer cannot be allocated.
    pub fn gather(
        &self,
        indices: &[usize],
        flip: Option<&[bool]>,
    ) -> Result<Tensor<f32>, AllocError> {
        let [_, c, h, w] = self.shape;
        let scale = 2.0 / self.max_value as f32;
        let mut out = try_vec(indices.len(), self.image_len())?;
        for (k, &i) in indices.iter().enumerate() {
            let mirrored = flip.is_some_and(|f| f[k]);
            for row in self.image(i).chunks_exact(w) {
                let value = |&p: &u8| p as f32 * scale - 1.0;
                if mirrored {
                    out.extend(row.iter().rev().map(value));
                } else {
                    out.extend(row.iter().map(value));
                }
            }
        }
        Ok(Tensor::from_vec(out, &[indices.len(), c, h, w]))
    }

    /// A set with no images that carries the image shape `[c, h, w]` and the class count
    /// of one: what a generator needs to be built and sampled, from a checkpoint alone.
    pub fn shape_only([c, h, w]: [usize; 3], num_classes: usize) -> ImageSet {
        ImageSet {
            pixels: Vec::new(),
            shape: [0, c, h, w],
            max_value: u8::MAX,
            labels: (num_classes > 0).then(Vec::new),
            num_classes,
        }
    }

    /// Every image as `f32` `[n, c, h, w]` in [−1, 1] (for metrics over the whole set); an
    /// error if the `f32` copy (four times the set's bytes) cannot be allocated.
    pub fn to_tensor(&self) -> Result<Tensor<f32>, AllocError> {
        let all: Vec<usize> = (0..self.len()).collect();
        self.gather(&all, None)
    }

    /// The labels at `indices`, if the set is labelled.
    pub fn labels_at(&self, indices: &[usize]) -> Option<Vec<u32>> {
        self.labels
            .as_ref()
            .map(|l| indices.iter().map(|&i| l[i]).collect())
    }

    /// What the set holds, for a log line: `10000 images 1x28x28, 10 classes` (or
    /// `unlabelled`).
    pub fn summary(&self) -> String {
        let [n, c, h, w] = self.shape;
        let labels = match self.labels {
            Some(_) => format!("{} classes", self.num_classes),
            None => "unlabelled".to_string(),
        };
        format!("{n} images {c}x{h}x{w}, {labels}")
    }
}
