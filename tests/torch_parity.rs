//! gantry against PyTorch: an exported run must compute what gantry computes.
//!
//! The PyTorch side is `tests/torch_parity/parity.py`. These tests need a Python with
//! `torch` and `safetensors`: `GANTRY_PYTHON` if set, else `python3`. Without one they print
//! why they skip and pass (CI has no PyTorch). With one:
//!
//! ```sh
//! GANTRY_PYTHON=/path/to/venv/bin/python cargo test --test torch_parity -- --nocapture
//! ```
//!
//! 1. forward: every model kind's exported generator and critic (and EMA generator) in eval
//!    mode give gantry's outputs within 1e-5: the MLP and DCGAN, and the class-conditional
//!    DCGANs, generators by conditional batch norm and by a concatenated label embedding,
//!    critics by projection (with and without spectral norm) and AC-GAN (logit and class
//!    logits);
//! 2. one training step: from the same weights and optimizer state, with the draws gantry's
//!    `train_step` made (real batches and their labels, latent batches, the generated
//!    batches' labels, penalty interpolation weights), the PyTorch step gives every tensor
//!    of the checkpoint within 1e-4 relative, for NS, hinge + SN and WGAN-GP on the MLP and
//!    on DCGAN, and for the four pairings of conditional generator and critic (projection
//!    with hinge + SN and with WGAN-GP, AC-GAN with NS and with the relativistic loss);
//! 3. `torchrun --nproc_per_node 2 train.py` runs 5 steps on CPU and writes a checkpoint
//!    that `gantry sample` reads back, and whose networks `gantry train --init-from` loads,
//!    unconditional and conditional runs alike.
//!
//! The tests that need no PyTorch check the way back (`init_from`) and that every shipped
//! config, conditional ones included, exports.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use std::collections::BTreeMap;

use gantry::autograd::Tape;
use gantry::gan::data::Data;
use gantry::gan::export::{export, init_from, CRITIC_FILE, GENERATOR_FILE};
use gantry::gan::losses::penalty::Penalty;
use gantry::gan::train::models::Critic;
use gantry::gan::train::trainer::generate;
use gantry::gan::{TrainConfig, Trainer};
use gantry::nn::{label_tensor, Checkpoint, Module};
use gantry::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A scratch folder unique to one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gantry-torch-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Python that imports torch and safetensors, or `None` after printing why not.
fn python() -> Option<String> {
    let python = std::env::var("GANTRY_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import torch, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!(
            "skipped: `{python} -c \"import torch, safetensors\"` failed \
             (set GANTRY_PYTHON to a Python with PyTorch to run the parity checks)"
        );
    }
    ok.then_some(python)
}

/// Runs `python args…` in `dir`, printing its output; panics with it on failure.
fn run_python(python: &str, dir: &Path, args: &[&str]) {
    let out = Command::new(python)
        .args(args)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{python} {args:?} failed:\n{stdout}\n{stderr}"
    );
}

/// The MLP runs: 2-D ring data, two hidden layers of 16.
fn mlp(objective: &str, extra: &str, model: &str) -> String {
    format!(
        r#"
seed = 5
steps = 10
batch_size = 8
objective = "{objective}"
{extra}
[data]
name = "ring8"
[model]
kind = "mlp"
g_hidden = [16, 16]
d_hidden = [16, 16]
{model}
"#
    )
}

/// The DCGAN runs: the 8x8 digits, 4 channels, a 8-D latent.
fn dcgan(objective: &str, extra: &str, model: &str) -> String {
    format!(
        r#"
seed = 6
steps = 10
batch_size = 8
objective = "{objective}"
{extra}
[data]
name = "digits"
[model]
kind = "dcgan"
z_dim = 8
channels = 4
{model}
"#
    )
}

const GP: &str = "n_critic = 2\npenalty = { kind = \"gradient_penalty\", lambda = 10.0 }";

/// The `[model]` lines of a class-conditional DCGAN: `extra` model fields, then the
/// conditioning of the generator (`cbn`, `concat`) and of the critic (`projection`,
/// `acgan`) with `more` conditioning fields.
fn conditional(extra: &str, generator: &str, critic: &str, more: &str) -> String {
    format!(
        "{extra}\n[model.conditional]\ngenerator = \"{generator}\"\ncritic = \"{critic}\"\n{more}"
    )
}

