//! Feature networks: the digits network is the digits judge (same features, bit for bit),
//! the cache is keyed by the data, and the evaluation separates real images from noise,
//! beside a real-vs-real floor; the convolutional classifier and the autoencoder learn.

use std::path::PathBuf;

use gantry_gan::data::digits::Digits;
use gantry_gan::data::ImageSet;
use gantry_gan::metrics::digits_judge::DigitsJudge;
use gantry_gan::metrics::feature_net::Objective;
use gantry_gan::metrics::FeatureNet;
use gantry_nn::Checkpoint;
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn digits_set() -> (Digits, ImageSet) {
    let digits = Digits::load().unwrap();
    let pixels = digits
        .images
        .to_vec()
        .iter()
        .map(|&x| ((x + 1.0) * 8.0).round() as u8)
        .collect();
    let set = ImageSet {
        pixels,
        shape: [digits.labels.len(), 1, 8, 8],
        max_value: 16,
        labels: Some(digits.labels.iter().map(|&l| u32::from(l)).collect()),
        num_classes: 10,
    };
    (digits, set)
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("feature-net-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_digits_network_is_the_digits_judge() {
    let (digits, set) = digits_set();
    assert_eq!(set.to_tensor().unwrap().to_vec(), digits.images.to_vec());
    let (judge, accuracy) = DigitsJudge::train(&digits);
    let net = FeatureNet::train("digits", &set);
    assert_eq!(net.name(), "digits-classifier");
    assert_eq!(net.held_out_score(), accuracy);
    let judged: Vec<f64> = judge
        .features(&digits.images)
        .to_vec()
        .into_iter()
        .map(f64::from)
        .collect();
    assert_eq!(net.features(&digits.images).to_vec(), judged);
}

#[test]
fn the_cache_is_written_once_per_data_and_holds_the_score() {
    let (_, set) = digits_set();
    let dir = scratch("cache");
    let trained = FeatureNet::load_or_train(&dir, "digits", &set).unwrap();
    let path = FeatureNet::cache_path(&dir, "digits", &set);
    assert!(path.is_file(), "{}", path.display());
    let ck = Checkpoint::load(&path).unwrap();
    let stored: f64 = ck.meta("held_out_accuracy").unwrap().parse().unwrap();
    assert_eq!(stored, trained.held_out_score());
    assert!(stored > 0.9, "{stored}");
    // Loaded, not retrained: the file is untouched and the features are the same.
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let loaded = FeatureNet::load_or_train(&dir, "digits", &set).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    let x = set.to_tensor().unwrap();
    assert_eq!(loaded.features(&x).to_vec(), trained.features(&x).to_vec());
    // One pixel or one label changed: another file.
    let mut other = set.clone();
    other.pixels[5] ^= 1;
    assert_ne!(FeatureNet::cache_path(&dir, "digits", &other), path);
    let mut relabelled = set.clone();
    relabelled.labels.as_mut().unwrap()[0] = 9 - relabelled.labels.as_ref().unwrap()[0];
    assert_ne!(FeatureNet::cache_path(&dir, "digits", &relabelled), path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evaluation_separates_real_from_noise_beside_the_floor() {
    let (digits, set) = digits_set();
    let net = FeatureNet::train("digits", &set);
    let real_sample = digits.images.narrow(0, 0, 900);
    let labels: Vec<u32> = set.labels.as_ref().unwrap()[..900].to_vec();
    let noise = Tensor::rand_uniform(
        &[900, 1, 8, 8],
        -1.0,
        1.0,
        &mut ChaCha8Rng::seed_from_u64(1),
    );
    let good = net.evaluate(&real_sample, Some(&labels), &set);
    let bad = net.evaluate(&noise, None, &set);
    assert!(
        bad.scores.fd > 10.0 * good.scores.fd.max(good.floor.fd),
        "{bad:?}\n{good:?}"
    );
    assert!(
        bad.scores.kid.mean > 10.0 * good.scores.kid.mean.abs(),
        "{bad:?}\n{good:?}"
    );
    assert!(
        good.scores.precision > 0.9 && good.scores.recall > 0.9,
        "{good:?}"
    );
    assert!(
        bad.scores.precision < 0.1 && bad.scores.coverage < 0.1,
        "{bad:?}"
    );
    assert!(
        good.floor.precision > 0.8 && good.floor.coverage > 0.8,
        "{good:?}"
    );
    // The real images with their own labels, mostly training images: near-perfect.
    let conditional = good.conditional.as_ref().unwrap();
    assert!(conditional.class_accuracy > 0.95, "{conditional:?}");
    assert!(
        conditional.intra_class_fd < bad.scores.fd,
        "{conditional:?}"
    );
    assert_eq!(
        good.class_histogram.as_ref().unwrap().iter().sum::<usize>(),
        900
    );
    assert!(bad.conditional.is_none());
    let json = good.to_json();
    for key in [
        "fd_digits-classifier",
        "fd_digits-classifier_floor",
        "kid_std_digits-classifier",
        "coverage_digits-classifier_floor",
        "class_accuracy_digits-classifier",
    ] {
        assert!(json.contains_key(key), "{key} missing from {json:?}");
    }
}

/// 12x12 images: class 0 bright on top, class 1 bright at the bottom, plus noise.
fn halves_set(n: usize, labelled: bool) -> ImageSet {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut pixels = Vec::with_capacity(n * 144);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    for &l in &labels {
        for y in 0..12 {
            let bright = (y < 6) == (l == 0);
            pixels.extend((0..12).map(|_| if bright { 200 } else { 40 } + rng.gen_range(0..50u8)));
        }
    }
    ImageSet {
        pixels,
        shape: [n, 1, 12, 12],
        max_value: 255,
        labels: labelled.then_some(labels),
        num_classes: if labelled { 2 } else { 0 },
    }
}

#[test]
fn the_convolutional_classifier_and_the_autoencoder_learn() {
    let classifier = FeatureNet::train("halves", &halves_set(240, true));
    assert_eq!(classifier.objective(), Objective::Classifier(2));
    assert_eq!(classifier.held_out_score(), 1.0);
    let set = halves_set(240, false);
    let autoencoder = FeatureNet::train("halves", &set);
    assert_eq!(autoencoder.name(), "halves-autoencoder");
    // The noise alone has variance (50/255·2)²/12 ≈ 0.0128 per pixel; the halves are learned.
    assert!(
        autoencoder.held_out_score() < 0.02,
        "{}",
        autoencoder.held_out_score()
    );
    let features = autoencoder.features_of(&set);
    assert_eq!(features.shape(), &[240, 128]);
}
