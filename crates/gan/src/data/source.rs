//! Where training data comes from (the `[data]` table of a config), and the loaded data
//! batches are drawn from.
//!
//! ```toml
//! [data]
//! name = "ring8"                      # any toy distribution, with its fields
//! name = "digits"                     # the bundled 8x8 digits, 10 classes
//! name = "fashion-mnist"              # bundled test split, or the installed training split
//! path = "…"                          #   optional: a folder of Fashion-MNIST IDX files
//! name = "idx"                        # MNIST-style IDX files
//! path = "…-images-idx3-ubyte.gz"
//! labels = "…-labels-idx1-ubyte.gz"   #   optional
//! num_classes = 10                    #   optional (default: largest label + 1)
//! name = "folder"                     # PNG / JPEG files, one subfolder per class
//! path = "…"
//! size = 64                           #   images are centre-cropped and resized to size x size
//! channels = 3                        #   1 (grey) or 3 (RGB)
//! flip = true                         # image data but digits: mirror half the samples
//! ```

use std::path::{Path, PathBuf};

use gantry_tensor::alloc::{try_vec, AllocError};
use gantry_tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::data::digits::{DataError, Digits};
use crate::data::fashion_mnist::FashionMnist;
use crate::data::folder::ImageFolder;
use crate::data::idx::load_idx_set;
use crate::data::images::ImageSet;
use crate::data::toy::Toy;

/// The largest `size` of an image folder's images.
pub const MAX_FOLDER_SIZE: usize = 1024;

/// The `[data]` table of a config (see the module documentation for the TOML).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "toml::Table", into = "toml::Table")]
pub enum DataConfig {
    /// A toy distribution sampled afresh every batch.
    Toy(Toy),
    /// The bundled UCI 8x8 digits (1797 images, 10 classes).
    Digits,
    /// An IDX images file, with optional labels.
    Idx {
        /// Path of the `*-images-idx3-ubyte[.gz]` file.
        path: PathBuf,
        /// Path of the matching `*-labels-idx1-ubyte[.gz]` file, if labelled.
        labels: Option<PathBuf>,
        /// The number of classes, if given (default: the largest label + 1).
        num_classes: Option<usize>,
        /// Whether to mirror each sample left to right with probability ½.
        flip: bool,
    },
    /// Fashion-MNIST (see [`FashionMnist::load`] for which split is used).
    FashionMnist {
        /// A folder of Fashion-MNIST IDX files, instead of the installed or bundled ones.
        path: Option<PathBuf>,
        /// Whether to mirror each sample left to right with probability ½.
        flip: bool,
    },
    /// A folder of PNG and JPEG images (see [`ImageFolder`]).
    Folder {
        /// The folder: class subfolders, or the images themselves.
        path: PathBuf,
        /// The side of the square the images are cropped and resized to.
        size: usize,
        /// 1 (grey) or 3 (RGB).
        channels: usize,
        /// Whether to mirror each sample left to right with probability ½.
        flip: bool,
    },
}

impl DataConfig {
    /// The config's `name`.
    pub fn name(&self) -> &'static str {
        match self {
            DataConfig::Toy(toy) => toy.name(),
            DataConfig::Digits => "digits",
            DataConfig::Idx { .. } => "idx",
            DataConfig::FashionMnist { .. } => "fashion-mnist",
            DataConfig::Folder { .. } => "folder",
        }
    }
}

/// Reads the typed fields of a `[data]` table, with errors that name the field.
struct Fields<'a> {
    table: &'a toml::Table,
    name: &'a str,
}

impl Fields<'_> {
    /// An error if the table has a key outside `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        match self.table.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("data.{k} is not a field of data \"{}\"", self.name)),
            None => Ok(()),
        }
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, String> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) if !s.is_empty() => Ok(Some(PathBuf::from(s))),
            Some(_) => Err(format!("data.{key} must be a non-empty string (a path)")),
        }
    }

    fn required_path(&self, key: &str) -> Result<PathBuf, String> {
        self.path(key)?
            .ok_or_else(|| format!("data.{key} is missing for data \"{}\"", self.name))
    }

    fn count(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<Option<usize>, String> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) if range.contains(&(*i as usize)) && *i >= 0 => {
                Ok(Some(*i as usize))
            }
            Some(v) => Err(format!(
                "data.{key} must be an integer in {}..={}, got {v}",
                range.start(),
                range.end()
            )),
        }
    }

    fn required_count(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<usize, String> {
        self.count(key, range)?
            .ok_or_else(|| format!("data.{key} is missing for data \"{}\"", self.name))
    }

    fn flip(&self) -> Result<bool, String> {
        match self.table.get("flip") {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(format!("data.flip must be true or false, got {v}")),
        }
    }
}