/// The parity cases, with the data of those that do not load their config's: each objective
/// of the issue on both model kinds; the MLP NS case also has LeakyReLU, a tanh output and
/// an EMA generator, and the MLP WGAN-GP case the linear schedule; weight clipping with
/// RMSprop, the cosine schedule, warm-up and `ema_start`; the other relativistic losses,
/// one with SGD; the conditional DCGANs; and a DCGAN of three stages on three channels.
fn cases() -> Vec<(&'static str, String, Option<Data>)> {
    let cases = vec![
        (
            "mlp-ns",
            mlp(
                "non_saturating",
                "ema = 0.9",
                "leaky = true\ntanh_output = true",
            ),
        ),
        ("mlp-hinge-sn", mlp("hinge", "", "spectral_norm = true")),
        (
            "mlp-wgangp",
            mlp(
                "wasserstein",
                &format!("{GP}\n[optim]\nschedule = \"linear\"\ng_lr = 1e-3\nd_lr = 1e-3"),
                "",
            ),
        ),
        (
            "mlp-clip-rmsprop-cosine",
            mlp(
                "wasserstein",
                "n_critic = 2\npenalty = { kind = \"weight_clip\", c = 0.05 }\nema = 0.9\n\
                 ema_start = 5\n[optim]\ng = \"rmsprop\"\nd = \"rmsprop\"\ng_lr = 5e-4\n\
                 d_lr = 5e-4\nschedule = \"cosine\"\nwarmup = 8",
                "",
            ),
        ),
        (
            "mlp-rsgan-sgd",
            mlp("rsgan", "[optim]\ng = \"sgd\"\ng_lr = 0.01", ""),
        ),
        ("dcgan-ralsgan", dcgan("ralsgan", "", "")),
        ("mlp-rahinge", mlp("rahinge", "", "")),
        ("dcgan-ns", dcgan("non_saturating", "ema = 0.5", "")),
        ("dcgan-hinge-sn", dcgan("hinge", "", "spectral_norm = true")),
        ("dcgan-wgangp", dcgan("wasserstein", GP, "")),
        (
            "cbn-projection-sn",
            dcgan(
                "hinge",
                "ema = 0.5",
                &conditional("spectral_norm = true", "cbn", "projection", ""),
            ),
        ),
        (
            "concat-projection-gp",
            dcgan(
                "wasserstein",
                GP,
                &conditional("", "concat", "projection", ""),
            ),
        ),
        (
            "concat-acgan",
            dcgan(
                "non_saturating",
                "",
                &conditional("", "concat", "acgan", "acgan_weight = 0.5"),
            ),
        ),
        (
            "cbn-acgan-sn-relativistic",
            dcgan(
                "relativistic",
                "",
                &conditional("spectral_norm = true", "cbn", "acgan", ""),
            ),
        ),
    ];
    let mut cases: Vec<_> = cases.into_iter().map(|(n, c)| (n, c, None)).collect();
    // Three stages from a 4x4 base, three channels: 32x32 RGB samples, drawn uniform in
    // [-1, 1] (no data set of that shape ships).
    let rgb = Tensor::<f32>::rand_uniform(
        &[64, 3, 32, 32],
        -1.0,
        1.0,
        &mut ChaCha8Rng::seed_from_u64(7),
    );
    cases.push((
        "dcgan-rgb32-wgangp",
        dcgan("wasserstein", GP, "").replace("channels = 4", "channels = 2"),
        Some(Data::Samples(rgb)),
    ));
    cases
}

/// The critic's logit and (AC-GAN) class logits on `x` in eval mode, nothing recorded.
fn judge(
    d: &Critic,
    x: &Tensor<f32>,
    labels: Option<&[u32]>,
) -> (Tensor<f32>, Option<Tensor<f32>>) {
    d.set_training(false);
    let tape = Tape::new();
    let out = tape.no_grad(|| {
        let out = d.forward(&tape, tape.constant(x.clone()), labels);
        (out.logit.value(), out.class_logits.map(|c| c.value()))
    });
    d.set_training(true);
    out
}

/// Random draws recorded as fixtures `<kind>.<i>`, numbered per kind in the order made.
#[derive(Default)]
struct Recorded {
    fixtures: Checkpoint,
    counts: BTreeMap<&'static str, usize>,
}

