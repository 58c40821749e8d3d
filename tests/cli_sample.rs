//! `gantry sample` and `gantry interpolate` need the checkpoint alone: a run on IDX files
//! samples after its data is deleted, conditional (`--class K`) or not.

mod common;

use std::path::Path;

use common::{assert_one_line_error, assert_success, gantry, scratch, train};

/// Writes `n` 8x8 IDX images (pixel `(i + 3k) mod 256` of image `k`) and their labels
/// `k mod 4` into `dir`.
fn write_idx(dir: &Path, n: usize) {
    let mut images = vec![0, 0, 8, 3];
    for d in [n, 8, 8] {
        images.extend((d as u32).to_be_bytes());
    }
    images.extend((0..n).flat_map(|k| (0..64).map(move |i| ((i + 3 * k) % 256) as u8)));
    std::fs::write(dir.join("images-idx3-ubyte"), images).unwrap();
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((n as u32).to_be_bytes());
    labels.extend((0..n).map(|k| (k % 4) as u8));
    std::fs::write(dir.join("labels-idx1-ubyte"), labels).unwrap();
}

/// A 2-step conditional DCGAN (conditional batch norm, projection) on the IDX files in
/// `data`.
fn config(data: &Path) -> String {
    format!(
        r#"
name = "idx-cgan"
steps = 2
batch_size = 8
objective = "hinge"
eval_every = 2
checkpoint_every = 2
eval_samples = 16
[data]
name = "idx"
path = "{}"
labels = "{}"
[model]
kind = "dcgan"
z_dim = 8
channels = 4
spectral_norm = true
[model.conditional]
generator = "cbn"
critic = "projection"
"#,
        data.join("images-idx3-ubyte").display(),
        data.join("labels-idx1-ubyte").display()
    )
}

#[test]
fn sampling_needs_the_checkpoint_alone() {
    let dir = scratch("sample-alone");
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    write_idx(&data, 40);
    let config_path = dir.join("idx-cgan.toml");
    std::fs::write(&config_path, config(&data)).unwrap();
    let run = dir.join("run");
    let out = train(&config_path, &run).output().unwrap();
    assert_success(&out);
    std::fs::remove_dir_all(&data).unwrap();

    let checkpoint = run.join("checkpoint.safetensors");
    let sample = |extra: &[&str], png: &Path| {
        gantry()
            .args(["sample", "--n", "16", "--checkpoint"])
            .arg(&checkpoint)
            .arg("--out")
            .arg(png)
            .args(extra)
            .output()
            .unwrap()
    };
    for (extra, name) in [(&[][..], "all.png"), (&["--class", "3"][..], "three.png")] {
        let png = dir.join(name);
        let out = sample(extra, &png);
        assert_success(&out);
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
    // The class count comes from the checkpoint too: class 4 of 4 is refused.
    let out = sample(&["--class", "4"], &dir.join("four.png"));
    assert_one_line_error(&out, &["--class 4", "classes 0..4"]);
    assert!(!dir.join("four.png").exists());

    // 4 interpolations of 5 steps: a grid of 5 x 4 tiles of 8x8 pixels drawn 4x, framed
    // by 2-pixel lines: 5·32 + 2·6 = 172 wide, 4·32 + 2·5 = 138 high.
    let png = dir.join("interpolate.png");
    let interpolate = |extra: &[&str]| {
        gantry()
            .args(["interpolate", "--checkpoint"])
            .arg(&checkpoint)
            .arg("--out")
            .arg(&png)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = interpolate(&["--rows", "4", "--steps", "5"]);
    assert_success(&out);
    let bytes = std::fs::read(&png).unwrap();
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (172, 138), "IHDR width and height");
    std::fs::remove_file(&png).unwrap();
    // Between classes at a fixed latent: the same grid.
    let out = interpolate(&["--rows", "4", "--steps", "5", "--across-classes"]);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("between classes"), "{stdout}");
    let bytes = std::fs::read(&png).unwrap();
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (172, 138), "IHDR width and height");
    std::fs::remove_file(&png).unwrap();
    let out = interpolate(&["--steps", "1"]);
    assert_one_line_error(&out, &["--steps must be in 2..=64"]);
    assert!(!png.exists());
}

#[test]
fn interpolating_a_toy_run_is_refused_in_one_line() {
    let dir = scratch("interpolate-toy");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/ring8-sn-hinge.toml");
    let out = train(&config, &dir)
        .args(["--set", "steps=1"])
        .output()
        .unwrap();
    assert_success(&out);
    let png = dir.join("i.png");
    let out = gantry()
        .args(["interpolate", "--checkpoint"])
        .arg(dir.join("checkpoint.safetensors"))
        .arg("--out")
        .arg(&png)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["toy data", "gantry interpolate draws image grids"]);
    assert!(!png.exists());
}
