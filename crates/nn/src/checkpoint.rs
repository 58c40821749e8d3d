//! Checkpoints in the safetensors format: named tensors (a PyTorch-style state dict) plus
//! string metadata, written atomically and validated completely on load.
//!
//! Keys are the hierarchical names of `Module::params` / `buffers` (e.g. `g.0.weight`),
//! so `safetensors.torch.load_file` opens the file as a state dict; optimizer state sits
//! beside them under its own prefix.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use gantry_tensor::{Element, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::module::Named;

/// Why a checkpoint could not be written or used; names the file or key involved.
#[derive(Debug)]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (truncated, corrupt header, …).
    Format {
        /// What is wrong.
        source: String,
    },
    /// A tensor the model needs is not in the file.
    MissingKey {
        /// The tensor's name.
        key: String,
    },
    /// The file holds a tensor the model does not have.
    UnexpectedKey {
        /// The tensor's name.
        key: String,
    },
    /// A tensor has the wrong shape.
    Shape {
        /// The tensor's name.
        key: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor has the wrong element type.
    Dtype {
        /// The tensor's name.
        key: String,
        /// The dtype the model needs.
        expected: String,
        /// The dtype in the file.
        found: String,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CheckpointError::Format { source } => {
                write!(f, "not a valid safetensors checkpoint: {source}")
            }
            CheckpointError::MissingKey { key } => write!(f, "checkpoint has no tensor '{key}'"),
            CheckpointError::UnexpectedKey { key } => {
                write!(f, "checkpoint has an unexpected tensor '{key}'")
            }
            CheckpointError::Shape {
                key,
                expected,
                found,
            } => {
                write!(f, "tensor '{key}' has shape {found:?} in the checkpoint but the model needs {expected:?}")
            }
            CheckpointError::Dtype {
                key,
                expected,
                found,
            } => {
                write!(f, "tensor '{key}' has dtype {found} in the checkpoint but the model needs {expected}")
            }
        }
    }
}

impl std::error::Error for CheckpointError {}