impl Recorded {
    fn put(&mut self, kind: &'static str, t: &Tensor<f32>) {
        let n = self.counts.entry(kind).or_default();
        self.fixtures.put(&format!("{kind}.{n}"), t);
        *n += 1;
    }

    fn labels(&mut self, kind: &'static str, labels: &[u32]) {
        self.put(kind, &label_tensor::<f32>(labels));
    }
}

/// Trains `config` two steps (so Adam's moments and batch-norm statistics are not at their
/// start), exports it into `dir`, and writes the fixtures of `parity.py`: eval-mode outputs
/// (with labels `y` for a conditional model), and the draws of the next `train_step` with
/// the checkpoint after it.
///
/// The draws are made again here from the trainer's random stream at its saved position,
/// in the order `train_step` makes them: per critic step a real batch (with its labels),
/// a latent batch, the generated batch's classes (uniform, one `gen_range` each), the
/// interpolation weights; then the generator's latent batch, its classes and, for the
/// relativistic loss, a real batch. Had this order been wrong, PyTorch would train on
/// other data than gantry and the step check would fail.
fn write_case(config: &str, data: Option<Data>, dir: &Path) {
    let config = TrainConfig::from_toml(config, &[]).unwrap();
    let mut trainer = match data {
        Some(data) => Trainer::with_data(config.clone(), data),
        None => Trainer::new(config.clone()),
    }
    .unwrap();
    for _ in 0..2 {
        trainer.train_step(Instant::now()).unwrap();
    }
    export(&trainer, dir).unwrap();
    let conditional = config.model.conditioning().is_some();

    let mut draws = Recorded::default();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let z = Tensor::<f32>::randn(&[6, config.model.z_dim()], &mut rng);
    let batch = trainer.data.batch(6, &mut rng).unwrap();
    let y = batch.labels.filter(|_| conditional);
    let (d_out, d_classes) = judge(&trainer.d, &batch.x, y.as_deref());
    let fixtures = &mut draws.fixtures;
    fixtures.put("g_out", &generate(&trainer.g, &z, y.as_deref()));
    fixtures.put("d_out", &d_out);
    if let Some(classes) = d_classes {
        fixtures.put("d_classes", &classes);
    }
    if let Some(ema) = &trainer.g_ema {
        fixtures.put("ema_out", &generate(ema, &z, y.as_deref()));
    }
    if let Some(y) = &y {
        fixtures.put("y", &label_tensor::<f32>(y));
    }
    fixtures.put("z", &z);
    fixtures.put("x", &batch.x);

    let position: u128 = trainer
        .checkpoint()
        .meta("rng_word_pos")
        .unwrap()
        .parse()
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_word_pos(position);
    let (bs, zdim) = (config.batch_size, config.model.z_dim());
    let classes = trainer.data.num_classes() as u32;
    let real_batch = |draws: &mut Recorded, rng: &mut ChaCha8Rng| {
        let real = trainer.data.batch(bs, rng).unwrap();
        draws.put("real", &real.x);
        if conditional {
            draws.labels("real_labels", &real.labels.unwrap());
        }
        real.x
    };
    let fakes = |draws: &mut Recorded, rng: &mut ChaCha8Rng| {
        draws.put("z", &Tensor::<f32>::randn(&[bs, zdim], rng));
        if conditional {
            let y: Vec<u32> = (0..bs).map(|_| rng.gen_range(0..classes)).collect();
            draws.labels("fake_labels", &y);
        }
    };
    for _ in 0..config.n_critic {
        let real = real_batch(&mut draws, &mut rng);
        fakes(&mut draws, &mut rng);
        if let Penalty::GradientPenalty { .. } = config.penalty {
            let mut shape = vec![1; real.shape().len()];
            shape[0] = bs;
            let eps = Tensor::<f32>::rand_uniform(&shape, 0.0, 1.0, &mut rng);
            draws.put("uniform", &eps);
        }
    }
    fakes(&mut draws, &mut rng);
    if config.objective.is_relativistic() {
        real_batch(&mut draws, &mut rng);
    }
    draws
        .fixtures
        .save(&dir.join("fixtures.safetensors"))
        .unwrap();

    trainer.train_step(Instant::now()).unwrap();
    trainer
        .checkpoint()
        .save(&dir.join("expected.safetensors"))
        .unwrap();
}

