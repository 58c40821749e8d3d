//! The `[data]` sources: digits keep their values and draw order, Fashion-MNIST loads from
//! the bundled files or a folder, flips are drawn only when asked for, and every `[data]`
//! table survives a TOML round trip.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use gantry_gan::data::fashion_mnist::FashionMnist;
use gantry_gan::data::{Data, DataConfig, ImageSet, Toy};
use gantry_tensor::Tensor;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gantry-data-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bundled(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file);
    let mut out = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn idx(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(values);
    bytes
}

/// The digits CSV read here, each pixel as the trainer always saw it: `2 v / 16 − 1`.
fn digits_by_hand() -> (Vec<Vec<f32>>, Vec<u32>) {
    let csv = String::from_utf8(bundled("digits.csv.gz")).unwrap();
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for line in csv.lines() {
        let values: Vec<u32> = line.split(',').map(|v| v.trim().parse().unwrap()).collect();
        images.push(
            values[..64]
                .iter()
                .map(|&v| 2.0 * v as f32 / 16.0 - 1.0)
                .collect(),
        );
        labels.push(values[64]);
    }
    (images, labels)
}

#[test]
fn digits_batches_keep_their_values_labels_and_draw_order() {
    let (images, labels) = digits_by_hand();
    let data = Data::load(&DataConfig::Digits).unwrap();
    assert_eq!(data.sample_shape(), [1, 8, 8]);
    assert_eq!(data.num_classes(), 10);
    assert_eq!(
        data.description(),
        "digits: bundled UCI 8x8 digits, 1797 images 1x8x8, 10 classes"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let batch = data.batch(50, &mut rng).unwrap();
    let mut replay = ChaCha8Rng::seed_from_u64(7);
    let drawn: Vec<usize> = (0..50).map(|_| replay.gen_range(0..1797)).collect();
    let expected: Vec<f32> = drawn.iter().flat_map(|&i| images[i].clone()).collect();
    assert_eq!(batch.x.shape(), &[50, 1, 8, 8]);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&batch.x.to_vec()), bits(&expected));
    assert_eq!(
        batch.labels.unwrap(),
        drawn.iter().map(|&i| labels[i]).collect::<Vec<_>>()
    );
    assert_eq!(rng.next_u64(), replay.next_u64(), "nothing else drawn");
}

/// Four 1x3 images `[i, 10 + i, 20 + i]`, labelled `i`.
fn rows() -> ImageSet {
    ImageSet {
        pixels: (0..4).flat_map(|i| [i, 10 + i, 20 + i]).collect(),
        shape: [4, 1, 1, 3],
        max_value: 255,
        labels: Some(vec![0, 1, 2, 3]),
        num_classes: 4,
    }
}

