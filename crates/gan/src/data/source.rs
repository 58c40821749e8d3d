//! Where training data comes from: a toy distribution, the bundled digits, or IDX files.

use std::path::PathBuf;

use gantry_tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::data::digits::{DataError, Digits};
use crate::data::idx::load_idx_images;
use crate::data::toy::Toy;

/// The `[data]` table of a config: `name = "ring8"` (any [`Toy`], with its fields),
/// `name = "digits"` (the bundled 8x8 digits), or `name = "idx", path = "…"`
/// (an MNIST-style images file, gzipped or not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "toml::Table", into = "toml::Table")]
pub enum DataConfig {
    /// A toy distribution sampled afresh every batch.
    Toy(Toy),
    /// The bundled UCI 8x8 digits (1797 images).
    Digits,
    /// An IDX images file.
    Idx {
        /// Path of the `*-images-idx3-ubyte[.gz]` file.
        path: PathBuf,
    },
}

impl TryFrom<toml::Table> for DataConfig {
    type Error = String;
    fn try_from(t: toml::Table) -> Result<Self, String> {
        let name = t
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or("data.name is missing (e.g. \"ring8\", \"digits\")")?;
        let unexpected = |allowed: &[&str]| {
            t.keys()
                .find(|k| !allowed.contains(&k.as_str()))
                .map(|k| format!("data.{k} is not a field of data \"{name}\""))
        };
        match name {
            "digits" => unexpected(&["name"]).map_or(Ok(DataConfig::Digits), Err),
            "idx" => {
                if let Some(e) = unexpected(&["name", "path"]) {
                    return Err(e);
                }
                let path = t
                    .get("path")
                    .and_then(|v| v.as_str())
                    .ok_or("data.path is missing for data \"idx\"")?;
                Ok(DataConfig::Idx { path: path.into() })
            }
            _ => Toy::deserialize(toml::Value::Table(t))
                .map(DataConfig::Toy)
                .map_err(|e| format!("data: {}", e.message())),
        }
    }
}

impl From<DataConfig> for toml::Table {
    fn from(d: DataConfig) -> toml::Table {
        match d {
            DataConfig::Toy(toy) => match toml::Value::try_from(toy) {
                Ok(toml::Value::Table(t)) => t,
                _ => toml::Table::new(),
            },
            DataConfig::Digits => toml::toml! { name = "digits" },
            DataConfig::Idx { path } => {
                let mut t = toml::Table::new();
                t.insert("name".into(), "idx".into());
                t.insert("path".into(), path.to_string_lossy().into_owned().into());
                t
            }
        }
    }
}

/// Loaded data, ready to sample batches from.
#[derive(Clone, Debug)]
pub enum Data {
    /// A toy distribution.
    Toy(Toy),
    /// A fixed set of samples `[n, …]` (images `[n, 1, h, w]` in [−1, 1]), drawn with
    /// replacement.
    Samples(Tensor<f32>),
}

impl Data {
    /// Loads what the config names (files are read here, and errors name them).
    pub fn load(config: &DataConfig) -> Result<Data, DataError> {
        Ok(match config {
            DataConfig::Toy(t) => Data::Toy(t.clone()),
            DataConfig::Digits => Data::Samples(Digits::load()?.images),
            DataConfig::Idx { path } => Data::Samples(load_idx_images(path)?),
        })
    }

    /// The shape of one sample (`[2]`, `[1]` or `[1, h, w]`).
    pub fn sample_shape(&self) -> Vec<usize> {
        match self {
            Data::Toy(t) => vec![t.dim()],
            Data::Samples(x) => x.shape()[1..].to_vec(),
        }
    }

    /// A batch of `n` samples.
    pub fn batch<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Tensor<f32> {
        match self {
            Data::Toy(t) => t.sample(n, rng),
            Data::Samples(x) => {
                let per = x.len() / x.shape()[0];
                let all = x.as_slice().expect("loaded images are contiguous");
                let mut out = Vec::with_capacity(n * per);
                for _ in 0..n {
                    let i = rng.gen_range(0..x.shape()[0]);
                    out.extend_from_slice(&all[i * per..(i + 1) * per]);
                }
                let mut shape = vec![n];
                shape.extend(self.sample_shape());
                Tensor::from_vec(out, &shape)
            }
        }
    }
}
