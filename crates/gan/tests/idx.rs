//! IDX files round-trip raw and gzipped, and every malformed file gives a clear error, never a
//! panic or a huge allocation.

use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;
use gantry_gan::data::idx::{
    load_idx_images, load_idx_labels, load_idx_set, parse_idx_images, parse_idx_labels,
    parse_idx_set, DataError, IdxDataset, Split,
};
use proptest::prelude::*;

/// A fresh, empty folder under the system temp dir, unique to this process and call.
fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gantry-idx-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(values);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Three 2x4 images whose bytes count up from 0, with 255 as the last byte.
fn tiny_images() -> (Vec<u8>, Vec<u8>) {
    let mut values: Vec<u8> = (0..24).map(|v| v * 10).collect();
    values[23] = 255;
    (idx(0x803, &[3, 2, 4], &values), values)
}

fn tiny_labels() -> Vec<u8> {
    idx(0x801, &[3], &[7, 0, 9])
}

fn message<T: std::fmt::Debug>(result: Result<T, DataError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn images_round_trip_raw_and_gzipped_through_files_and_bytes() {
    let (file, values) = tiny_images();
    let expected: Vec<f32> = values
        .iter()
        .map(|&v| 2.0 * v as f32 / 255.0 - 1.0)
        .collect();
    let dir = temp_dir("roundtrip");
    let raw = dir.join("images-idx3-ubyte");
    let gz = dir.join("images-idx3-ubyte.gz");
    std::fs::write(&raw, &file).unwrap();
    std::fs::write(&gz, gzip(&file)).unwrap();
    for images in [
        load_idx_images(&raw).unwrap(),
        load_idx_images(&gz).unwrap(),
        parse_idx_images(&file).unwrap(),
        parse_idx_images(&gzip(&file)).unwrap(),
    ] {
        assert_eq!(images.shape(), &[3, 1, 2, 4]);
        let got = images.to_vec();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-6, "{g} vs {e}");
        }
        assert_eq!((got[0], got[23]), (-1.0, 1.0));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn labels_round_trip_raw_and_gzipped() {
    let dir = temp_dir("labels");
    let raw = dir.join("labels");
    let gz = dir.join("labels.gz");
    std::fs::write(&raw, tiny_labels()).unwrap();
    std::fs::write(&gz, gzip(&tiny_labels())).unwrap();
    assert_eq!(load_idx_labels(&raw).unwrap(), vec![7, 0, 9]);
    assert_eq!(load_idx_labels(&gz).unwrap(), vec![7, 0, 9]);
    assert_eq!(
        parse_idx_labels(&gzip(&tiny_labels())).unwrap(),
        vec![7, 0, 9]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_folder_in_mnist_layout_loads_by_split() {
    let dir = temp_dir("folder");
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gzip(&tiny_images().0),
    )
    .unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), tiny_labels()).unwrap();
    let train = IdxDataset::load_folder(&dir, Split::Train).unwrap();
    assert_eq!(train.images.shape(), &[3, 1, 2, 4]);
    assert_eq!(train.labels, vec![7, 0, 9]);

    // The other spelling of some mirrors, and a label count that disagrees.
    std::fs::write(dir.join("t10k-images.idx3-ubyte"), tiny_images().0).unwrap();
    std::fs::write(
        dir.join("t10k-labels.idx1-ubyte"),
        idx(0x801, &[2], &[1, 2]),
    )
    .unwrap();
    let text = message(IdxDataset::load_folder(&dir, Split::Test));
    assert!(text.contains("holds 3 images but"), "{text}");
    assert!(text.contains("holds 2 labels"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_file_is_a_not_found_error_naming_the_path() {
    let dir = temp_dir("missing");
    let path = dir.join("nothing-here");
    let error = load_idx_images(&path).unwrap_err();
    assert!(matches!(&error, DataError::Io { error, .. } if error.kind() == ErrorKind::NotFound));
    assert!(error.to_string().contains("nothing-here"), "{error}");

    let error = IdxDataset::load_folder(&dir, Split::Train).unwrap_err();
    assert!(matches!(&error, DataError::Io { error, .. } if error.kind() == ErrorKind::NotFound));
    assert!(
        error.to_string().contains("train-images-idx3-ubyte.gz"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_wrong_magic_number_is_reported_in_hex() {
    let text = message(parse_idx_images(&tiny_labels()));
    assert!(
        text.contains(
            "bad magic number 0x00000801 (expected 0x00000803): this is an IDX label file"
        ),
        "{text}"
    );
    let text = message(parse_idx_labels(&tiny_images().0));
    assert!(text.contains("(expected 0x00000801)"), "{text}");
    // Element type 0x0D (float) instead of 0x08 (unsigned byte).
    let text = message(parse_idx_images(&idx(0xD03, &[1, 1, 1], &[0, 0, 0, 0])));
    assert!(text.contains("bad magic number 0x00000d03"), "{text}");
    assert!(text.contains("element type 0x0d is not 0x08"), "{text}");
    // A PNG is not an IDX file.
    let text = message(parse_idx_images(b"\x89PNG\r\n\x1a\n________"));
    assert!(text.contains("bad magic number 0x89504e47"), "{text}");
}

#[test]
fn truncated_files_say_how_much_is_missing() {
    let (file, _) = tiny_images();
    let text = message(parse_idx_images(&file[..10]));
    assert!(
        text.contains("holds only 10 bytes, too short for the 16-byte header"),
        "{text}"
    );
    assert!(message(parse_idx_images(&[])).contains("holds only 0 bytes"));
    let text = message(parse_idx_images(&file[..30]));
    assert!(
        text.contains(
            "header says 3x2x4 = 24 bytes but the file holds 14 after its 16-byte header"
        ),
        "{text}"
    );
    let text = message(parse_idx_images(&gzip(&file[..30])));
    assert!(
        text.contains("the decompressed file holds only 14"),
        "{text}"
    );
}

#[test]
fn extra_bytes_after_the_data_are_rejected() {
    let (mut file, _) = tiny_images();
    file.extend_from_slice(&[1, 2]);
    let text = message(parse_idx_images(&file));
    assert!(
        text.contains("header says 3x2x4 = 24 bytes but the file holds 26"),
        "{text}"
    );
    let text = message(parse_idx_images(&gzip(&file)));
    assert!(text.contains("holds more: trailing bytes"), "{text}");

    let dir = temp_dir("extra");
    let path = dir.join("labels-with-tail");
    let mut labels = tiny_labels();
    labels.push(4);
    std::fs::write(&path, labels).unwrap();
    let text = message(load_idx_labels(&path));
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(
        text.contains("header says 3 = 3 bytes but the file holds 4"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn absurd_headers_are_rejected_before_allocating() {
    let text = message(parse_idx_images(&idx(
        0x803,
        &[u32::MAX, u32::MAX, u32::MAX],
        &[],
    )));
    assert!(text.contains("more than the 2^31 values"), "{text}");
    let text = message(parse_idx_images(&idx(0x803, &[60000, 28, 28], &[0; 4])));
    assert!(
        text.contains("header says 60000x28x28 = 47040000 bytes but the file holds 4"),
        "{text}"
    );
    // Gzipped, the claim cannot be checked against a length: only the bytes present are read.
    let text = message(parse_idx_images(&gzip(&idx(
        0x803,
        &[60000, 28, 28],
        &[0; 4],
    ))));
    assert!(text.contains("decompressed file holds only 4"), "{text}");
    let text = message(parse_idx_labels(&idx(0x801, &[0], &[])));
    assert!(text.contains("header has a zero dimension (0)"), "{text}");
}

#[test]
fn a_gzip_bomb_is_cut_off_at_the_promised_size() {
    // 64 MiB of zeros compress to about 64 KiB; the header promises 16 bytes.
    let mut bomb = idx(0x801, &[16], &[]);
    bomb.resize(bomb.len() + (64 << 20), 0);
    let text = message(parse_idx_labels(&gzip(&bomb)));
    assert!(text.contains("trailing bytes"), "{text}");
}

#[test]
fn corrupt_gzip_is_a_format_error() {
    let mut gz = gzip(&tiny_images().0);
    let middle = gz.len() / 2;
    gz[middle] ^= 0xff;
    gz.truncate(gz.len() - 3);
    let error = parse_idx_images(&gz).unwrap_err();
    assert!(matches!(error, DataError::Format { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("gzip data is corrupt or truncated"),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx_images(&bytes);
        let _ = parse_idx_labels(&bytes);
    }

    #[test]
    fn damaged_files_never_panic(at in 0usize..40, value in any::<u8>(), cut in 0usize..40, zip in any::<bool>()) {
        let (mut file, _) = tiny_images();
        let at = at % file.len();
        file[at] = value;
        file.truncate(file.len() - cut.min(file.len()));
        let raw_len = file.len();
        let bytes = if zip { gzip(&file) } else { file };
        // Whatever was damaged, a success means the header and the length agree.
        if let Ok(images) = parse_idx_images(&bytes) {
            prop_assert_eq!(images.len() + 16, raw_len);
        }
    }
}

#[test]
fn labelled_sets_check_the_labels_against_the_images() {
    let dir = temp_dir("labelled");
    let (images, values) = tiny_images();
    let images_path = dir.join("x-images-idx3-ubyte.gz");
    std::fs::write(&images_path, gzip(&images)).unwrap();
    let labels_path = dir.join("x-labels-idx1-ubyte");
    std::fs::write(&labels_path, tiny_labels()).unwrap();

    let set = load_idx_set(&images_path, Some(&labels_path), None).unwrap();
    assert_eq!((set.shape, set.max_value), ([3, 1, 2, 4], 255));
    assert_eq!(set.pixels, values);
    assert_eq!(set.labels, Some(vec![7, 0, 9]));
    assert_eq!(set.num_classes, 10, "largest label + 1");
    let given = load_idx_set(&images_path, Some(&labels_path), Some(12)).unwrap();
    assert_eq!(given.num_classes, 12);
    let unlabelled = load_idx_set(&images_path, None, None).unwrap();
    assert_eq!((unlabelled.labels, unlabelled.num_classes), (None, 0));
    assert_eq!(
        parse_idx_set(&images, Some(&tiny_labels()), None).unwrap(),
        set
    );

    let text = message(load_idx_set(&images_path, Some(&labels_path), Some(9)));
    assert_eq!(
        text,
        format!(
            "{}: label 9 of item 2 is not below the number of classes, 9",
            labels_path.display()
        )
    );
    std::fs::write(&labels_path, idx(0x801, &[2], &[1, 2])).unwrap();
    let text = message(load_idx_set(&images_path, Some(&labels_path), None));
    assert_eq!(
        text,
        format!(
            "{}: holds 2 labels but {} holds 3 images",
            labels_path.display(),
            images_path.display()
        )
    );
    let text = message(load_idx_set(&images_path, Some(&images_path), None));
    assert!(
        text.starts_with(&images_path.display().to_string()),
        "{text}"
    );
    assert!(text.contains("this is an IDX image file"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
