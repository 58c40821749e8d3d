//! MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST, ...), raw or gzipped, from a user's folder.
//!
//! The IDX format (LeCun et al., the MNIST page) is a big-endian header followed by the raw
//! values:
//!
//! ```text
//! offset  bytes  meaning
//! 0       2      0x0000
//! 2       1      element type: 0x08 = unsigned byte (the only type these files use)
//! 3       1      number of dimensions d: 3 for images (n, h, w), 1 for labels (n)
//! 4       4·d    each dimension as a big-endian u32
//! 4+4·d   Π dims the values, row-major
//! ```
//!
//! so an image file starts with the magic number `0x00000803` and a label file with
//! `0x00000801`. The loaders here check the magic number, that no dimension is zero, and that
//! the values after the header are exactly as many as the header promises. A header is never
//! trusted for an allocation: a raw file's length is compared with the header before any
//! buffer is made, and a gzipped file is decompressed only up to the size the header
//! promises (plus one byte, to notice trailing data), so neither a lying header nor a gzip
//! bomb can exhaust memory. A file is gzipped when it starts with the gzip magic bytes
//! `1f 8b`, whatever its name.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use gantry_tensor::Tensor;

pub use crate::data::digits::DataError;
use crate::data::images::ImageSet;

/// The largest number of values (bytes after the header) a file may declare: 2^31.
///
/// MNIST's training images are 60000·28·28 ≈ 4.7·10^7 bytes; a header claiming more than this
/// is corrupt or hostile, and is rejected before anything is allocated.
pub const MAX_VALUES: u64 = 1 << 31;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Which kind of IDX file a loader expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    /// `0x0000`, type `0x08` (unsigned byte), then the number of dimensions.
    fn magic(self) -> u32 {
        0x0000_0800 | self.ndim() as u32
    }

    fn ndim(self) -> usize {
        match self {
            Kind::Images => 3,
            Kind::Labels => 1,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Images => "image",
            Kind::Labels => "label",
        }
    }
}

/// Reads IDX images (magic `0x00000803`, raw or gzipped) from `path`.
///
/// Returns a tensor of shape `[n, 1, h, w]`; a byte `v` becomes `2 v / 255 - 1`, so the
/// images lie in `[-1, 1]`, the range of a generator that ends in tanh.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read; [`DataError::Format`] if it is not an IDX
/// image file, or its length disagrees with its header. Both name `path`.
pub fn load_idx_images(path: impl AsRef<Path>) -> Result<Tensor<f32>, DataError> {
    let path = path.as_ref();
    let (dims, values) = read_file(path, Kind::Images)?;
    images_tensor(&dims, values, &path.display().to_string())
}

/// Reads IDX labels (magic `0x00000801`, raw or gzipped) from `path`.
///
/// The labels are returned as stored: 0..=9 for MNIST and Fashion-MNIST, but any byte is
/// accepted, since other IDX data sets (EMNIST letters) use other ranges.
///
/// # Errors
/// As [`load_idx_images`], for label files.
pub fn load_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>, DataError> {
    let path = path.as_ref();
    let (_, values) = read_file(path, Kind::Labels)?;
    Ok(values)
}

/// Parses IDX images from bytes in memory (raw or gzipped); as [`load_idx_images`].
///
/// # Errors
/// [`DataError::Format`] for anything but a complete, consistent IDX image file.
pub fn parse_idx_images(bytes: &[u8]) -> Result<Tensor<f32>, DataError> {
    let (dims, values) = read_bytes(bytes, "IDX image bytes", Kind::Images)?;
    images_tensor(&dims, values, "IDX image bytes")
}

/// Parses IDX labels from bytes in memory (raw or gzipped); as [`load_idx_labels`].
///
/// # Errors
/// [`DataError::Format`] for anything but a complete, consistent IDX label file.
pub fn parse_idx_labels(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let (_, values) = read_bytes(bytes, "IDX label bytes", Kind::Labels)?;
    Ok(values)
}

