//! Image folders: PNG and JPEG files written here on the fly load as `u8` images of the
//! requested size and channels, labelled by class folder in name order; every bad folder or
//! file gives one line naming it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use gantry_gan::data::folder::{decode_image, ImageFolder};
use gantry_gan::data::{Data, DataConfig, DataError};
use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};

/// A fresh, empty folder under the system temp dir, unique to this process and call.
fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gantry-folder-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `side` x `side` grey image whose pixel (x, y) is `base + x + side·y`.
fn ramp(side: u32, base: u8) -> GrayImage {
    GrayImage::from_fn(side, side, |x, y| Luma([base + (x + side * y) as u8]))
}

fn grey(path: &Path, image: &GrayImage) {
    image.save(path).unwrap();
}

fn error(result: Result<ImageFolder, DataError>) -> String {
    let text = result.unwrap_err().to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    text
}

#[test]
fn class_folders_become_labels_in_name_order() {
    let dir = temp_dir("classes");
    for (class, files) in [("zebra", &["b.png", "a.png"][..]), ("ant", &["c.png"][..])] {
        std::fs::create_dir(dir.join(class)).unwrap();
        for (k, file) in files.iter().enumerate() {
            grey(&dir.join(class).join(file), &ramp(4, 10 * k as u8));
        }
    }
    std::fs::write(dir.join("zebra").join("notes.txt"), "skipped").unwrap();
    let folder = ImageFolder::load(&dir, 4, 1).unwrap();
    assert_eq!(folder.classes, ["ant", "zebra"]);
    let set = &folder.images;
    assert_eq!(set.shape, [3, 1, 4, 4]);
    assert_eq!(set.max_value, 255);
    assert_eq!(set.num_classes, 2);
    // ant/c.png, then zebra/a.png (written second, base 10), zebra/b.png (base 0).
    assert_eq!(set.labels, Some(vec![0, 1, 1]));
    let expected: Vec<u8> = (0..16).map(|v| 10 + v).collect();
    assert_eq!(set.image(1), &expected[..]);
    assert_eq!(set.image(2), &(0..16).collect::<Vec<u8>>()[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_directly_in_the_folder_are_unlabelled() {
    let dir = temp_dir("flat");
    grey(&dir.join("1.png"), &ramp(4, 0));
    grey(&dir.join("2.PNG"), &ramp(4, 100));
    let set = ImageFolder::load(&dir, 4, 1).unwrap().images;
    assert_eq!(set.shape, [2, 1, 4, 4]);
    assert_eq!((set.labels.as_ref(), set.num_classes), (None, 0));
    assert_eq!(set.image(1)[0], 100);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rgb_images_are_stored_as_planes() {
    let dir = temp_dir("planes");
    let image = RgbImage::from_fn(2, 2, |x, y| {
        let i = (x + 2 * y) as u8;
        Rgb([i, 10 + i, 20 + i])
    });
    image.save(dir.join("a.png")).unwrap();
    let set = ImageFolder::load(&dir, 2, 3).unwrap().images;
    assert_eq!(set.shape, [1, 3, 2, 2]);
    assert_eq!(set.image(0), &[0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Grey 8-bit, grey 16-bit, RGBA and a wide RGB image in one folder, read as RGB and as
/// grey: every conversion checked against its formula.
#[test]
fn mixed_sizes_and_modes_convert_to_the_requested_channels() {
    let dir = temp_dir("mixed");
    ramp(4, 0).save(dir.join("a-grey8.png")).unwrap();
    let grey16: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(4, 4, |x, _| Luma([[0, 257, 32896, 65535][x as usize]]));
    grey16.save(dir.join("b-grey16.png")).unwrap();
    let rgba = RgbaImage::from_fn(4, 4, |x, y| Rgba([x as u8, y as u8, 7, 255 - 60 * x as u8]));
    rgba.save(dir.join("c-rgba.png")).unwrap();
    // 6 wide, 4 tall: the central 4x4 square is columns 1..5, where red is x.
    let wide = RgbImage::from_fn(6, 4, |x, _| Rgb([x as u8, 50, 50]));
    wide.save(dir.join("d-wide.png")).unwrap();

    let rgb = ImageFolder::load(&dir, 4, 3).unwrap().images;
    assert_eq!(rgb.shape, [4, 3, 4, 4]);
    let ramp_values: Vec<u8> = (0..16).collect();
    for plane in rgb.image(0).chunks(16) {
        assert_eq!(plane, &ramp_values[..], "grey copied to R, G and B");
    }
    // 16-bit v becomes round(v / 257).
    assert_eq!(&rgb.image(1)[..4], &[0, 1, 128, 255]);
    // Alpha dropped: R = x, G = y, B = 7.
    let (r, g, b) = (
        &rgb.image(2)[..16],
        &rgb.image(2)[16..32],
        &rgb.image(2)[32..],
    );
    for i in 0..16 {
        assert_eq!((r[i], g[i], b[i]), ((i % 4) as u8, (i / 4) as u8, 7));
    }
    assert_eq!(&rgb.image(3)[..4], &[1, 2, 3, 4], "centre crop");

    let luma = ImageFolder::load(&dir, 4, 1).unwrap().images;
    assert_eq!(luma.shape, [4, 1, 4, 4]);
    assert_eq!(luma.image(0), &ramp_values[..]);
    assert_eq!(&luma.image(1)[..4], &[0, 1, 128, 255]);
    // Grey from RGB is 0.2126 R + 0.7152 G + 0.0722 B, rounded.
    let weighted = |r: f64, g: f64, b: f64| (0.2126 * r + 0.7152 * g + 0.0722 * b).round() as i32;
    for (i, &v) in luma.image(2).iter().enumerate() {
        let expected = weighted((i % 4) as f64, (i / 4) as f64, 7.0);
        assert!(
            (i32::from(v) - expected).abs() <= 1,
            "pixel {i}: {v} vs {expected}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_are_resized_to_the_requested_size() {
    let dir = temp_dir("resize");
    RgbImage::from_pixel(16, 12, Rgb([200, 100, 0]))
        .save(dir.join("big.png"))
        .unwrap();
    RgbImage::from_pixel(2, 2, Rgb([30, 60, 90]))
        .save(dir.join("small.png"))
        .unwrap();
    let set = ImageFolder::load(&dir, 8, 3).unwrap().images;
    assert_eq!(set.shape, [2, 3, 8, 8]);
    for (image, colour) in [(set.image(0), [200, 100, 0]), (set.image(1), [30, 60, 90])] {
        for (c, plane) in image.chunks(64).enumerate() {
            assert!(plane.iter().all(|&v| v == colour[c]), "{plane:?}");
        }
    }
    // A left-dark, right-light image keeps its sides when shrunk.
    let halves = GrayImage::from_fn(8, 8, |x, _| Luma([if x < 4 { 0 } else { 240 }]));
    let mut png = Vec::new();
    halves
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let small = decode_image(&png, "halves.png", 4, 1).unwrap();
    for row in small.chunks(4) {
        assert_eq!((row[0], row[3]), (0, 240), "{row:?}");
        assert!(row[1] < row[2]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jpeg_files_decode() {
    let dir = temp_dir("jpeg");
    std::fs::create_dir(dir.join("only")).unwrap();
    let image = RgbImage::from_pixel(16, 16, Rgb([180, 40, 90]));
    image.save(dir.join("only").join("x.jpg")).unwrap();
    image.save(dir.join("only").join("y.JPEG")).unwrap();
    let set = ImageFolder::load(&dir, 8, 3).unwrap().images;
    assert_eq!(set.shape, [2, 3, 8, 8]);
    for (c, plane) in set.image(0).chunks(64).enumerate() {
        let want = [180, 40, 90][c];
        // JPEG is lossy: a flat colour comes back within a few levels.
        assert!(plane.iter().all(|&v| v.abs_diff(want) <= 4), "{plane:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn data_config_folder_loads_with_labels_and_a_description() {
    let dir = temp_dir("config");
    for class in ["cat", "dog"] {
        std::fs::create_dir(dir.join(class)).unwrap();
        grey(&dir.join(class).join("a.png"), &ramp(6, 0));
    }
    let config: DataConfig = toml::from_str(&format!(
        "name = \"folder\"\npath = {:?}\nsize = 4\nchannels = 3\n",
        dir.display().to_string()
    ))
    .unwrap();
    let data = Data::load(&config).unwrap();
    assert_eq!(data.sample_shape(), [3, 4, 4]);
    assert_eq!(data.num_classes(), 2);
    assert_eq!(
        data.description(),
        format!("folder {}: 2 images 3x4x4, 2 classes", dir.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_png_is_an_error_naming_the_file() {
    let dir = temp_dir("truncated");
    grey(&dir.join("good.png"), &ramp(8, 0));
    let bytes = std::fs::read(dir.join("good.png")).unwrap();
    let bad = dir.join("cut.png");
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let text = error(ImageFolder::load(&dir, 8, 1));
    assert!(text.starts_with(&bad.display().to_string()), "{text}");
    assert!(text.contains("cannot decode"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_png_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt");
    grey(&dir.join("a.png"), &ramp(8, 0));
    let mut bytes = std::fs::read(dir.join("a.png")).unwrap();
    let end = bytes.len();
    for b in &mut bytes[end - 30..end - 12] {
        *b ^= 0x5a; // inside the image data and its checksum
    }
    std::fs::write(dir.join("a.png"), &bytes).unwrap();
    let text = error(ImageFolder::load(&dir, 8, 1));
    assert!(
        text.starts_with(&dir.join("a.png").display().to_string()),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_text_file_named_png_is_an_error_naming_the_file() {
    let dir = temp_dir("text");
    let path = dir.join("notes.png");
    std::fs::write(&path, "these are not pixels\n").unwrap();
    let text = error(ImageFolder::load(&dir, 8, 1));
    assert_eq!(
        text,
        format!(
            "{}: is not a PNG or JPEG image (its first bytes are neither signature)",
            path.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_class_folder_is_an_error_naming_it() {
    let dir = temp_dir("empty-class");
    std::fs::create_dir(dir.join("full")).unwrap();
    std::fs::create_dir(dir.join("hollow")).unwrap();
    grey(&dir.join("full").join("a.png"), &ramp(4, 0));
    std::fs::write(dir.join("hollow").join("readme.txt"), "no images").unwrap();
    let text = error(ImageFolder::load(&dir, 4, 1));
    assert_eq!(
        text,
        format!(
            "{}: class folder holds no PNG or JPEG images",
            dir.join("hollow").display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_without_images_is_an_error_naming_it() {
    let dir = temp_dir("none");
    std::fs::write(dir.join("readme.txt"), "no images").unwrap();
    let text = error(ImageFolder::load(&dir, 4, 1));
    assert_eq!(
        text,
        format!(
            "{}: holds no PNG or JPEG images and no class folders",
            dir.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_beside_class_folders_are_an_error_naming_the_folder() {
    let dir = temp_dir("both");
    std::fs::create_dir(dir.join("class")).unwrap();
    grey(&dir.join("class").join("a.png"), &ramp(4, 0));
    grey(&dir.join("stray.png"), &ramp(4, 0));
    let text = error(ImageFolder::load(&dir, 4, 1));
    assert!(
        text.starts_with(&format!("{}: holds both", dir.display())),
        "{text}"
    );
    assert!(
        text.contains("stray.png") && text.contains("class"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let parent = temp_dir("missing");
    let dir = parent.join("not-there");
    let text = error(ImageFolder::load(&dir, 4, 1));
    assert!(
        text.starts_with(&format!("{}: cannot read", dir.display())),
        "{text}"
    );
    let holder = temp_dir("file");
    let file = holder.join("x.png");
    grey(&file, &ramp(4, 0));
    let text = error(ImageFolder::load(&file, 4, 1));
    assert_eq!(text, format!("{}: is not a folder", file.display()));
    std::fs::remove_dir_all(&parent).unwrap();
    std::fs::remove_dir_all(&holder).unwrap();
}

#[test]
fn pixels_are_allocated_once_at_their_u8_size() {
    let dir = temp_dir("size");
    for k in 0..5 {
        RgbImage::from_pixel(10, 8, Rgb([k, 2 * k, 3 * k]))
            .save(dir.join(format!("{k}.png")))
            .unwrap();
    }
    let set = ImageFolder::load(&dir, 8, 3).unwrap().images;
    assert_eq!(set.pixels.len(), 5 * 3 * 8 * 8);
    assert_eq!(set.pixels.capacity(), set.pixels.len(), "no spare capacity");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Loads the RGB folder named by `GANTRY_FOLDER` at 64x64 and prints its size, the load
/// time and the time of a 64-image batch (the data path of one training step) beside a
/// step of the `dcgan-sn-hinge` workload. For the
/// peak RSS, run the test binary itself under `/usr/bin/time -v`:
///
/// ```sh
/// cargo test --release -p gantry-gan --test folder --no-run   # prints the binary's path
/// GANTRY_FOLDER=DIR /usr/bin/time -v target/release/deps/folder-… --ignored --nocapture large
/// ```
#[test]
#[ignore = "needs GANTRY_FOLDER=DIR, a large image folder"]
fn large_folder_memory_and_batch_time() {
    use rand::SeedableRng;
    let dir = PathBuf::from(std::env::var("GANTRY_FOLDER").expect("GANTRY_FOLDER"));
    let started = std::time::Instant::now();
    let data = Data::load(&DataConfig::Folder {
        path: dir,
        size: 64,
        channels: 3,
        flip: true,
    })
    .unwrap();
    let loaded = started.elapsed();
    let set = data.images().unwrap();
    println!(
        "{}: {} bytes of pixels ({:.1} MB), loaded in {loaded:.2?}",
        data.description(),
        set.pixels.len(),
        set.pixels.len() as f64 / 1e6
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for (name, data) in [
        ("folder 3x64x64, flip", data),
        (
            "fashion-mnist 1x28x28",
            Data::load(&DataConfig::FashionMnist {
                path: None,
                flip: false,
            })
            .unwrap(),
        ),
    ] {
        let reps = 200;
        let started = std::time::Instant::now();
        for _ in 0..reps {
            std::hint::black_box(data.batch(64, &mut rng).unwrap());
        }
        println!("{name}: batch of 64 in {:.1?}", started.elapsed() / reps);
    }
    // Against one step of the 28x28 DCGAN benchmark workload (batch 64), timed here too.
    let mut step = gantry_gan::train::workloads::trainer("dcgan-sn-hinge").unwrap();
    step.train_step(std::time::Instant::now()).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        step.train_step(std::time::Instant::now()).unwrap();
    }
    println!("dcgan-sn-hinge: step in {:.1?}", started.elapsed() / 5);
}
