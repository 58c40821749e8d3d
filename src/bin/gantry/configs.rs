//! The standard configs of `configs/`, embedded in the binary so that `gantry train --config
//! ring8-wgangp` works from any directory (and after `cargo install --path .`), and
//! `gantry configs` lists them. A path to a file still works, and wins over a name.

use std::path::Path;

use gantry_gan::TrainConfig;

/// Every file of `configs/`, by name (the file name without `.toml`). A test checks that
/// the list and the folder agree.
pub const STANDARD: &[(&str, &str)] = &[
    ("demo", include_str!("../../../configs/demo.toml")),
    (
        "digits-dcgan-ns",
        include_str!("../../../configs/digits-dcgan-ns.toml"),
    ),
    (
        "digits-sngan-hinge",
        include_str!("../../../configs/digits-sngan-hinge.toml"),
    ),
    (
        "digits-wgangp",
        include_str!("../../../configs/digits-wgangp.toml"),
    ),
    (
        "fashion-acgan",
        include_str!("../../../configs/fashion-acgan.toml"),
    ),
    (
        "fashion-cgan-projection",
        include_str!("../../../configs/fashion-cgan-projection.toml"),
    ),
    (
        "fashion-dcgan-ns",
        include_str!("../../../configs/fashion-dcgan-ns.toml"),
    ),
    (
        "fashion-sngan-hinge",
        include_str!("../../../configs/fashion-sngan-hinge.toml"),
    ),
    (
        "fashion-wgangp",
        include_str!("../../../configs/fashion-wgangp.toml"),
    ),
    ("fgan-gan", include_str!("../../../configs/fgan-gan.toml")),
    (
        "fgan-jensen_shannon",
        include_str!("../../../configs/fgan-jensen_shannon.toml"),
    ),
    ("fgan-kl", include_str!("../../../configs/fgan-kl.toml")),
    (
        "fgan-neyman",
        include_str!("../../../configs/fgan-neyman.toml"),
    ),
    (
        "fgan-pearson",
        include_str!("../../../configs/fgan-pearson.toml"),
    ),
    (
        "fgan-reverse_kl",
        include_str!("../../../configs/fgan-reverse_kl.toml"),
    ),
    (
        "fgan-squared_hellinger",
        include_str!("../../../configs/fgan-squared_hellinger.toml"),
    ),
    (
        "fgan-total_variation",
        include_str!("../../../configs/fgan-total_variation.toml"),
    ),
    (
        "folder-rgb-sngan",
        include_str!("../../../configs/folder-rgb-sngan.toml"),
    ),
    (
        "grid25-wgangp",
        include_str!("../../../configs/grid25-wgangp.toml"),
    ),
    (
        "ring8-sn-hinge",
        include_str!("../../../configs/ring8-sn-hinge.toml"),
    ),
    (
        "ring8-wgan-clip",
        include_str!("../../../configs/ring8-wgan-clip.toml"),
    ),
    (
        "ring8-wgangp",
        include_str!("../../../configs/ring8-wgangp.toml"),
    ),
];

/// The text of the standard config `name` (with or without `.toml`).
pub fn embedded(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    STANDARD
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Loads `--config`: the file at `arg` if there is one, else the standard config of that
/// name; errors name the file or the unknown name.
pub fn load(arg: &Path, overrides: &[String]) -> Result<TrainConfig, String> {
    let name = arg.to_string_lossy();
    match embedded(&name).filter(|_| !arg.exists()) {
        Some(text) => TrainConfig::from_toml(text, overrides)
            .map_err(|e| format!("{name} (standard config): {e}")),
        None => TrainConfig::load(arg, overrides).map_err(|e| {
            if arg.exists() {
                e
            } else {
                format!("{e}; not a standard config either (`gantry configs` lists them)")
            }
        }),
    }
}

/// What a config reproduces: the first sentence of its header comment.
pub fn summary(text: &str) -> String {
    let header: Vec<&str> = text
        .lines()
        .map_while(|l| l.strip_prefix('#'))
        .map(str::trim)
        .collect();
    let joined = header.join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].trim().to_string(),
        None => joined.trim().to_string(),
    }
}

/// The measured outcome recorded in a config's header between the `Measured` markers
/// (written by `gantry reproduce`), if there is one, on one line.
pub fn measured(text: &str) -> Option<String> {
    let start = text.find(MEASURED_BEGIN)? + MEASURED_BEGIN.len();
    let end = start + text[start..].find(MEASURED_END)?;
    let lines: Vec<&str> = text[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// The line that opens a config header's generated "Measured" block.
pub const MEASURED_BEGIN: &str = "# <measured>";
/// The line that closes it.
pub const MEASURED_END: &str = "# </measured>";

/// `gantry configs`: one line per standard config.
pub fn list() {
    let width = STANDARD.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, text) in STANDARD {
        let outcome =
            measured(text).unwrap_or_else(|| "not yet measured by `gantry reproduce`".into());
        println!("{name:width$}  {} Measured: {outcome}", summary(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_the_configs_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<(String, String)> = STANDARD
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(
            embedded, on_disk,
            "add new configs/*.toml files to STANDARD"
        );
    }

    #[test]
    fn a_name_loads_the_embedded_config_and_a_path_wins() {
        let set = ["steps=7".to_string()];
        let c = load(Path::new("ring8-wgangp"), &set).unwrap();
        assert_eq!((c.name.as_str(), c.steps), ("ring8-wgangp", 7));
        assert_eq!(
            load(Path::new("fgan-kl.toml"), &[]).unwrap().name,
            "fgan-kl"
        );
        let dir = std::env::temp_dir().join(format!("gantry-configs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ring8-wgangp");
        let text = embedded("demo").unwrap();
        std::fs::write(&path, text).unwrap();
        assert_eq!(load(&path, &[]).unwrap().name, "demo", "the file wins");
        std::fs::remove_dir_all(&dir).unwrap();
        let err = load(Path::new("no-such-config"), &[]).unwrap_err();
        assert!(
            err.starts_with("no-such-config: ") && err.contains("gantry configs"),
            "{err}"
        );
    }

    #[test]
    fn summary_is_the_headers_first_sentence_and_measured_the_marked_block() {
        let text = "# WGAN-GP on ring8. More.\n# Other.\n# <measured>\n# 8/8 modes\n# (seed 0)\n# </measured>\nname = \"x\"\n";
        assert_eq!(summary(text), "WGAN-GP on ring8.");
        assert_eq!(measured(text).as_deref(), Some("8/8 modes (seed 0)"));
        assert_eq!(measured("# no block\n"), None);
    }
}