/// Reads IDX images and, if `labels_path` is given, their labels into an [`ImageSet`]
/// (`max_value` 255).
///
/// The label file must hold one label per image. With `num_classes` given, every label
/// must be below it; otherwise the set has `largest label + 1` classes.
///
/// # Errors
/// Those of [`load_idx_images`] and [`load_idx_labels`]; [`DataError::Format`] naming the
/// label file when the counts differ or a label is not below `num_classes`.
pub fn load_idx_set(
    images_path: impl AsRef<Path>,
    labels_path: Option<&Path>,
    num_classes: Option<usize>,
) -> Result<ImageSet, DataError> {
    let labels = labels_path.map(IdxSource::File);
    idx_set(IdxSource::File(images_path.as_ref()), labels, num_classes)
}

/// Parses IDX images and optional labels from bytes in memory; as [`load_idx_set`].
///
/// # Errors
/// As [`load_idx_set`], naming the inputs `IDX image bytes` and `IDX label bytes`.
pub fn parse_idx_set(
    images: &[u8],
    labels: Option<&[u8]>,
    num_classes: Option<usize>,
) -> Result<ImageSet, DataError> {
    let labels = labels.map(|bytes| IdxSource::Bytes(bytes, "IDX label bytes"));
    idx_set(
        IdxSource::Bytes(images, "IDX image bytes"),
        labels,
        num_classes,
    )
}

/// Where an IDX file's bytes are: a path, or memory with a name for messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum IdxSource<'a> {
    /// A file, raw or gzipped.
    File(&'a Path),
    /// Bytes, raw or gzipped, and the name errors give them.
    Bytes(&'a [u8], &'a str),
}

impl IdxSource<'_> {
    fn origin(self) -> String {
        match self {
            IdxSource::File(path) => path.display().to_string(),
            IdxSource::Bytes(_, name) => name.to_string(),
        }
    }

    fn read(self, kind: Kind) -> Result<(Vec<usize>, Vec<u8>), DataError> {
        match self {
            IdxSource::File(path) => read_file(path, kind),
            IdxSource::Bytes(bytes, name) => read_bytes(bytes, name, kind),
        }
    }
}

/// Images and optional labels, checked against each other: one label per image, each
/// below `num_classes` (default: the largest label + 1).
pub(crate) fn idx_set(
    images: IdxSource,
    labels: Option<IdxSource>,
    num_classes: Option<usize>,
) -> Result<ImageSet, DataError> {
    let (dims, values) = images.read(Kind::Images)?;
    let mut set = unlabelled(&dims, values);
    let Some(labels) = labels else {
        return Ok(set);
    };
    let (_, values) = labels.read(Kind::Labels)?;
    let origin = labels.origin();
    if values.len() != set.len() {
        return Err(DataError::format(
            &origin,
            format!(
                "holds {} labels but {} holds {} images",
                values.len(),
                images.origin(),
                set.len()
            ),
        ));
    }
    let largest = values.iter().copied().max().map_or(0, usize::from);
    let classes = num_classes.unwrap_or(largest + 1);
    if let Some(i) = values.iter().position(|&l| usize::from(l) >= classes) {
        return Err(DataError::format(
            &origin,
            format!(
                "label {} of item {i} is not below the number of classes, {classes}",
                values[i]
            ),
        ));
    }
    set.labels = Some(values.into_iter().map(u32::from).collect());
    set.num_classes = classes;
    Ok(set)
}

/// IDX image values `[n, h, w]` as an unlabelled set of 8-bit images.
fn unlabelled(dims: &[usize], values: Vec<u8>) -> ImageSet {
    ImageSet {
        pixels: values,
        shape: [dims[0], 1, dims[1], dims[2]],
        max_value: u8::MAX,
        labels: None,
        num_classes: 0,
    }
}

/// The two halves of the MNIST-style data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (60000 images in MNIST).
    Train,
    /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (10000 images in MNIST).
    Test,
}