impl TryFrom<toml::Table> for DataConfig {
    type Error = String;
    fn try_from(table: toml::Table) -> Result<Self, String> {
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or("data.name is missing (e.g. \"ring8\", \"digits\", \"fashion-mnist\")")?;
        let f = Fields {
            table: &table,
            name,
        };
        match name {
            "digits" => f.only(&["name"]).map(|()| DataConfig::Digits),
            "idx" => {
                f.only(&["name", "path", "labels", "num_classes", "flip"])?;
                let labels = f.path("labels")?;
                let num_classes = f.count("num_classes", 1..=256)?;
                if num_classes.is_some() && labels.is_none() {
                    return Err("data.num_classes needs data.labels (a labels file)".into());
                }
                Ok(DataConfig::Idx {
                    path: f.required_path("path")?,
                    labels,
                    num_classes,
                    flip: f.flip()?,
                })
            }
            "fashion-mnist" => {
                f.only(&["name", "path", "flip"])?;
                Ok(DataConfig::FashionMnist {
                    path: f.path("path")?,
                    flip: f.flip()?,
                })
            }
            "folder" => {
                f.only(&["name", "path", "size", "channels", "flip"])?;
                let channels = f.required_count("channels", 1..=3)?;
                if channels == 2 {
                    return Err("data.channels must be 1 (grey) or 3 (RGB), got 2".into());
                }
                Ok(DataConfig::Folder {
                    path: f.required_path("path")?,
                    size: f.required_count("size", 1..=MAX_FOLDER_SIZE)?,
                    channels,
                    flip: f.flip()?,
                })
            }
            _ => Toy::deserialize(toml::Value::Table(table.clone()))
                .map(DataConfig::Toy)
                .map_err(|e| format!("data: {}", e.message())),
        }
    }
}

impl From<DataConfig> for toml::Table {
    fn from(d: DataConfig) -> toml::Table {
        let mut t = toml::Table::new();
        let name = d.name();
        let path = |p: &Path| toml::Value::from(p.to_string_lossy().into_owned());
        match d {
            DataConfig::Toy(toy) => {
                if let Ok(toml::Value::Table(toy)) = toml::Value::try_from(toy) {
                    t = toy;
                }
                return t;
            }
            DataConfig::Digits => {}
            DataConfig::Idx {
                path: images,
                labels,
                num_classes,
                flip,
            } => {
                t.insert("path".into(), path(&images));
                if let Some(labels) = labels {
                    t.insert("labels".into(), path(&labels));
                }
                if let Some(k) = num_classes {
                    t.insert("num_classes".into(), (k as i64).into());
                }
                insert_flip(&mut t, flip);
            }
            DataConfig::FashionMnist { path: dir, flip } => {
                if let Some(dir) = dir {
                    t.insert("path".into(), path(&dir));
                }
                insert_flip(&mut t, flip);
            }
            DataConfig::Folder {
                path: dir,
                size,
                channels,
                flip,
            } => {
                t.insert("path".into(), path(&dir));
                t.insert("size".into(), (size as i64).into());
                t.insert("channels".into(), (channels as i64).into());
                insert_flip(&mut t, flip);
            }
        }
        t.insert("name".into(), name.into());
        t
    }
}

/// `flip = true` when set; left out when false, its default.
fn insert_flip(t: &mut toml::Table, flip: bool) {
    if flip {
        t.insert("flip".into(), true.into());
    }
}

/// Loaded data, ready to sample batches from.
#[derive(Clone, Debug)]
pub enum Data {
    /// A toy distribution.
    Toy(Toy),
    /// A fixed set of samples `[n, …]` given by the caller (benchmarks, tests), drawn with
    /// replacement, unlabelled.
    Samples(Tensor<f32>),
    /// Images, drawn with replacement and converted to `f32` per batch.
    Images {
        /// The images and their labels.
        set: ImageSet,
        /// Whether each drawn image is mirrored left to right with probability ½.
        flip: bool,
        /// What was loaded, in one line for the log.
        description: String,
    },
}

