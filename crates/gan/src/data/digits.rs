//! The bundled 8x8 handwritten digits, and [`DataError`], the error of every data loader.
//!
//! The data is the test set of the UCI "Optical Recognition of Handwritten Digits" collection
//! (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), as redistributed by scikit-learn: 1797 images
//! of 8x8 pixels, each pixel the number of set pixels (0..=16) in a 4x4 block of a 32x32
//! bitmap. It ships inside the library (`data/digits.csv.gz`, 57 KB), so an image GAN can be
//! trained offline on a fresh machine in seconds, where MNIST would need a download and
//! minutes per epoch.
//!
//! ```
//! let digits = gantry_gan::data::digits::Digits::load()?;
//! assert_eq!(digits.images.shape(), &[1797, 1, 8, 8]);
//! # Ok::<(), gantry_gan::data::digits::DataError>(())
//! ```

use std::fmt;
use std::io::Read;

use flate2::read::GzDecoder;
use gantry_tensor::alloc::AllocError;
use gantry_tensor::Tensor;

use crate::data::images::ImageSet;

/// The gzipped CSV: one row per image, 64 pixel values in 0..=16 (row-major) then the label.
const BUNDLED_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// The name under which errors in the bundled file are reported.
const BUNDLED_NAME: &str = "bundled data/digits.csv.gz";

/// The decompressed bundled file is about 270 KB; anything past this bound means the
/// embedded bytes are not the file we shipped, so stop reading rather than fill memory.
const MAX_CSV_BYTES: u64 = 4 << 20;

/// Why a data set could not be loaded: which file (or other source) and what was wrong.
///
/// Every loader in this crate ([`Digits`], [`crate::data::idx`]) returns it, so a caller handles
/// one error type whatever the data source. `Display` gives a one-line message that names
/// the source first, e.g. `train-images-idx3-ubyte.gz: bad magic number 0x00000801
/// (expected 0x00000803)`.
#[derive(Debug)]
pub enum DataError {
    /// The source could not be read at all (missing file, no permission, corrupt gzip, ...).
    Io {
        /// The file path, or a description of an in-memory source.
        origin: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The bytes were read but do not follow the format.
    Format {
        /// The file path, or a description of an in-memory source.
        origin: String,
        /// What is wrong, with the line number or byte counts where they help.
        problem: String,
    },
    /// The data does not fit in memory (its `f32` copy could not be allocated).
    TooLarge {
        /// The file path, or a description of an in-memory source.
        origin: String,
        /// The allocation that failed.
        error: AllocError,
    },
}

impl DataError {
    /// A format error in `origin`.
    pub(crate) fn format(origin: &str, problem: impl Into<String>) -> Self {
        DataError::Format {
            origin: origin.to_string(),
            problem: problem.into(),
        }
    }

    /// `origin` is too large for memory.
    pub(crate) fn too_large(origin: &str, error: AllocError) -> Self {
        DataError::TooLarge {
            origin: origin.to_string(),
            error,
        }
    }

    /// A read error in `origin`.
    pub(crate) fn io(origin: &str, error: std::io::Error) -> Self {
        DataError::Io {
            origin: origin.to_string(),
            error,
        }
    }

    /// The file path or source description the error is about.
    pub fn origin(&self) -> &str {
        match self {
            DataError::Io { origin, .. }
            | DataError::Format { origin, .. }
            | DataError::TooLarge { origin, .. } => origin,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { origin, error } => write!(f, "{origin}: cannot read: {error}"),
            DataError::Format { origin, problem } => write!(f, "{origin}: {problem}"),
            DataError::TooLarge { origin, error } => write!(f, "{origin}: {error}"),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { error, .. } => Some(error),
            DataError::Format { .. } => None,
            DataError::TooLarge { error, .. } => Some(error),
        }
    }
}

/// The 8x8 digits: images scaled for a tanh generator, and their class labels.
#[derive(Clone, Debug)]
pub struct Digits {
    /// Shape `[n, 1, 8, 8]`; a pixel value `v` in 0..=16 becomes `2 v / 16 - 1`, so the
    /// images lie in `[-1, 1]`, the range of a generator that ends in tanh. Background is -1.
    pub images: Tensor<f32>,
    /// The class (0..=9) of each image, in the same order.
    pub labels: Vec<u8>,
}

impl Digits {
    /// Side length of an image in pixels.
    pub const SIDE: usize = 8;
    /// Number of classes.
    pub const CLASSES: usize = 10;
    /// Largest pixel value in the file (a count of set pixels in a 4x4 block).
    const MAX_PIXEL: u8 = 16;
    /// Values per CSV row: 64 pixels and a label.
    const FIELDS: usize = Self::SIDE * Self::SIDE + 1;

    /// The 1797 bundled digits (decompressed and parsed on every call, in a few milliseconds).
    ///
    /// # Errors
    /// None in practice: the bundled file is tested. A [`DataError`] would mean the embedded
    /// bytes were damaged.
    pub fn load() -> Result<Digits, DataError> {
        Self::load_set().and_then(|set| Self::from_set(set, BUNDLED_NAME))
    }

