//! Checks of `TrainConfig`: a full config parses into the values written, every invalid
//! value is rejected with a message naming its field, `--set` overrides apply, the TOML a
//! checkpoint stores parses back to the same config, and every file in `configs/` is valid.

use std::path::Path;

use gantry_gan::data::toy::Toy;
use gantry_gan::data::DataConfig;
use gantry_gan::train::config::{OptimConfig, Schedule, TrainConfig};
use gantry_gan::train::models::ModelConfig;
use gantry_gan::{Divergence, Objective, Penalty};
use gantry_nn::Module;

const FULL: &str = r#"
name = "tiny"
seed = 7
steps = 100
batch_size = 32
n_critic = 5
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 5.0, one_sided = true }
ema = 0.99
log_every = 2
eval_every = 50
checkpoint_every = 25
eval_samples = 500

[data]
name = "ring8"
scale = 0.5

[model]
kind = "mlp"
z_dim = 3
g_hidden = [16, 8]
d_hidden = [16]
leaky = true
spectral_norm = true

[optim]
g_lr = 2e-4
d_lr = 4e-4
beta1 = 0.0
beta2 = 0.99
"#;

/// The smallest config: every field with a default left out.
const MINIMAL: &str = r#"
steps = 10
batch_size = 8
objective = "hinge"
[data]
name = "grid25"
[model]
kind = "mlp"
"#;

fn parse(text: &str, overrides: &[&str]) -> Result<TrainConfig, String> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    TrainConfig::from_toml(text, &overrides)
}

#[test]
fn a_full_config_parses_into_the_values_written() {
    let c = parse(FULL, &[]).unwrap();
    assert_eq!(c.name, "tiny");
    assert_eq!((c.seed, c.steps, c.batch_size, c.n_critic), (7, 100, 32, 5));
    assert_eq!(c.objective, Objective::Wasserstein);
    assert_eq!(
        c.penalty,
        Penalty::GradientPenalty {
            lambda: 5.0,
            one_sided: true
        }
    );
    assert_eq!(c.ema, Some(0.99));
    assert_eq!(
        (
            c.log_every,
            c.eval_every,
            c.checkpoint_every,
            c.eval_samples
        ),
        (2, 50, 25, 500)
    );
    assert_eq!(c.data, DataConfig::Toy(Toy::ring8().scaled(0.5)));
    assert_eq!(
        c.model,
        ModelConfig::Mlp {
            z_dim: 3,
            g_hidden: vec![16, 8],
            d_hidden: vec![16],
            leaky: true,
            tanh_output: false,
            spectral_norm: true,
        }
    );
    assert_eq!(
        c.optim,
        OptimConfig {
            g_lr: 2e-4,
            d_lr: 4e-4,
            beta1: 0.0,
            beta2: 0.99,
            schedule: Schedule::Constant,
            ..OptimConfig::default()
        }
    );
}

#[test]
fn omitted_fields_take_their_documented_defaults() {
    let c = parse(MINIMAL, &[]).unwrap();
    assert_eq!((c.name.as_str(), c.seed, c.n_critic), ("run", 0, 1));
    assert_eq!(c.penalty, Penalty::None);
    assert_eq!((c.ema, c.ema_start), (None, 0));
    assert_eq!(
        (
            c.log_every,
            c.eval_every,
            c.checkpoint_every,
            c.eval_samples
        ),
        (10, 500, 500, 2000)
    );
    assert_eq!(c.optim, OptimConfig::default());
    assert_eq!(c.data, DataConfig::Toy(Toy::grid25()));
    assert_eq!(
        c.model,
        ModelConfig::Mlp {
            z_dim: 2,
            g_hidden: vec![512; 3],
            d_hidden: vec![512; 3],
            leaky: false,
            tanh_output: false,
            spectral_norm: false,
        }
    );
}

#[test]
fn a_partial_optim_table_keeps_the_other_defaults() {
    let c = parse(&format!("{MINIMAL}\n[optim]\ng_lr = 1e-3\n"), &[]).unwrap();
    assert_eq!(
        c.optim,
        OptimConfig {
            g_lr: 1e-3,
            ..OptimConfig::default()
        }
    );
}