impl Split {
    /// The prefix of the split's file names: `train` or `t10k`.
    pub fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Images and their labels from a pair of IDX files.
#[derive(Clone, Debug)]
pub struct IdxDataset {
    /// Shape `[n, 1, h, w]`, values in `[-1, 1]` (see [`load_idx_images`]).
    pub images: Tensor<f32>,
    /// One label per image, as stored in the file.
    pub labels: Vec<u8>,
}

impl IdxDataset {
    /// Loads an image file and a label file, and checks that they hold as many items.
    ///
    /// # Errors
    /// Those of [`load_idx_images`] and [`load_idx_labels`], and [`DataError::Format`] when
    /// the counts differ.
    pub fn load(
        images_path: impl AsRef<Path>,
        labels_path: impl AsRef<Path>,
    ) -> Result<IdxDataset, DataError> {
        let (images_path, labels_path) = (images_path.as_ref(), labels_path.as_ref());
        let images = load_idx_images(images_path)?;
        let labels = load_idx_labels(labels_path)?;
        if images.shape()[0] != labels.len() {
            return Err(DataError::format(
                &images_path.display().to_string(),
                format!(
                    "holds {} images but {} holds {} labels",
                    images.shape()[0],
                    labels_path.display(),
                    labels.len()
                ),
            ));
        }
        Ok(IdxDataset { images, labels })
    }

    /// Loads one split of MNIST or Fashion-MNIST from the folder the files were saved in.
    ///
    /// Looks in `dir` for the names the data sets are distributed under, gzipped or not
    /// (`train-images-idx3-ubyte.gz`, `train-images-idx3-ubyte`, and the
    /// `train-images.idx3-ubyte` spelling of some mirrors; likewise for labels and for the
    /// `t10k` test split). A missing file is an [`DataError::Io`] error of kind
    /// [`io::ErrorKind::NotFound`] that lists the names tried.
    ///
    /// # Errors
    /// That one, and those of [`IdxDataset::load`].
    pub fn load_folder(dir: impl AsRef<Path>, split: Split) -> Result<IdxDataset, DataError> {
        let dir = dir.as_ref();
        let images = find_file(dir, split.prefix(), "images", 3)?;
        let labels = find_file(dir, split.prefix(), "labels", 1)?;
        IdxDataset::load(images, labels)
    }
}

/// The first existing file among the usual spellings of `{prefix}-{what}-idx{d}-ubyte[.gz]`.
pub(crate) fn find_file(
    dir: &Path,
    prefix: &str,
    what: &str,
    ndim: usize,
) -> Result<PathBuf, DataError> {
    let names = [
        format!("{prefix}-{what}-idx{ndim}-ubyte.gz"),
        format!("{prefix}-{what}-idx{ndim}-ubyte"),
        format!("{prefix}-{what}.idx{ndim}-ubyte.gz"),
        format!("{prefix}-{what}.idx{ndim}-ubyte"),
    ];
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            DataError::io(
                &dir.display().to_string(),
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no IDX {what} file here (looked for {})", names.join(", ")),
                ),
            )
        })
}

/// The images read from `origin` as `f32` in [−1, 1].
fn images_tensor(dims: &[usize], values: Vec<u8>, origin: &str) -> Result<Tensor<f32>, DataError> {
    unlabelled(dims, values)
        .to_tensor()
        .map_err(|e| DataError::too_large(origin, e))
}

fn read_file(path: &Path, kind: Kind) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let origin = path.display().to_string();
    let mut file = File::open(path).map_err(|e| DataError::io(&origin, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| DataError::io(&origin, e))?
        .len();
    let mut start = [0u8; 2];
    let got = read_up_to(&mut file, &mut start).map_err(|e| DataError::io(&origin, e))?;
    let reader = BufReader::new(start[..got].chain(file));
    if start[..got] == GZIP_MAGIC {
        read_gzipped(reader, &origin, kind)
    } else {
        read_idx(reader, Some(file_len), &origin, kind)
    }
}

fn read_bytes(bytes: &[u8], origin: &str, kind: Kind) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        read_gzipped(bytes, origin, kind)
    } else {
        read_idx(bytes, Some(bytes.len() as u64), origin, kind)
    }
}