#[test]
fn flip_mirrors_the_samples_it_draws_true_for_and_nothing_else() {
    let data = Data::Images {
        set: rows(),
        flip: true,
        description: String::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let batch = data.batch(64, &mut rng).unwrap();
    let mut replay = ChaCha8Rng::seed_from_u64(3);
    let x = batch.x.to_vec();
    let value = |p: i32| p as f32 * (2.0 / 255.0) - 1.0;
    let mut flipped = 0;
    for k in 0..64 {
        let i = replay.gen_range(0..4usize) as i32;
        let mirror = replay.gen_bool(0.5);
        flipped += usize::from(mirror);
        let mut row = [i, 10 + i, 20 + i].map(value);
        if mirror {
            row.reverse();
        }
        assert_eq!(&x[3 * k..3 * k + 3], &row, "sample {k}");
        assert_eq!(batch.labels.as_ref().unwrap()[k], i as u32);
    }
    assert!((16..=48).contains(&flipped), "{flipped} of 64 flipped");
    assert_eq!(rng.next_u64(), replay.next_u64());

    let plain = Data::Images {
        set: rows(),
        flip: false,
        description: String::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = plain.batch(64, &mut rng).unwrap().x.to_vec();
    let mut replay = ChaCha8Rng::seed_from_u64(3);
    for k in 0..64 {
        let i = replay.gen_range(0..4usize) as i32;
        assert_eq!(&x[3 * k..3 * k + 3], &[i, 10 + i, 20 + i].map(value));
    }
    assert_eq!(rng.next_u64(), replay.next_u64(), "flip off draws no bools");
}

#[test]
fn samples_and_toys_are_unlabelled() {
    let samples = Data::Samples(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    assert_eq!(samples.num_classes(), 0);
    assert!(samples.images().is_none());
    assert_eq!(
        samples
            .batch(3, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap()
            .labels,
        None
    );
    assert_eq!(samples.description(), "2 samples of shape [2]");
    let toy = Data::Toy(Toy::ring8());
    assert_eq!(toy.num_classes(), 0);
    assert_eq!(
        toy.batch(3, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap()
            .x
            .shape(),
        &[3, 2]
    );
    assert_eq!(toy.description(), "ring8: toy distribution");
}

#[test]
fn bundled_fashion_mnist_is_the_test_split_as_stored() {
    let images = bundled("fashion-mnist/t10k-images-idx3-ubyte.gz");
    let labels = bundled("fashion-mnist/t10k-labels-idx1-ubyte.gz");
    let fashion = FashionMnist::bundled().unwrap();
    assert_eq!(
        fashion.description,
        "fashion-mnist: bundled test split, 10000 images 1x28x28, 10 classes"
    );
    let set = fashion.images;
    assert_eq!(
        (set.shape, set.max_value, set.num_classes),
        ([10000, 1, 28, 28], 255, 10)
    );
    assert_eq!(set.pixels, images[16..]);
    let stored: Vec<u32> = labels[8..].iter().map(|&l| u32::from(l)).collect();
    assert_eq!(set.labels.as_ref().unwrap(), &stored);
    // The test split is balanced: 1000 items per class.
    let mut counts = [0; 10];
    stored.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [1000; 10]);

    let data = Data::load(&DataConfig::FashionMnist {
        path: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist")),
        flip: true,
    })
    .unwrap();
    assert_eq!(
        (data.sample_shape(), data.num_classes()),
        (vec![1, 28, 28], 10)
    );
    assert!(data
        .description()
        .starts_with("fashion-mnist: test split from "));
    assert_eq!(data.images().unwrap().pixels, set.pixels);
}

#[test]
fn fashion_mnist_from_a_folder_prefers_its_training_split() {
    let dir = temp_dir("fashion");
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
    write(
        "t10k-images-idx3-ubyte.gz",
        gzip(&idx(0x803, &[1, 2, 2], &[1; 4])),
    );
    write("t10k-labels-idx1-ubyte.gz", gzip(&idx(0x801, &[1], &[4])));
    let test = FashionMnist::load(Some(&dir)).unwrap();
    assert_eq!(
        test.description,
        format!(
            "fashion-mnist: test split from {}, 1 images 1x2x2, 10 classes",
            dir.display()
        )
    );
    write("train-images-idx3-ubyte", idx(0x803, &[2, 2, 2], &[9; 8]));
    write("train-labels-idx1-ubyte", idx(0x801, &[2], &[0, 9]));
    let train = FashionMnist::load(Some(&dir)).unwrap();
    assert!(train.description.starts_with("fashion-mnist: train split"));
    assert_eq!(train.images.labels, Some(vec![0, 9]));

    write("train-labels-idx1-ubyte", idx(0x801, &[2], &[0, 10]));
    let text = FashionMnist::load(Some(&dir)).unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "{}: label 10 of item 1 is not below the number of classes, 10",
            dir.join("train-labels-idx1-ubyte").display()
        )
    );
    let empty = temp_dir("fashion-empty");
    let text = FashionMnist::load(Some(&empty)).unwrap_err().to_string();
    assert!(
        text.starts_with(&format!("{}: ", empty.display())),
        "{text}"
    );
    assert!(text.contains("t10k-images-idx3-ubyte.gz"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn every_data_table_round_trips_through_toml() {
    let configs = [
        DataConfig::Digits,
        DataConfig::Toy(Toy::ring8()),
        DataConfig::Idx {
            path: "a/images.gz".into(),
            labels: None,
            num_classes: None,
            flip: false,
        },
        DataConfig::Idx {
            path: "a/images.gz".into(),
            labels: Some("a/labels.gz".into()),
            num_classes: Some(12),
            flip: true,
        },
        DataConfig::FashionMnist {
            path: None,
            flip: false,
        },
        DataConfig::FashionMnist {
            path: Some("fm".into()),
            flip: true,
        },
        DataConfig::Folder {
            path: "pics".into(),
            size: 64,
            channels: 3,
            flip: true,
        },
    ];
    for config in configs {
        let text = toml::to_string(&config).unwrap();
        let back: DataConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config, "{text}");
    }
    let minimal: DataConfig = toml::from_str("name = \"fashion-mnist\"").unwrap();
    assert_eq!(
        minimal,
        DataConfig::FashionMnist {
            path: None,
            flip: false
        }
    );
}

#[test]
fn bad_data_tables_name_the_field() {
    let cases = [
        (
            "name = \"digits\"\nflip = true",
            "data.flip is not a field of data \"digits\"",
        ),
        (
            "name = \"folder\"\npath = \"p\"\nsize = 8\nchannels = 2",
            "data.channels must be 1 (grey) or 3 (RGB), got 2",
        ),
        (
            "name = \"folder\"\npath = \"p\"\nsize = 0\nchannels = 1",
            "data.size must be an integer in 1..=1024, got 0",
        ),
        (
            "name = \"folder\"\npath = \"p\"\nchannels = 1",
            "data.size is missing for data \"folder\"",
        ),
        (
            "name = \"folder\"\nsize = 8\nchannels = 1",
            "data.path is missing for data \"folder\"",
        ),
        (
            "name = \"fashion-mnist\"\nflip = \"yes\"",
            "data.flip must be true or false, got \"yes\"",
        ),
        (
            "name = \"idx\"\npath = \"i\"\nnum_classes = 3",
            "data.num_classes needs data.labels (a labels file)",
        ),
        (
            "name = \"idx\"\npath = \"i\"\nlabels = \"l\"\nnum_classes = -1",
            "data.num_classes must be an integer in 1..=256, got -1",
        ),
        (
            "name = \"idx\"\npath = 3",
            "data.path must be a non-empty string (a path)",
        ),
    ];
    for (text, expected) in cases {
        let error = toml::from_str::<DataConfig>(text).unwrap_err();
        assert!(
            error.message().contains(expected),
            "{text}: {}",
            error.message()
        );
    }
}

/// A batch size no memory can hold is an error naming the bytes, from every kind of data,
/// not an abort of the process (the allocation goes through `try_reserve`).
#[test]
fn a_batch_that_cannot_fit_is_an_error() {
    let huge = 1usize << 50;
    let digits = Data::Images {
        set: gantry_gan::data::digits::Digits::load_set().unwrap(),
        flip: false,
        description: "digits".into(),
    };
    let samples = Data::Samples(Tensor::zeros(&[4, 3]));
    for (data, bytes) in [
        (Data::Toy(Toy::ring8()), huge as u128 * 2 * 4),
        (samples, huge as u128 * 3 * 4),
    ] {
        let err = data
            .batch(huge, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap_err();
        assert_eq!(err.count * err.item_bytes as u128, bytes);
        assert!(err
            .to_string()
            .starts_with(&format!("cannot allocate {bytes} bytes")));
    }
    // Images fail at the indices already: 2⁵⁰ of them, 8 bytes each.
    let err = digits
        .batch(huge, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap_err();
    assert_eq!((err.count, err.item_bytes), (huge as u128, 8));
}

/// A size whose product overflows `usize` is the same error, with the true product.
#[test]
fn a_size_that_overflows_is_an_error() {
    let err = gantry_tensor::alloc::try_vec::<f32>(usize::MAX, 3).unwrap_err();
    assert_eq!(err.count, usize::MAX as u128 * 3);
    assert_eq!(err.item_bytes, 4);
}
