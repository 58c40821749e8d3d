//! Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, Zalando; MIT licence): 28x28 grey pictures
//! of clothing in 10 classes, a drop-in replacement for MNIST that GANs find harder.
//!
//! The 10 000-image test split ships inside the library (`data/fashion-mnist/`, 4.4 MB
//! gzipped), so `[data] name = "fashion-mnist"` works offline on a fresh clone. Where the
//! 60 000-image training split is installed (Debian's `dataset-fashion-mnist` puts the IDX
//! files in [`SYSTEM_DIR`]) it is used instead, and `path = DIR` names another folder of
//! IDX files. [`FashionMnist::description`] says which split was loaded.
//!
//! Classes: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt,
//! 7 sneaker, 8 bag, 9 ankle boot ([`CLASS_NAMES`]).

use std::path::Path;

use crate::data::digits::DataError;
use crate::data::idx::{find_file, idx_set, IdxSource, Split};
use crate::data::images::ImageSet;

/// Where Debian's `dataset-fashion-mnist` installs the IDX files.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The names of the 10 classes, by label.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

const BUNDLED_IMAGES: &[u8] = include_bytes!("../../data/fashion-mnist/t10k-images-idx3-ubyte.gz");
const BUNDLED_LABELS: &[u8] = include_bytes!("../../data/fashion-mnist/t10k-labels-idx1-ubyte.gz");

/// Loaded Fashion-MNIST and where it came from.
#[derive(Clone, Debug)]
pub struct FashionMnist {
    /// The images (`[n, 1, 28, 28]`, `max_value` 255) with their labels, 10 classes.
    pub images: ImageSet,
    /// One line for the log: `fashion-mnist: bundled test split, 10000 images 1x28x28,
    /// 10 classes`.
    pub description: String,
}

impl FashionMnist {
    /// The number of classes.
    pub const CLASSES: usize = 10;

    /// Loads from `dir` when given (its training split if present, else its test split),
    /// else from [`SYSTEM_DIR`]'s training split if installed, else the bundled test split.
    ///
    /// # Errors
    /// A [`DataError`] naming `dir` when it holds neither split, or the file that is
    /// unreadable, malformed, of the wrong length or holds a label above 9.
    pub fn load(dir: Option<&Path>) -> Result<FashionMnist, DataError> {
        match dir {
            Some(dir) => {
                let split = if has_split(dir, Split::Train) {
                    Split::Train
                } else {
                    Split::Test
                };
                Self::load_split(dir, split)
            }
            None if has_split(Path::new(SYSTEM_DIR), Split::Train) => {
                Self::load_split(Path::new(SYSTEM_DIR), Split::Train)
            }
            None => Self::bundled(),
        }
    }

    /// The bundled 10 000-image test split.
    ///
    /// # Errors
    /// None in practice: the bundled files are tested.
    pub fn bundled() -> Result<FashionMnist, DataError> {
        let images = idx_set(
            IdxSource::Bytes(
                BUNDLED_IMAGES,
                "bundled data/fashion-mnist/t10k-images-idx3-ubyte.gz",
            ),
            Some(IdxSource::Bytes(
                BUNDLED_LABELS,
                "bundled data/fashion-mnist/t10k-labels-idx1-ubyte.gz",
            )),
            Some(Self::CLASSES),
        )?;
        let description = format!("fashion-mnist: bundled test split, {}", images.summary());
        Ok(FashionMnist {
            images,
            description,
        })
    }

    /// One split from the IDX files in `dir`.
    fn load_split(dir: &Path, split: Split) -> Result<FashionMnist, DataError> {
        let images = find_file(dir, split.prefix(), "images", 3)?;
        let labels = find_file(dir, split.prefix(), "labels", 1)?;
        let images = idx_set(
            IdxSource::File(&images),
            Some(IdxSource::File(&labels)),
            Some(Self::CLASSES),
        )?;
        let name = match split {
            Split::Train => "train",
            Split::Test => "test",
        };
        let description = format!(
            "fashion-mnist: {name} split from {}, {}",
            dir.display(),
            images.summary()
        );
        Ok(FashionMnist {
            images,
            description,
        })
    }
}

/// Whether `dir` holds the image and label files of `split`.
fn has_split(dir: &Path, split: Split) -> bool {
    find_file(dir, split.prefix(), "images", 3).is_ok()
        && find_file(dir, split.prefix(), "labels", 1).is_ok()
}