fn read_gzipped(
    compressed: impl Read,
    origin: &str,
    kind: Kind,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    // Errors inside the decoder are corrupt or truncated gzip data: say so, not just
    // "cannot read".
    read_idx(MultiGzDecoder::new(compressed), None, origin, kind).map_err(|e| match e {
        DataError::Io { origin, error } => DataError::Format {
            origin,
            problem: format!("gzip data is corrupt or truncated: {error}"),
        },
        other => other,
    })
}

/// Reads one IDX file from `reader`.
///
/// `total_len` is the stream's length when known (raw files): the header is then checked
/// against it before anything is allocated. Otherwise (gzip) the values are read in growing
/// chunks up to one byte more than the header promises.
fn read_idx(
    mut reader: impl Read,
    total_len: Option<u64>,
    origin: &str,
    kind: Kind,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let header_len = 4 + 4 * kind.ndim();
    let stored = if total_len.is_some() {
        "file"
    } else {
        "decompressed file"
    };
    let mut header = vec![0u8; header_len];
    let got = read_up_to(&mut reader, &mut header).map_err(|e| DataError::io(origin, e))?;
    if got >= 4 {
        check_magic(&header, origin, kind)?;
    }
    if got < header_len {
        return Err(DataError::format(
            origin,
            format!(
                "the {stored} holds only {got} bytes, too short for the {header_len}-byte \
                 header of an IDX {} file",
                kind.noun()
            ),
        ));
    }

    let dims: Vec<u64> = header[4..]
        .chunks_exact(4)
        .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    let shown = dims
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("x");
    if dims.contains(&0) {
        return Err(DataError::format(
            origin,
            format!("header has a zero dimension ({shown})"),
        ));
    }
    // Each factor is below 2^32 and the running product is capped at 2^31 before the next
    // multiplication, so this cannot overflow u64.
    let mut data_len: u64 = 1;
    for &d in &dims {
        data_len *= d;
        if data_len > MAX_VALUES {
            return Err(DataError::format(
                origin,
                format!(
                    "header says {shown}, more than the 2^31 values this loader accepts: \
                     the file is corrupt"
                ),
            ));
        }
    }
    let promise = format!("header says {shown} = {data_len} bytes");

    let values = match total_len {
        Some(total) => {
            let present = total.saturating_sub(header_len as u64);
            if present != data_len {
                return Err(DataError::format(
                    origin,
                    format!(
                        "{promise} but the file holds {present} after its {header_len}-byte \
                         header"
                    ),
                ));
            }
            let mut values = vec![0u8; data_len as usize];
            reader
                .read_exact(&mut values)
                .map_err(|e| DataError::io(origin, e))?;
            values
        }
        None => {
            let mut values = Vec::new();
            reader
                .take(data_len + 1)
                .read_to_end(&mut values)
                .map_err(|e| DataError::io(origin, e))?;
            let present = values.len() as u64;
            if present < data_len {
                return Err(DataError::format(
                    origin,
                    format!(
                        "{promise} but the decompressed file holds only {present} after its \
                         {header_len}-byte header"
                    ),
                ));
            }
            if present > data_len {
                return Err(DataError::format(
                    origin,
                    format!(
                        "{promise} but the decompressed file holds more: trailing bytes after \
                         the data"
                    ),
                ));
            }
            values
        }
    };
    let dims = dims.into_iter().map(|d| d as usize).collect();
    Ok((dims, values))
}

fn check_magic(header: &[u8], origin: &str, kind: Kind) -> Result<(), DataError> {
    let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if magic == kind.magic() {
        return Ok(());
    }
    let other = match kind {
        Kind::Images => Kind::Labels,
        Kind::Labels => Kind::Images,
    };
    let hint = if magic == other.magic() {
        format!(": this is an IDX {} file", other.noun())
    } else if magic >> 16 == 0 && (magic >> 8) & 0xff != 0x08 {
        format!(
            ": element type 0x{:02x} is not 0x08 (unsigned byte)",
            (magic >> 8) & 0xff
        )
    } else {
        String::new()
    };
    Err(DataError::format(
        origin,
        format!(
            "bad magic number 0x{magic:08x} (expected 0x{:08x}){hint}",
            kind.magic()
        ),
    ))
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read (less than
/// `buf.len()` only at the end of the stream).
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