#[test]
fn other_data_and_models_parse() {
    let digits = MINIMAL
        .replace("name = \"grid25\"", "name = \"digits\"")
        .replace(
            "kind = \"mlp\"",
            "kind = \"dcgan\"\nchannels = 8\nz_dim = 16",
        );
    let c = parse(&digits, &[]).unwrap();
    assert_eq!(c.data, DataConfig::Digits);
    assert_eq!(
        c.model,
        ModelConfig::Dcgan {
            z_dim: 16,
            channels: 8,
            spectral_norm: false,
            conditional: None,
        }
    );
    let idx = MINIMAL.replace(
        "name = \"grid25\"",
        "name = \"idx\"\npath = \"/data/train-images-idx3-ubyte.gz\"",
    );
    assert_eq!(
        parse(&idx, &[]).unwrap().data,
        DataConfig::Idx {
            path: "/data/train-images-idx3-ubyte.gz".into(),
            labels: None,
            num_classes: None,
            flip: false,
        }
    );
    let fgan = parse(MINIMAL, &["objective=fgan-ns:reverse_kl"]).unwrap();
    assert_eq!(
        fgan.objective,
        Objective::FDivergence {
            divergence: Divergence::ReverseKl,
            non_saturating: true
        }
    );
}

/// Each invalid value, as a `--set` override of the full config or as an edit of its text,
/// with the field name the error must contain.
#[test]
fn each_invalid_value_is_rejected_naming_the_field() {
    let overrides = [
        ("n_critic=0", "n_critic"),
        ("batch_size=0", "batch_size"),
        ("steps=0", "steps"),
        ("log_every=0", "log_every"),
        ("eval_every=0", "eval_every"),
        ("checkpoint_every=0", "checkpoint_every"),
        ("eval_samples=0", "eval_samples"),
        ("penalty.lambda=-1.0", "penalty.lambda"),
        ("penalty.lambda=nan", "penalty.lambda"),
        ("objective=wgan", "objective"),
        ("penalty.kind=gradient_penality", "penalty.kind"),
        ("data.name=ring9", "data"),
        ("data.std=-1.0", "data"),
        ("data.spacing=1.0", "data"),
        ("model.kind=transformer", "model.kind"),
        ("model.depth=3", "depth"),
        ("n_critc=5", "n_critc"),
        ("optim.beta1=1.0", "optim.beta1"),
        ("optim.beta2=-0.1", "optim.beta2"),
        ("optim.g_lr=0.0", "optim.g_lr"),
        ("optim.d_lr=-1e-4", "optim.d_lr"),
        ("optim.d_lr=inf", "optim.d_lr"),
        ("optim.momentum=0.9", "momentum"),
        ("optim.schedule=exponential", "schedule"),
        ("optim.d=adagrad", "optim.d"),
        ("optim.warmup=100000", "optim.warmup"),
        ("ema=1.0", "ema"),
        ("ema=-0.5", "ema"),
        ("steps=-5", "steps"),
        ("steps=\"many\"", "steps"),
    ];
    for (o, field) in overrides {
        let err = parse(FULL, &[o]).expect_err(o);
        assert!(
            err.contains(field),
            "--set {o}: the error does not name '{field}': {err}"
        );
    }
    let edits = [
        ("n_critic = 5", "n_critic = 0", "n_critic"),
        ("batch_size = 32", "batch_size = 0", "batch_size"),
        ("lambda = 5.0", "lambda = -5.0", "penalty.lambda"),
        (
            "objective = \"wasserstein\"",
            "objective = \"wasserstain\"",
            "objective",
        ),
        (
            "kind = \"gradient_penalty\"",
            "kind = \"gradient_penality\"",
            "penalty.kind",
        ),
        ("name = \"ring8\"", "name = \"ring9\"", "data"),
        ("n_critic = 5", "n_critics = 5", "n_critics"),
        ("beta1 = 0.0", "beta1 = 1.0", "optim.beta1"),
    ];
    for (from, to, field) in edits {
        assert!(FULL.contains(from), "{from}");
        let err = parse(&FULL.replacen(from, to, 1), &[]).expect_err(to);
        assert!(
            err.contains(field),
            "'{to}': the error does not name '{field}': {err}"
        );
    }
    let syntax = parse(&FULL.replace("seed = 7", "seed = = 7"), &[]).expect_err("syntax");
    assert!(syntax.starts_with("line 3:"), "{syntax}");
    let missing = parse(&FULL.replace("steps = 100\n", ""), &[]).expect_err("steps is required");
    assert!(missing.contains("steps"), "{missing}");
}