/// Checks 1 and 2: forward outputs and one training step, every case.
#[test]
fn exported_networks_and_training_step_match_gantry() {
    let Some(python) = python() else { return };
    let scratch = Scratch::new("parity");
    let mut dirs = Vec::new();
    for (name, config, data) in cases() {
        let dir = scratch.0.join(name);
        write_case(&config, data, &dir);
        dirs.push(dir.to_string_lossy().into_owned());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/torch_parity/parity.py");
    let mut args = vec![script.to_str().unwrap()];
    args.extend(dirs.iter().map(String::as_str));
    run_python(&python, &scratch.0, &args);
}

/// Check 3: `torchrun --nproc_per_node 2 train.py --steps 5` on CPU (DDP over gloo), then
/// `gantry sample` on its checkpoint and `gantry train --init-from` on its networks. WGAN-GP
/// on the MLP (double backward under DDP), SNGAN on DCGAN (batch norm and spectral norm
/// buffers under DDP), and the conditional DCGANs: conditional batch norm with a
/// spectrally normalized projection critic, and a concatenated label embedding with an
/// AC-GAN critic (a critic that returns class logits beside its logit).
#[test]
fn torchrun_trains_five_steps_that_gantry_reads_back() {
    let Some(python) = python() else { return };
    let scratch = Scratch::new("torchrun");
    for (name, config) in [
        ("mlp-wgangp", mlp("wasserstein", GP, "")),
        (
            "dcgan-hinge-sn",
            dcgan("hinge", "ema = 0.9", "spectral_norm = true"),
        ),
        (
            "cbn-projection-sn",
            dcgan(
                "hinge",
                "ema = 0.9",
                &conditional("spectral_norm = true", "cbn", "projection", ""),
            ),
        ),
        (
            "concat-acgan",
            dcgan(
                "non_saturating",
                "",
                &conditional("", "concat", "acgan", ""),
            ),
        ),
    ] {
        let dir = scratch.0.join(name);
        let trainer = Trainer::new(TrainConfig::from_toml(&config, &[]).unwrap()).unwrap();
        export(&trainer, &dir).unwrap();
        run_python(
            &python,
            &dir,
            &[
                "-m",
                "torch.distributed.run",
                "--nproc_per_node",
                "2",
                "train.py",
                "--steps",
                "5",
                "--out",
                "torchrun",
            ],
        );
        let checkpoint = dir.join("torchrun/checkpoint.safetensors");
        let ck = Checkpoint::load(&checkpoint).unwrap();
        assert_eq!(ck.meta("step"), Some("5"));

        let gantry = env!("CARGO_BIN_EXE_gantry");
        let png = dir.join("samples.png");
        let out = Command::new(gantry)
            .args(["sample", "--n", "16", "--checkpoint"])
            .arg(&checkpoint)
            .arg("--out")
            .arg(&png)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(png.exists());

        // The networks come back: a one-step gantry run started from them.
        let run = dir.join("back");
        let out = Command::new(gantry)
            .args(["train", "--quiet", "--set", "steps=1", "--config"])
            .arg(dir.join("config.toml"))
            .arg("--out")
            .arg(&run)
            .arg("--init-from")
            .arg(dir.join("torchrun"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(run.join("checkpoint.safetensors").exists());
    }
}

/// The way back without PyTorch: an export's networks loaded into a run built from another
/// seed make it equal to the exported run, EMA included; files of the wrong network, or
/// named for none, are refused with a message naming them.
#[test]
fn init_from_loads_exported_networks_and_refuses_wrong_files() {
    let scratch = Scratch::new("init-from");
    let config = mlp("non_saturating", "ema = 0.9", "spectral_norm = true");
    let config = TrainConfig::from_toml(&config, &[]).unwrap();
    let mut source = Trainer::new(config.clone()).unwrap();
    source.train_step(Instant::now()).unwrap();
    export(&source, &scratch.0).unwrap();

    let mut other = config.clone();
    other.seed += 1;
    let target = Trainer::new(other).unwrap();
    let state = |m: &dyn Module| -> Vec<Vec<f32>> {
        [m.params(), m.buffers()]
            .concat()
            .iter()
            .map(|(_, p)| p.value().to_vec())
            .collect()
    };
    assert_ne!(state(&target.g), state(&source.g));
    init_from(
        &target,
        &[scratch.0.join(GENERATOR_FILE), scratch.0.join(CRITIC_FILE)],
    )
    .unwrap();
    assert_eq!(state(&target.g), state(&source.g));
    assert_eq!(state(&target.d), state(&source.d));
    // No EMA file given: the EMA generator starts as the loaded generator.
    assert_eq!(state(target.g_ema.as_ref().unwrap()), state(&source.g));
    init_from(&target, std::slice::from_ref(&scratch.0)).unwrap();
    assert_eq!(
        state(target.g_ema.as_ref().unwrap()),
        state(source.g_ema.as_ref().unwrap())
    );

    // The critic's weights under a generator's name: the shapes do not fit.
    let misnamed = scratch.0.join("generator_x.safetensors");
    std::fs::copy(scratch.0.join(CRITIC_FILE), &misnamed).unwrap();
    let err = init_from(&target, &[misnamed]).unwrap_err();
    assert!(err.contains("generator_x.safetensors"), "{err}");
    let err = init_from(&target, &[scratch.0.join("weights.safetensors")]).unwrap_err();
    assert!(err.contains("must start with generator"), "{err}");
}

/// Every shipped config exports, conditional ones with their labels in data.safetensors
/// (one per sample, each below the class count in run.json), and (with PyTorch) every
/// exported models.py imports with nothing but torch and safetensors and loads its
/// networks with strict=True.
#[test]
fn every_shipped_config_exports() {
    let scratch = Scratch::new("configs");
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut dirs = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&configs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    // The folder configs train on a user's images: a small folder made here.
    let images = scratch.0.join("images");
    common::png_folder(&images, 3, 4, 40);
    let folder = [format!("data.path=\"{}\"", images.display())];
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy();
        let overrides = if name.starts_with("folder-") {
            &folder[..]
        } else {
            &[]
        };
        let config = TrainConfig::load(&path, overrides).unwrap();
        let dir = scratch.0.join(path.file_stem().unwrap());
        let conditional = config.model.conditioning().is_some();
        export(&Trainer::new(config).unwrap(), &dir).unwrap();
        if conditional {
            let bytes = std::fs::read(dir.join("data.safetensors")).unwrap();
            let data = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let images = data.tensor("data").unwrap();
            assert_eq!(images.dtype(), safetensors::Dtype::U8, "images stay u8");
            let samples = images.shape()[0];
            let labels: Vec<f32> = data
                .tensor("labels")
                .unwrap()
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let run: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap())
                    .unwrap();
            let classes = run["num_classes"].as_f64().unwrap();
            assert_eq!(labels.len(), samples, "{}", path.display());
            assert!(
                labels
                    .iter()
                    .all(|&y| y >= 0.0 && y.fract() == 0.0 && (y as f64) < classes),
                "{}: labels outside 0..{classes}",
                path.display()
            );
        }
        for file in [
            "models.py",
            "train.py",
            "README.md",
            "run.json",
            GENERATOR_FILE,
            CRITIC_FILE,
        ] {
            assert!(dir.join(file).exists(), "{}: no {file}", path.display());
        }
        let models = std::fs::read_to_string(dir.join("models.py")).unwrap();
        for line in models
            .lines()
            .filter(|l| l.starts_with("import ") || l.starts_with("from "))
        {
            let package = line.split([' ', '.']).nth(1).unwrap();
            assert!(
                ["json", "os", "torch", "safetensors"].contains(&package),
                "{}: models.py imports {package}",
                path.display()
            );
        }
        dirs.push(dir);
    }
    let Some(python) = python() else { return };
    // Each export's networks also run: two samples (of classes 0 and 1 when conditional)
    // of the data's shape, which the critic judges.
    let load_all = format!(
        "import importlib.util, torch\n\
         for d in {:?}:\n\
         \x20   spec = importlib.util.spec_from_file_location('models', d + '/models.py')\n\
         \x20   m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n\
         \x20   g, critic, _ = m.load_networks(d)\n\
         \x20   run = m.read_run(d); model = run['config']['model']\n\
         \x20   y = (torch.tensor([0, 1]),) if model.get('conditional') else ()\n\
         \x20   x = g(torch.randn(2, model['z_dim']), *y)\n\
         \x20   assert list(x.shape) == [2] + run['sample_shape'], (d, x.shape)\n\
         \x20   critic(x, *y)\n\
         print('loaded the networks of {} exports with strict=True; each generated and judged')",
        dirs.iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        dirs.len(),
    );
    run_python(&python, &scratch.0, &["-c", &load_all]);
}
