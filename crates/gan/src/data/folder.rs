//! A folder of PNG and JPEG images, labelled by subfolder as in torchvision's
//! `ImageFolder`:
//!
//! ```text
//! path/                      path/
//!   ankle-boot/  a.png         0001.png
//!   bag/         b.jpg         0002.jpg      (no subfolders: unlabelled)
//!   ...
//! ```
//!
//! Each subfolder of `path` is a class, numbered in the byte order of the folder names
//! (Python's `sorted`, so the labels match torchvision's); its images are the `.png`,
//! `.jpg` and `.jpeg` files directly inside it (other files are skipped). Image files
//! directly in `path` and no subfolders make an unlabelled set; both at once is an error.
//!
//! Every image is decoded by the `image` crate (whatever its size, bit depth, or grey /
//! RGB / alpha mode), converted to grey or RGB (alpha dropped, 16-bit values rounded to
//! 8 bits, grey from RGB as `0.2126 R + 0.7152 G + 0.0722 B`), cropped to its central
//! square, and resized to `size x size` with a triangle (bilinear) filter widened when
//! shrinking, as torchvision's antialiased `Resize`. The set is kept as `u8`.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{ImageFormat, ImageReader, Limits};

use crate::data::digits::DataError;
use crate::data::images::ImageSet;

/// The largest width or height of an image file: larger is refused before decoding.
pub const MAX_SIDE: u32 = 1 << 14;

/// The file extensions read (compared case-insensitively).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Images loaded from a folder, with the names of their classes.
#[derive(Clone, Debug)]
pub struct ImageFolder {
    /// `[n, channels, size, size]`, `max_value` 255; labelled when `path` has class folders.
    pub images: ImageSet,
    /// The class folders' names, by label (empty when unlabelled).
    pub classes: Vec<String>,
}

impl ImageFolder {
    /// Loads every image under `path` as `channels` x `size` x `size` (`channels` 1 or 3).
    ///
    /// # Errors
    /// One [`DataError`] naming the folder or file: `path` missing or not a folder, no
    /// images, image files beside class folders, a class folder without images, a file that
    /// cannot be read or is not a decodable PNG or JPEG.
    pub fn load(path: &Path, size: usize, channels: usize) -> Result<ImageFolder, DataError> {
        let Listing { files, classes } = list(path)?;
        let per_image = channels * size * size;
        let mut pixels = Vec::with_capacity(files.len() * per_image);
        let mut labels = Vec::with_capacity(files.len());
        for (file, label) in &files {
            let origin = file.display().to_string();
            let bytes = fs::read(file).map_err(|e| DataError::io(&origin, e))?;
            pixels.extend(decode_image(&bytes, &origin, size, channels)?);
            labels.push(*label);
        }
        let images = ImageSet {
            pixels,
            shape: [files.len(), channels, size, size],
            max_value: u8::MAX,
            labels: (!classes.is_empty()).then_some(labels),
            num_classes: classes.len(),
        };
        Ok(ImageFolder { images, classes })
    }
}

/// Decodes one PNG or JPEG file's bytes to `channels` x `size` x `size` `u8` pixels
/// (planes in order R, G, B), centre-cropped and resized.
///
/// # Errors
/// A [`DataError::Format`] naming `origin` when the bytes are not a PNG or JPEG, are
/// corrupt or truncated, or the image is wider or taller than [`MAX_SIDE`].
pub fn decode_image(
    bytes: &[u8],
    origin: &str,
    size: usize,
    channels: usize,
) -> Result<Vec<u8>, DataError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DataError::io(origin, e))?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
        return Err(DataError::format(
            origin,
            "is not a PNG or JPEG image (its first bytes are neither signature)",
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| {
        let message = e.to_string().replace('\n', " ");
        DataError::format(origin, format!("cannot decode the image: {message}"))
    })?;
    let side = decoded.width().min(decoded.height());
    let square = decoded.crop_imm(
        (decoded.width() - side) / 2,
        (decoded.height() - side) / 2,
        side,
        side,
    );
    let size = size as u32;
    Ok(match channels {
        1 => resized(square.to_luma8(), size).into_raw(),
        _ => planar(&resized(square.to_rgb8(), size)),
    })
}

/// `image` resized to `size` x `size`, unchanged if it has that size already.
fn resized<P: image::Pixel<Subpixel = u8> + 'static>(
    image: image::ImageBuffer<P, Vec<u8>>,
    size: u32,
) -> image::ImageBuffer<P, Vec<u8>> {
    if image.dimensions() == (size, size) {
        image
    } else {
        imageops::resize(&image, size, size, FilterType::Triangle)
    }
}

/// Interleaved RGB `[h, w, 3]` as planes `[3, h, w]`.
fn planar(rgb: &image::RgbImage) -> Vec<u8> {
    let raw = rgb.as_raw();
    (0..3)
        .flat_map(|c| raw.iter().skip(c).step_by(3).copied())
        .collect()
}

/// The image files of a folder, each with its label, and the class names.
struct Listing {
    /// Every image file and its class (0 when unlabelled), in loading order.
    files: Vec<(PathBuf, u32)>,
    /// The class folders' names, by label (empty: unlabelled).
    classes: Vec<String>,
}

/// The image files under `path` and their classes.
fn list(path: &Path) -> Result<Listing, DataError> {
    let origin = path.display().to_string();
    if !fs::metadata(path)
        .map_err(|e| DataError::io(&origin, e))?
        .is_dir()
    {
        return Err(DataError::format(&origin, "is not a folder"));
    }
    let (folders, images) = entries(path)?;
    match (folders.first(), images.first()) {
        (Some(folder), Some(image)) => Err(DataError::format(
            &origin,
            format!(
                "holds both image files ({}) and class folders ({}): put every image in a \
                 class folder, or no folders beside the images",
                image.display(),
                folder.display()
            ),
        )),
        (None, None) => Err(DataError::format(
            &origin,
            "holds no PNG or JPEG images and no class folders",
        )),
        (None, Some(_)) => Ok(Listing {
            files: images.into_iter().map(|f| (f, 0)).collect(),
            classes: Vec::new(),
        }),
        (Some(_), None) => {
            let mut files = Vec::new();
            let mut classes = Vec::new();
            for (label, folder) in folders.iter().enumerate() {
                let (_, images) = entries(folder)?;
                if images.is_empty() {
                    return Err(DataError::format(
                        &folder.display().to_string(),
                        "class folder holds no PNG or JPEG images",
                    ));
                }
                files.extend(images.into_iter().map(|f| (f, label as u32)));
                let name = folder.file_name().unwrap_or_default();
                classes.push(name.to_string_lossy().into_owned());
            }
            Ok(Listing { files, classes })
        }
    }
}

/// The subfolders and the image files directly in `dir`, each sorted by name.
fn entries(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), DataError> {
    let origin = dir.display().to_string();
    let mut folders = Vec::new();
    let mut images = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| DataError::io(&origin, e))? {
        let path = entry.map_err(|e| DataError::io(&origin, e))?.path();
        if path.is_dir() {
            folders.push(path);
        } else if is_image_name(&path) {
            images.push(path);
        }
    }
    folders.sort();
    images.sort();
    Ok((folders, images))
}

/// Whether the file name ends in `.png`, `.jpg` or `.jpeg`, in any case.
fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