#[test]
fn set_overrides_apply() {
    let c = parse(
        FULL,
        &[
            "steps=5",
            "optim.g_lr=0.001",
            "objective=hinge",
            "penalty.lambda=20",
            "data.scale=0.25",
            "model.d_hidden=[4, 4]",
            "name=renamed run",
            "ema=0.5",
            "optim.schedule=linear",
        ],
    )
    .unwrap();
    assert_eq!(c.steps, 5);
    assert_eq!(c.optim.g_lr, 0.001);
    assert_eq!(c.optim.d_lr, 4e-4, "untouched");
    assert_eq!(c.objective, Objective::Hinge);
    assert_eq!(
        c.penalty,
        Penalty::GradientPenalty {
            lambda: 20.0,
            one_sided: true
        }
    );
    assert_eq!(c.data, DataConfig::Toy(Toy::ring8().scaled(0.25)));
    assert!(matches!(&c.model, ModelConfig::Mlp { d_hidden, .. } if d_hidden == &[4, 4]));
    assert_eq!(c.name, "renamed run");
    assert_eq!(c.ema, Some(0.5));
    assert_eq!(c.optim.schedule, Schedule::Linear);
    // A table the file does not have is created.
    let m = parse(
        MINIMAL,
        &["optim.g_lr=0.001", "penalty.kind=r1", "penalty.gamma=2.0"],
    )
    .unwrap();
    assert_eq!(m.optim.g_lr, 0.001);
    assert_eq!(m.penalty, Penalty::R1 { gamma: 2.0 });
    // Malformed overrides.
    let err = parse(FULL, &["steps"]).expect_err("no '='");
    assert!(err.contains("key=value"), "{err}");
    let err = parse(FULL, &["steps.x=1"]).expect_err("steps is not a table");
    assert!(err.contains("steps"), "{err}");
}

#[test]
fn the_stored_toml_parses_back_to_the_same_config() {
    for text in [FULL, MINIMAL] {
        let c = parse(text, &[]).unwrap();
        assert_eq!(TrainConfig::from_toml(&c.to_toml(), &[]).unwrap(), c);
    }
    let mut c = parse(
        MINIMAL,
        &[
            "objective=fgan:kl",
            "penalty.kind=weight_clip",
            "data.name=mixture1d",
        ],
    )
    .unwrap();
    assert_eq!(TrainConfig::from_toml(&c.to_toml(), &[]).unwrap(), c);
    c.data = DataConfig::Digits;
    assert_eq!(TrainConfig::from_toml(&c.to_toml(), &[]).unwrap(), c);
    c.data = DataConfig::Idx {
        path: "some/where.idx".into(),
        labels: None,
        num_classes: None,
        flip: false,
    };
    assert_eq!(TrainConfig::from_toml(&c.to_toml(), &[]).unwrap(), c);
}

/// Every `configs/*.toml` parses, validates, builds its networks for its data (data that
/// needs a user's file is only parsed) and carries its file's name; none is skipped.
#[test]
fn every_shipped_config_parses_and_builds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no configs in {}", dir.display());
    let mut built = 0;
    for path in &files {
        let c = TrainConfig::load(path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().unwrap().to_string_lossy();
        assert_eq!(
            c.name,
            stem,
            "{}: name differs from the file name",
            path.display()
        );
        if matches!(c.data, DataConfig::Idx { .. } | DataConfig::Folder { .. }) {
            continue;
        }
        let t = gantry_gan::Trainer::new(c).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!t.g.params().is_empty() && !t.d.params().is_empty());
        built += 1;
    }
    let idx = files.len() - built;
    eprintln!("{built} configs built, {idx} parsed only (their data is a user's file)");
}

#[test]
fn load_errors_name_the_file() {
    let err = TrainConfig::load(Path::new("/nonexistent/run.toml"), &[]).expect_err("no such file");
    assert!(err.contains("/nonexistent/run.toml"), "{err}");
}

#[test]
fn models_are_checked_against_the_data_shape() {
    let mlp = parse(MINIMAL, &[]).unwrap().model;
    assert_eq!(mlp.validate(&[2]), Ok(()));
    assert!(mlp.validate(&[1, 8, 8]).unwrap_err().contains("mlp"));
    let dcgan = ModelConfig::Dcgan {
        z_dim: 8,
        channels: 4,
        spectral_norm: false,
        conditional: None,
    };
    assert_eq!(dcgan.validate(&[1, 8, 8]), Ok(()));
    assert!(dcgan
        .validate(&[1, 6, 6])
        .unwrap_err()
        .contains("divisible by 4"));
    assert!(dcgan.validate(&[2]).is_err());
    let empty = parse(MINIMAL, &["model.g_hidden=[]"]).unwrap().model;
    assert!(empty.validate(&[2]).unwrap_err().contains("model.g_hidden"));
}
