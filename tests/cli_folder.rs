//! The RGB folder config end to end on a folder of PNGs made here: it trains, its pictures
//! are in colour, its evaluations carry feature metrics, and sampling needs no folder.

mod common;

use common::{assert_one_line_error, assert_success, gantry, png_folder, scratch};

/// The colour type of a PNG (byte 25, in its IHDR chunk): 2 is RGB, 0 grey.
fn png_colour_type(path: &std::path::Path) -> u8 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{}", path.display());
    bytes[25]
}

#[test]
fn the_folder_config_trains_on_rgb_images_made_on_the_fly() {
    let dir = scratch("folder-rgb");
    let images = dir.join("images");
    png_folder(&images, 3, 6, 40);
    let run = dir.join("run");
    let out = gantry()
        .args(["train", "--quiet", "--config", "folder-rgb-sngan", "--out"])
        .arg(&run)
        .args(["--set", &format!("data.path=\"{}\"", images.display())])
        .args([
            "--set",
            "steps=2",
            "--set",
            "eval_every=2",
            "--set",
            "eval_samples=32",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(png_colour_type(&run.join("samples.png")), 2);
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    let eval: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("eval").cloned())
        .expect("an evaluation line");
    let net = eval["features"]["feature_net"].as_str().unwrap();
    assert!(net.starts_with("folder-"), "{net}");
    assert!(eval["features"][format!("fd_{net}")].as_f64().unwrap() > 0.0);

    std::fs::remove_dir_all(&images).unwrap();
    let png = dir.join("s.png");
    let out = gantry()
        .args(["sample", "--n", "16", "--checkpoint"])
        .arg(run.join("checkpoint.safetensors"))
        .arg("--out")
        .arg(&png)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(png_colour_type(&png), 2);

    // The model is unconditional (the class folders are not its classes).
    let grid = dir.join("classes.png");
    let out = gantry()
        .args(["interpolate", "--across-classes", "--checkpoint"])
        .arg(run.join("checkpoint.safetensors"))
        .arg("--out")
        .arg(&grid)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--across-classes needs a class-conditional model"]);
    assert!(!grid.exists());
}
