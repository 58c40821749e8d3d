//! `gantry reproduce`: the README's results tables and the config headers are what the
//! records in `results/` give, and a reproduction writes records and regenerates both.

mod common;

use std::path::Path;

use common::{assert_one_line_error, assert_success, gantry, scratch};

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_readme_and_config_headers_are_what_the_records_give() {
    let out = gantry()
        .current_dir(root())
        .args(["reproduce", "--render-only", "--check"])
        .output()
        .unwrap();
    assert_success(&out);
}

/// `x̄ ± s` (sample standard deviation) of two values, written out.
fn mean_std_of_two(a: f64, b: f64, digits: usize) -> String {
    let mean = (a + b) / 2.0;
    let s = ((a - mean).powi(2) + (b - mean).powi(2)).sqrt();
    format!("{mean:.digits$} ± {s:.digits$}")
}

#[test]
fn a_reproduction_writes_records_and_regenerates_the_tables_and_headers() {
    let dir = scratch("reproduce");
    std::fs::copy(root().join("README.md"), dir.join("README.md")).unwrap();
    let configs = dir.join("configs");
    std::fs::create_dir(&configs).unwrap();
    for entry in std::fs::read_dir(root().join("configs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, configs.join(path.file_name().unwrap())).unwrap();
    }
    let results = dir.join("results");
    let args = |extra: &[&str]| {
        let mut cmd = gantry();
        cmd.current_dir(&dir).arg("reproduce").args(extra).args([
            "--results",
            "results",
            "--readme",
            "README.md",
            "--configs-dir",
            "configs",
            "--runs",
            "runs",
        ]);
        cmd
    };
    let out = args(&["--configs", "fgan-kl", "--seeds", "0,1", "--steps", "40"])
        .output()
        .unwrap();
    assert_success(&out);

    let record = |seed: u64| -> serde_json::Value {
        let path = results
            .join("full")
            .join(format!("fgan-kl-seed{seed}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (r0, r1) = (record(0), record(1));
    for (r, seed) in [(&r0, 0), (&r1, 1)] {
        assert_eq!(r["config"], "fgan-kl");
        assert_eq!(r["seed"], seed);
        assert_eq!(r["steps"], 40);
        assert_eq!(r["last"]["step"], 40);
        assert!(r["wall_s"].as_f64().unwrap() > 0.0);
        assert_eq!(
            r["command"],
            "gantry reproduce --configs fgan-kl --seeds 0,1 --steps 40"
        );
    }
    let w1 = |r: &serde_json::Value| r["last"]["wasserstein1"].as_f64().unwrap();
    assert_ne!(w1(&r0), w1(&r1), "two seeds, two runs");
    let expected = format!("W1 {}", mean_std_of_two(w1(&r0), w1(&r1), 3));

    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `fgan-kl` |"))
        .expect("a row for fgan-kl");
    assert!(row.contains("| 0, 1 | 40 |"), "{row}");
    assert!(row.contains(&expected), "{row} lacks {expected}");
    let header = std::fs::read_to_string(configs.join("fgan-kl.toml")).unwrap();
    assert!(
        header
            .contains("# Measured by `gantry reproduce --configs fgan-kl --seeds 0,1 --steps 40`"),
        "{header}"
    );
    assert!(header.contains(&expected), "{header}");

    // The regenerated files agree with the records; a hand edit does not.
    let check = args(&["--render-only", "--check"]).output().unwrap();
    assert_success(&check);
    std::fs::write(dir.join("README.md"), readme.replace(&expected, "W1 0.001")).unwrap();
    let check = args(&["--render-only", "--check"]).output().unwrap();
    assert_one_line_error(&check, &["README.md", "gantry reproduce --render-only"]);
}

#[test]
fn unknown_configs_are_refused_in_one_line() {
    let out = gantry()
        .current_dir(root())
        .args(["reproduce", "--configs", "nothing-*", "--runs"])
        .arg(scratch("reproduce-none"))
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--configs", "'nothing-*'", "gantry configs"]);
}