/// One stored tensor: dtype name, shape, little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::View for &Entry {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn dtype_of<E: Element>() -> Dtype {
    if E::DTYPE == "F64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// A set of named tensors and metadata strings, as stored in one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    entries: BTreeMap<String, Entry>,
    metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a tensor under `key` (bit-exact: its bytes are copied).
    pub fn put<E: Element>(&mut self, key: &str, t: &Tensor<E>) {
        let bytes = t
            .to_vec()
            .iter()
            .flat_map(|x| {
                if E::DTYPE == "F64" {
                    x.to_f64().unwrap_or(f64::NAN).to_le_bytes().to_vec()
                } else {
                    x.to_f32().unwrap_or(f32::NAN).to_le_bytes().to_vec()
                }
            })
            .collect();
        self.entries.insert(
            key.to_string(),
            Entry {
                dtype: dtype_of::<E>(),
                shape: t.shape().to_vec(),
                bytes,
            },
        );
    }

    /// Stores every named parameter or buffer under `prefix.name`.
    pub fn put_all<E: Element>(&mut self, prefix: &str, items: &[Named<E>]) {
        for (name, p) in items {
            self.put(&join(prefix, name), &p.value());
        }
    }

    /// Sets a metadata string.
    pub fn set_meta(&mut self, key: &str, value: impl Into<String>) {
        self.metadata.insert(key.to_string(), value.into());
    }

    /// A metadata string.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// The tensor names, sorted.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// Reads a tensor, checking its dtype and (if given) its shape.
    pub fn get<E: Element>(
        &self,
        key: &str,
        shape: Option<&[usize]>,
    ) -> Result<Tensor<E>, CheckpointError> {
        let e = self
            .entries
            .get(key)
            .ok_or_else(|| CheckpointError::MissingKey {
                key: key.to_string(),
            })?;
        if e.dtype != dtype_of::<E>() {
            return Err(CheckpointError::Dtype {
                key: key.into(),
                expected: E::DTYPE.into(),
                found: format!("{:?}", e.dtype),
            });
        }
        if let Some(s) = shape.filter(|s| *s != e.shape.as_slice()) {
            return Err(CheckpointError::Shape {
                key: key.into(),
                expected: s.to_vec(),
                found: e.shape.clone(),
            });
        }
        let data: Vec<E> = if E::DTYPE == "F64" {
            e.bytes
                .chunks_exact(8)
                .map(|b| E::from_f64_lossy(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
                .collect()
        } else {
            e.bytes
                .chunks_exact(4)
                .map(|b| {
                    E::from_f64_lossy(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
                })
                .collect()
        };
        Tensor::try_from_vec(data, &e.shape).map_err(|err| CheckpointError::Format {
            source: format!("{key}: {err}"),
        })
    }

    /// Restores `targets` (full names) from this checkpoint: every key must exist with the
    /// right shape and dtype, and the checkpoint may hold no key outside `targets`.
    /// All checks run before anything is written, so on error nothing has changed.
    pub fn restore<E: Element>(&self, targets: &[Named<E>]) -> Result<(), CheckpointError> {
        let wanted: HashMap<&str, ()> = targets.iter().map(|(n, _)| (n.as_str(), ())).collect();
        if let Some(extra) = self
            .entries
            .keys()
            .find(|k| !wanted.contains_key(k.as_str()))
        {
            return Err(CheckpointError::UnexpectedKey { key: extra.clone() });
        }
        let values = targets
            .iter()
            .map(|(name, p)| self.get::<E>(name, Some(&p.shape())))
            .collect::<Result<Vec<_>, _>>()?;
        for ((_, p), v) in targets.iter().zip(values) {
            p.set(v);
        }
        Ok(())
    }

    /// The safetensors bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let meta = (!meta.is_empty()).then_some(meta);
        safetensors::serialize(self.entries.iter().map(|(k, e)| (k.as_str(), e)), &meta)
            .expect("entries are consistent by construction")
    }

    /// Parses safetensors bytes (every header and length is validated by the format).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Format {
            source: format!("{e:?}"),
        })?;
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Format {
                source: format!("{e:?}"),
            })?;
        let mut entries = BTreeMap::new();
        for (name, view) in st.tensors() {
            let view: TensorView<'_> = view;
            if !matches!(view.dtype(), Dtype::F32 | Dtype::F64) {
                return Err(CheckpointError::Dtype {
                    key: name,
                    expected: "F32 or F64".into(),
                    found: format!("{:?}", view.dtype()),
                });
            }
            if !representable(view.shape()) {
                return Err(CheckpointError::Format {
                    source: format!(
                        "tensor '{name}' has shape {:?}, larger than any array can be",
                        view.shape()
                    ),
                });
            }
            entries.insert(
                name,
                Entry {
                    dtype: view.dtype(),
                    shape: view.shape().to_vec(),
                    bytes: view.data().to_vec(),
                },
            );
        }
        let metadata = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(Checkpoint { entries, metadata })
    }

    /// Writes the file atomically: to a temporary file in the same directory, flushed to
    /// disk, then renamed over `path`. A crash leaves either the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.into(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|e| match e {
            CheckpointError::Format { source } => CheckpointError::Format {
                source: format!("{}: {source}", path.display()),
            },
            other => other,
        })
    }
}

/// Whether an array of `shape` can exist: its non-zero axis lengths multiply to at most
/// `isize::MAX` (ndarray's limit, and Rust's for any allocation). The format checks only the
/// byte count, which one zero-length axis makes 0 whatever the other axes say.
fn representable(shape: &[usize]) -> bool {
    shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_some_and(|n| n <= isize::MAX as usize)
}

/// `prefix.name`, or `name` for an empty prefix.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same directory + fsync + rename);
/// on failure the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.into(),
        source,
    };
    let prefix =
        temporary_prefix(path).ok_or_else(|| io(std::io::Error::other("not a file path")))?;
    let tmp = path.with_file_name(format!("{prefix}{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// The name of [`write_atomic`]'s temporary files for `path`, without the process id:
/// `.{file name}.tmp-`.
fn temporary_prefix(path: &Path) -> Option<String> {
    Some(format!(".{}.tmp-", path.file_name()?.to_string_lossy()))
}

/// Removes the temporary files [`write_atomic`] left beside `path` when its process was
/// killed between creating and renaming them (`kill -9` during a save). Call it only while
/// no other process writes `path`: a run directory belongs to one training process.
pub fn remove_stale_temporaries(path: &Path) {
    let Some(prefix) = temporary_prefix(path) else {
        return;
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let stale = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .is_some_and(|pid| pid.parse::<u32>().is_ok());
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