/// A batch of samples and, for labelled data, their classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `[n, …]` samples (images in [−1, 1]).
    pub x: Tensor<f32>,
    /// The class of each sample, if the data is labelled.
    pub labels: Option<Vec<u32>>,
}

impl Data {
    /// Loads what the config names (files are read here, and errors name them).
    ///
    /// # Errors
    /// A [`DataError`] naming the file or folder that is missing, unreadable or malformed.
    pub fn load(config: &DataConfig) -> Result<Data, DataError> {
        let images = |set: ImageSet, flip: bool, description: String| Data::Images {
            set,
            flip,
            description,
        };
        Ok(match config {
            DataConfig::Toy(t) => Data::Toy(t.clone()),
            DataConfig::Digits => {
                let set = Digits::load_set()?;
                let description = format!("digits: bundled UCI 8x8 digits, {}", set.summary());
                images(set, false, description)
            }
            DataConfig::Idx {
                path,
                labels,
                num_classes,
                flip,
            } => {
                let set = load_idx_set(path, labels.as_deref(), *num_classes)?;
                let description = format!("idx {}: {}", path.display(), set.summary());
                images(set, *flip, description)
            }
            DataConfig::FashionMnist { path, flip } => {
                let loaded = FashionMnist::load(path.as_deref())?;
                images(loaded.images, *flip, loaded.description)
            }
            DataConfig::Folder {
                path,
                size,
                channels,
                flip,
            } => {
                let loaded = ImageFolder::load(path, *size, *channels)?;
                let description = format!("folder {}: {}", path.display(), loaded.images.summary());
                images(loaded.images, *flip, description)
            }
        })
    }

    /// What was loaded, in one line for the log (e.g. `fashion-mnist: bundled test split,
    /// 10000 images 1x28x28, 10 classes`).
    pub fn description(&self) -> String {
        match self {
            Data::Toy(t) => format!("{}: toy distribution", t.name()),
            Data::Samples(x) => format!("{} samples of shape {:?}", x.shape()[0], &x.shape()[1..]),
            Data::Images { description, .. } => description.clone(),
        }
    }

    /// The shape of one sample (`[2]`, `[1]` or `[c, h, w]`).
    pub fn sample_shape(&self) -> Vec<usize> {
        match self {
            Data::Toy(t) => vec![t.dim()],
            Data::Samples(x) => x.shape()[1..].to_vec(),
            Data::Images { set, .. } => set.image_shape().to_vec(),
        }
    }

    /// The number of classes (0 for unlabelled data).
    pub fn num_classes(&self) -> usize {
        match self {
            Data::Images { set, .. } if set.labels.is_some() => set.num_classes,
            _ => 0,
        }
    }

    /// The images, for metrics over the whole set (`None` for toy data and samples).
    pub fn images(&self) -> Option<&ImageSet> {
        match self {
            Data::Images { set, .. } => Some(set),
            _ => None,
        }
    }

    /// A batch of `n` samples drawn with replacement, or the error if its buffer cannot
    /// be allocated (`n` comes from the user).
    ///
    /// Fixed samples and images draw one index per sample (`gen_range`), in order; with
    /// `flip`, each index is followed by one `gen_bool(0.5)`, and nothing else is drawn.
    pub fn batch<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Batch, AllocError> {
        match self {
            Data::Toy(t) => Ok(Batch {
                x: t.try_sample(n, rng)?,
                labels: None,
            }),
            Data::Samples(x) => {
                let per = x.len() / x.shape()[0];
                let all = x.as_slice().expect("loaded samples are contiguous");
                let mut out = try_vec(n, per)?;
                for _ in 0..n {
                    let i = rng.gen_range(0..x.shape()[0]);
                    out.extend_from_slice(&all[i * per..(i + 1) * per]);
                }
                let mut shape = vec![n];
                shape.extend(self.sample_shape());
                Ok(Batch {
                    x: Tensor::from_vec(out, &shape),
                    labels: None,
                })
            }
            Data::Images { set, flip, .. } => {
                let mut indices = try_vec(n, 1)?;
                let mut mirrored = try_vec(if *flip { n } else { 0 }, 1)?;
                for _ in 0..n {
                    indices.push(rng.gen_range(0..set.len()));
                    if *flip {
                        mirrored.push(rng.gen_bool(0.5));
                    }
                }
                Ok(Batch {
                    x: set.gather(&indices, flip.then_some(mirrored.as_slice()))?,
                    labels: set.labels_at(&indices),
                })
            }
        }
    }
}