    /// The 1797 bundled digits as an [`ImageSet`]: pixels 0..=16 (`max_value` 16, so a
    /// pixel `p` stands for `p/8 − 1`), labelled with 10 classes.
    ///
    /// # Errors
    /// As [`Digits::load`].
    pub fn load_set() -> Result<ImageSet, DataError> {
        let mut csv = Vec::new();
        GzDecoder::new(BUNDLED_CSV_GZ)
            .take(MAX_CSV_BYTES + 1)
            .read_to_end(&mut csv)
            .map_err(|e| DataError::io(BUNDLED_NAME, e))?;
        if csv.len() as u64 > MAX_CSV_BYTES {
            return Err(DataError::format(
                BUNDLED_NAME,
                format!("decompresses to more than {MAX_CSV_BYTES} bytes"),
            ));
        }
        Self::parse_named(&csv, BUNDLED_NAME)
    }

    /// Parses digits from uncompressed CSV text in the bundled file's format.
    ///
    /// One row per line (`\n` or `\r\n`), no header, exactly 65 comma-separated unsigned
    /// integers: 64 pixel values in 0..=16 in row-major order, then the label in 0..=9.
    /// Spaces around a value are allowed; anything else (a missing or extra column, a
    /// fraction, a sign, an empty line before the end) is an error naming the line.
    ///
    /// # Errors
    /// [`DataError::Format`] naming the first bad line and what is wrong with it, or saying
    /// that there are no rows.
    pub fn parse_csv(bytes: &[u8]) -> Result<Digits, DataError> {
        Self::parse_named(bytes, "digits CSV").and_then(|set| Self::from_set(set, "digits CSV"))
    }

    /// The `f32` images and `u8` labels of a parsed set (read from `origin`).
    fn from_set(set: ImageSet, origin: &str) -> Result<Digits, DataError> {
        let labels = set.labels.iter().flatten().map(|&l| l as u8).collect();
        let images = set
            .to_tensor()
            .map_err(|e| DataError::too_large(origin, e))?;
        Ok(Digits { images, labels })
    }

    fn parse_named(bytes: &[u8], origin: &str) -> Result<ImageSet, DataError> {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        let mut lines = bytes.split(|&b| b == b'\n').peekable();
        let mut line_no = 0;
        while let Some(raw_line) = lines.next() {
            line_no += 1;
            let line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
            if line.is_empty() {
                if lines.peek().is_none() {
                    break; // the newline that ends the last row
                }
                return Err(DataError::format(
                    origin,
                    format!("line {line_no}: empty line"),
                ));
            }
            let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
            if fields.len() != Self::FIELDS {
                return Err(DataError::format(
                    origin,
                    format!(
                        "line {line_no}: expected {} comma-separated values (64 pixels and a \
                         label), found {}",
                        Self::FIELDS,
                        fields.len()
                    ),
                ));
            }
            let (label_field, pixel_fields) = fields.split_last().expect("65 fields");
            for (column, field) in pixel_fields.iter().enumerate() {
                let v = parse_uint(field)
                    .ok_or_else(|| not_an_integer(origin, line_no, column + 1, field))?;
                if v > u32::from(Self::MAX_PIXEL) {
                    return Err(DataError::format(
                        origin,
                        format!(
                            "line {line_no}, column {}: pixel value {v} is outside 0..={}",
                            column + 1,
                            Self::MAX_PIXEL
                        ),
                    ));
                }
                pixels.push(v as u8);
            }
            let label = parse_uint(label_field)
                .ok_or_else(|| not_an_integer(origin, line_no, Self::FIELDS, label_field))?;
            if label as usize >= Self::CLASSES {
                return Err(DataError::format(
                    origin,
                    format!("line {line_no}: label {label} is outside 0..=9"),
                ));
            }
            labels.push(label);
        }
        if labels.is_empty() {
            return Err(DataError::format(origin, "holds no rows"));
        }
        Ok(ImageSet {
            pixels,
            shape: [labels.len(), 1, Self::SIDE, Self::SIDE],
            max_value: Self::MAX_PIXEL,
            labels: Some(labels),
            num_classes: Self::CLASSES,
        })
    }
}

/// A decimal number of one to nine ASCII digits (so it cannot overflow), spaces around
/// allowed; `None` otherwise.
fn parse_uint(field: &[u8]) -> Option<u32> {
    let digits = field.trim_ascii();
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0')),
    )
}

fn not_an_integer(origin: &str, line_no: usize, column: usize, field: &[u8]) -> DataError {
    let text = String::from_utf8_lossy(field);
    let shown: String = text.chars().take(24).collect();
    DataError::format(
        origin,
        format!("line {line_no}, column {column}: {shown:?} is not a non-negative integer"),
    )
}
