//! Checks of the `Trainer` on tiny networks (a few milliseconds per step): exact resume
//! (weights, buffers, optimizer state and random stream bit-identical to an uninterrupted
//! run), determinism, the NaN guard, `run`'s log and checkpoint files, resume through
//! `run`, weight clipping, every objective and penalty moving both networks, and RaSGAN
//! learning ring8.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gantry_gan::data::DataConfig;
use gantry_gan::train::{read_step_log, Event, CHECKPOINT_FILE, LOG_FILE};
use gantry_gan::{Divergence, Objective, Penalty, TrainConfig, TrainError, Trainer};
use gantry_nn::{Checkpoint, Module};
use gantry_tensor::Tensor;

/// A 2-16-2 generator and a 2-16-1 critic on ring8.
const TINY: &str = r#"
name = "tiny"
seed = 3
steps = 10
batch_size = 32
objective = "non_saturating"
log_every = 1
eval_every = 1000
checkpoint_every = 1000
eval_samples = 200

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [16]
d_hidden = [16]

[optim]
g_lr = 1e-3
d_lr = 1e-3
"#;

fn config(overrides: &[&str]) -> TrainConfig {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    TrainConfig::from_toml(TINY, &overrides).unwrap_or_else(|e| panic!("{overrides:?}: {e}"))
}

fn trainer(overrides: &[&str]) -> Trainer {
    Trainer::new(config(overrides)).unwrap_or_else(|e| panic!("{overrides:?}: {e}"))
}

fn train(t: &mut Trainer, steps: usize) {
    let started = Instant::now();
    for _ in 0..steps {
        t.train_step(started).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Asserts that two trainers hold bit-identical state: every tensor of their checkpoints
/// (weights, buffers, EMA weights, optimizer moments and step counts) and the metadata
/// (step, position of the random stream, config).
fn assert_same_state(a: &Trainer, b: &Trainer, what: &str) {
    let (ca, cb) = (a.checkpoint(), b.checkpoint());
    assert_eq!(ca.keys(), cb.keys(), "{what}: different tensors");
    for key in ca.keys() {
        let bits = |c: &Checkpoint| -> Vec<u32> {
            c.get::<f32>(key, None)
                .unwrap()
                .to_vec()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(&ca), bits(&cb), "{what}: tensor {key} differs");
    }
    for meta in ["step", "rng_word_pos", "config"] {
        assert_eq!(
            ca.meta(meta),
            cb.meta(meta),
            "{what}: metadata {meta} differs"
        );
    }
    assert_eq!(ca, cb, "{what}");
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("gantry-gan-trainer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains 10 steps straight, and 6 + checkpoint + restore into a fresh trainer (which
/// first trains 3 steps of its own, so that everything restore must overwrite differs) +
/// 4: the two end states must be bit-identical.
fn assert_resume_is_exact(overrides: &[&str]) {
    let mut straight = trainer(overrides);
    train(&mut straight, 10);

    let mut first = trainer(overrides);
    train(&mut first, 6);
    let bytes = first.checkpoint().to_bytes();
    drop(first);

    let mut resumed = trainer(overrides);
    train(&mut resumed, 3);
    resumed
        .restore(&Checkpoint::from_bytes(&bytes).unwrap())
        .unwrap();
    assert_eq!(resumed.step(), 6);
    train(&mut resumed, 4);
    assert_same_state(&straight, &resumed, &format!("resume with {overrides:?}"));
}

#[test]
fn resume_is_exact() {
    assert_resume_is_exact(&[]);
}

#[test]
fn resume_is_exact_with_n_critic_gradient_penalty_and_ema() {
    assert_resume_is_exact(&[
        "objective=wasserstein",
        "n_critic=2",
        "penalty.kind=gradient_penalty",
        "penalty.lambda=10.0",
        "ema=0.9",
    ]);
}

#[test]
fn resume_is_exact_with_spectral_norm_and_hinge() {
    let overrides = ["objective=hinge", "model.spectral_norm=true"];
    // The power-iteration buffers are part of the state.
    let keys: Vec<String> = trainer(&overrides)
        .checkpoint()
        .keys()
        .iter()
        .map(|k| k.to_string())
        .collect();
    for suffix in ["_u", "_v"] {
        assert!(
            keys.iter()
                .any(|k| k.starts_with("d.") && k.ends_with(suffix)),
            "no spectral-norm buffer {suffix} in {keys:?}"
        );
    }
    assert_resume_is_exact(&overrides);
}

#[test]
fn resume_is_exact_with_a_linear_schedule_and_relativistic_objective() {
    assert_resume_is_exact(&[
        "objective=relativistic",
        "optim.schedule=linear",
        "model.leaky=true",
    ]);
}

#[test]
fn resume_is_exact_for_dcgan_on_digits_with_batch_norm_and_ema() {
    assert_resume_is_exact(&[
        "data={ name = \"digits\" }",
        "model={ kind = \"dcgan\", z_dim = 4, channels = 2, spectral_norm = true }",
        "batch_size=8",
        "ema=0.5",
    ]);
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let mut a = trainer(&["n_critic=2"]);
    let mut b = trainer(&["n_critic=2"]);
    train(&mut a, 5);
    train(&mut b, 5);
    assert_same_state(&a, &b, "same seed");
    let mut c = trainer(&["n_critic=2", "seed=4"]);
    train(&mut c, 5);
    let w = |t: &Trainer| t.d.params()[0].1.value().to_vec();
    assert_ne!(w(&a), w(&c), "another seed should give other weights");
}

#[test]
fn training_changes_the_weights_and_reports_finite_numbers() {
    let values = |t: &Trainer| -> Vec<(String, Vec<f32>)> {
        let named = [
            gantry_nn::prefixed("g", t.g.params()),
            gantry_nn::prefixed("d", t.d.params()),
        ]
        .concat();
        named
            .into_iter()
            .map(|(n, p)| (n, p.value().to_vec()))
            .collect()
    };
    let mut t = trainer(&["penalty.kind=gradient_penalty"]);
    let before = values(&t);
    let log = t.train_step(Instant::now()).unwrap();
    assert_eq!((log.step, t.step()), (1, 1));
    for ((name, b), (_, a)) in before.iter().zip(values(&t)) {
        assert_ne!(b, &a, "{name} did not move");
    }
    for v in [log.d_loss, log.g_loss, log.d_grad_norm, log.g_grad_norm] {
        assert!(v.is_finite(), "{log:?}");
    }
    assert!(log.penalty.is_some_and(f64::is_finite), "{log:?}");
    assert_eq!(log.wasserstein, None, "not a Wasserstein objective");

    // WGAN: E D(x_f) − E D(x_r) does not depend on the critic's last bias (a shift of D), so
    // that bias gets a zero gradient and Adam leaves it exactly where it was.
    let mut w = trainer(&["objective=wasserstein", "penalty.kind=gradient_penalty"]);
    let before = values(&w);
    let log = w.train_step(Instant::now()).unwrap();
    assert!(log.wasserstein.is_some_and(f64::is_finite), "{log:?}");
    for ((name, b), (_, a)) in before.iter().zip(values(&w)) {
        assert_eq!(b == &a, name == "d.2.bias", "{name}");
    }
}

/// Sets one parameter of `m` (by index) to NaN.
fn poison(m: &dyn Module<f32>, which: usize) {
    let (_, p) = &m.params()[which];
    p.set(Tensor::full(&p.shape(), f32::NAN));
}

/// The index of the critic's output bias (its last parameter): NaN there makes every
/// logit NaN. (A NaN weight of an earlier layer would not: ReLU maps NaN to 0.)
fn output_bias(m: &dyn Module<f32>) -> usize {
    m.params().len() - 1
}

#[test]
fn nan_guard_stops_train_step_naming_step_and_value() {
    let mut t = trainer(&[]);
    train(&mut t, 2);
    poison(&t.d, output_bias(&t.d));
    match t.train_step(Instant::now()) {
        Err(TrainError::NonFinite { step, what }) => {
            assert_eq!((step, what.as_str()), (3, "d_loss"));
        }
        other => panic!("expected NonFinite, got {:?}", other.map(|l| l.step)),
    }
    // A NaN first-layer weight of the generator vanishes behind its ReLU (NaN > 0 is false),
    // so the losses stay finite: the parameter check names it.
    let mut t = trainer(&[]);
    poison(&t.g, 0);
    let err = t.train_step(Instant::now()).map(|l| l.step).unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFinite { step: 1, what } if what == "parameter g.0.weight"),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("step 1") && message.contains("g.0.weight"),
        "{message}"
    );
}

#[test]
fn nan_guard_catches_a_diverging_learning_rate() {
    // Adam's step is about lr whatever the gradient, so at lr = 1e6 the weights reach ~1e6
    // and the losses ~1e25, still within f32; but the gradients reach ~1e20, whose squares
    // overflow Adam's second moment: the guard checks all saved state, not only the weights.
    let mut t = trainer(&[
        "objective=least_squares",
        "model.leaky=true",
        "optim.g_lr=1e6",
        "optim.d_lr=1e6",
    ]);
    let names: Vec<String> = t
        .checkpoint()
        .keys()
        .iter()
        .map(|k| k.to_string())
        .collect();
    let started = Instant::now();
    let err = (0..50)
        .find_map(|_| t.train_step(started).err())
        .expect("a learning rate of 1e6 should diverge within 50 steps");
    let TrainError::NonFinite { step, what } = &err else {
        panic!("{err}")
    };
    assert!((1..=50).contains(step), "{err}");
    let kinds = [
        "parameter ",
        "optimizer state ",
        "buffer ",
        "EMA generator tensor ",
    ];
    let names_a_tensor = kinds
        .iter()
        .filter_map(|k| what.strip_prefix(k))
        .any(|n| names.iter().any(|k| k == n));
    assert!(
        what == "d_loss" || what == "g_loss" || names_a_tensor,
        "the error should name a loss or a saved tensor: {err}"
    );
    assert!(err.to_string().contains(&format!("step {step}")), "{err}");
    eprintln!("lr 1e6: {err}");
}

#[test]
fn run_stops_on_nan_and_keeps_the_last_good_checkpoint() {
    let dir = TempDir::new("nan");
    let mut t = trainer(&["checkpoint_every=2"]);
    // Poison the critic once step 3 is done: step 4's critic loss is NaN. Checkpoints
    // were written at steps 2 (good) and not at 3.
    let p = t.d.params()[output_bias(&t.d)].1.clone();
    let mut observer = |e: Event<'_>| {
        if let Event::Step(log) = e {
            if log.step == 3 {
                p.set(Tensor::full(&p.shape(), f32::NAN));
            }
        }
    };
    let err = t
        .run(dir.path(), false, &mut observer)
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFinite { step: 4, what } if what == "d_loss"),
        "{err}"
    );
    let ck = Checkpoint::load(&dir.path().join(CHECKPOINT_FILE))
        .expect("the checkpoint is still loadable");
    assert_eq!(ck.meta("step"), Some("2"));
    for key in ck.keys() {
        assert!(
            ck.get::<f32>(key, None).unwrap().all_finite(),
            "{key} is not finite"
        );
    }
    let mut fresh = trainer(&["checkpoint_every=2"]);
    fresh.restore(&ck).unwrap();
    assert_eq!(fresh.step(), 2);
    // The log holds every step before the failure.
    let steps: Vec<usize> = read_step_log(&dir.path().join(LOG_FILE))
        .iter()
        .map(|l| l.step)
        .collect();
    assert_eq!(steps, [1, 2, 3]);
}

#[test]
fn run_writes_the_log_and_a_checkpoint() {
    let dir = TempDir::new("run");
    let overrides = [
        "steps=5",
        "log_every=2",
        "eval_every=5",
        "checkpoint_every=5",
    ];
    let mut t = trainer(&overrides);
    let (mut steps_seen, mut evals_seen) = (0, 0);
    let last = t
        .run(dir.path(), false, &mut |e| match e {
            Event::Step(_) => steps_seen += 1,
            Event::Eval(eval, _) => {
                assert_eq!(eval.step, 5);
                evals_seen += 1;
            }
        })
        .unwrap()
        .expect("an evaluation at the last step");
    assert_eq!((steps_seen, evals_seen), (5, 1));
    let mixture = last.mixture.expect("ring8 is a mixture");
    assert_eq!((mixture.n_modes, mixture.n_samples), (8, 200));
    assert!(last.wasserstein1.is_some_and(f64::is_finite));

    let log_path = dir.path().join(LOG_FILE);
    let steps: Vec<usize> = read_step_log(&log_path).iter().map(|l| l.step).collect();
    assert_eq!(steps, [2, 4, 5], "every log_every steps and the last");
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["step"], 5);
    assert!(
        lines[3]["eval"]["mixture"]["modes_covered"].is_u64(),
        "{}",
        lines[3]
    );

    let ck = Checkpoint::load(&dir.path().join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(ck.meta("step"), Some("5"));
    assert_eq!(ck, t.checkpoint(), "the file holds the final state");
    let stored = TrainConfig::from_toml(ck.meta("config").unwrap(), &[]).unwrap();
    assert_eq!(stored, t.config);
}

#[test]
fn run_with_resume_continues_exactly_and_keeps_the_log_free_of_duplicates() {
    let overrides = ["log_every=1", "eval_every=4", "checkpoint_every=3"];
    let straight_dir = TempDir::new("straight");
    let mut straight = trainer(&overrides);
    straight
        .run(straight_dir.path(), false, &mut |_| {})
        .unwrap();

    // A run that dies at step 5 (NaN injected after step 4): log up to step 4 and an eval
    // line at 4, checkpoint at 3.
    let dir = TempDir::new("resume");
    let mut crashed = trainer(&overrides);
    let p = crashed.d.params()[output_bias(&crashed.d)].1.clone();
    let err = crashed.run(dir.path(), false, &mut |e| {
        if let Event::Step(log) = e {
            if log.step == 4 {
                p.set(Tensor::full(&p.shape(), f32::NAN));
            }
        }
    });
    assert!(matches!(err, Err(TrainError::NonFinite { step: 5, .. })));
    let logged: Vec<usize> = read_step_log(&dir.path().join(LOG_FILE))
        .iter()
        .map(|l| l.step)
        .collect();
    assert_eq!(logged, [1, 2, 3, 4]);

    let mut resumed = trainer(&overrides);
    resumed.run(dir.path(), true, &mut |_| {}).unwrap();
    assert_eq!(resumed.step(), 10);
    assert_same_state(&straight, &resumed, "run, crash, run with resume");

    let steps: Vec<usize> = read_step_log(&dir.path().join(LOG_FILE))
        .iter()
        .map(|l| l.step)
        .collect();
    assert_eq!(steps, (1..=10).collect::<Vec<_>>(), "each step logged once");
    let evals = |d: &Path| -> Vec<u64> {
        std::fs::read_to_string(d.join(LOG_FILE))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v.get("eval").is_some())
            .map(|v| v["step"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(evals(dir.path()), [4, 8, 10]);
    // Apart from the timings, the resumed log is the uninterrupted one.
    let losses = |d: &Path| -> Vec<(f64, f64)> {
        read_step_log(&d.join(LOG_FILE))
            .iter()
            .map(|l| (l.d_loss, l.g_loss))
            .collect()
    };
    assert_eq!(losses(dir.path()), losses(straight_dir.path()));

    // Resuming a finished run changes nothing.
    resumed.run(dir.path(), true, &mut |_| {}).unwrap();
    assert_eq!(resumed.step(), 10);
    assert_eq!(read_step_log(&dir.path().join(LOG_FILE)).len(), 10);
}

#[test]
fn run_with_resume_but_no_checkpoint_starts_from_scratch() {
    let dir = TempDir::new("fresh");
    let mut t = trainer(&["steps=3"]);
    t.run(dir.path(), true, &mut |_| {}).unwrap();
    let mut u = trainer(&["steps=3"]);
    train(&mut u, 3);
    assert_same_state(&t, &u, "resume without a checkpoint");
}

#[test]
fn weight_clipping_keeps_every_critic_parameter_in_range() {
    let c = 0.01f32;
    let mut t = trainer(&[
        "objective=wasserstein",
        "penalty.kind=weight_clip",
        "n_critic=2",
    ]);
    let outside = |m: &dyn Module<f32>| -> usize {
        m.params()
            .iter()
            .map(|(_, p)| p.value().to_vec().iter().filter(|x| x.abs() > c).count())
            .sum()
    };
    assert!(outside(&t.d) > 0, "the default init is not already clipped");
    for _ in 0..3 {
        train(&mut t, 1);
        assert_eq!(outside(&t.d), 0, "critic weights outside [−{c}, {c}]");
    }
    assert!(outside(&t.g) > 0, "the generator is not clipped");
}

/// The sliced W1 distance of the (EMA) generator's samples to ring8.
fn w1(t: &Trainer) -> f64 {
    t.evaluate().wasserstein1.expect("toy data has a W1")
}

/// RaSGAN learns: 300 steps of the tiny networks bring the generator's samples to at most
/// 70% of the untrained generator's sliced W1 distance to ring8 (measured: 1.107 → 0.619). Its generator step also
/// draws a second real batch from the stream, which the non-saturating one does not.
#[test]
fn relativistic_trains() {
    let mut t = trainer(&["objective=relativistic", "steps=300"]);
    let before = w1(&t);
    train(&mut t, 300);
    let after = w1(&t);
    assert!(after <= 0.7 * before, "sliced W1 {before:.3} -> {after:.3}");

    let mut r = trainer(&["objective=relativistic"]);
    let mut s = trainer(&["objective=non_saturating"]);
    train(&mut r, 3);
    train(&mut s, 3);
    let pos = |t: &Trainer| {
        t.checkpoint()
            .meta("rng_word_pos")
            .unwrap()
            .parse::<u128>()
            .unwrap()
    };
    assert!(pos(&r) > pos(&s), "{} vs {}", pos(&r), pos(&s));
}

/// The parameters of both networks, by name.
fn weights(t: &Trainer) -> Vec<(String, Vec<f32>)> {
    [
        gantry_nn::prefixed("g", t.g.params()),
        gantry_nn::prefixed("d", t.d.params()),
    ]
    .concat()
    .into_iter()
    .map(|(n, p)| (n, p.value().to_vec()))
    .collect()
}

/// Asserts that two steps of `t` report finite losses and gradient norms, and move the
/// weights of both networks (each network's first layer, which every loss reaches).
fn assert_trains_two_steps(mut t: Trainer, what: &str) {
    let before = weights(&t);
    for _ in 0..2 {
        let log = t
            .train_step(Instant::now())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        for v in [log.d_loss, log.g_loss, log.d_grad_norm, log.g_grad_norm] {
            assert!(v.is_finite(), "{what}: {log:?}");
        }
        assert!(
            log.d_grad_norm > 0.0 && log.g_grad_norm > 0.0,
            "{what}: {log:?}"
        );
    }
    let after = weights(&t);
    for net in ["g.0.weight", "d.0.weight"] {
        let find = |w: &[(String, Vec<f32>)]| w.iter().find(|(n, _)| n == net).unwrap().1.clone();
        assert_ne!(find(&before), find(&after), "{what}: {net} did not move");
    }
}

#[test]
fn every_objective_and_penalty_trains_a_few_steps() {
    let mut objectives: Vec<String> = [
        "minimax",
        "non_saturating",
        "wasserstein",
        "hinge",
        "least_squares",
        "relativistic",
        "rsgan",
        "ralsgan",
        "rahinge",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for d in Divergence::ALL {
        for non_saturating in [false, true] {
            let o = Objective::FDivergence {
                divergence: d,
                non_saturating,
            };
            objectives.push(o.to_string());
        }
    }
    for o in &objectives {
        let t = trainer(&[&format!("objective={o}"), "batch_size=16"]);
        assert_eq!(t.config.objective.to_string(), *o);
        assert_trains_two_steps(t, o);
    }
    let penalties = [
        Penalty::GradientPenalty {
            lambda: 10.0,
            one_sided: true,
        },
        Penalty::R1 { gamma: 1.0 },
        Penalty::R2 { gamma: 1.0 },
        Penalty::Dragan { lambda: 10.0 },
    ];
    for p in penalties {
        let mut cfg = config(&["objective=non_saturating", "batch_size=16"]);
        cfg.penalty = p;
        let mut t = Trainer::new(cfg.clone()).unwrap();
        let log = t.train_step(Instant::now()).unwrap();
        assert!(
            log.penalty.is_some_and(|v| v.is_finite() && v >= 0.0),
            "{p:?}: {log:?}"
        );
        // The penalty is part of the critic's loss: without it, the same step (same
        // stream) reports the loss minus the penalty.
        cfg.penalty = Penalty::None;
        let mut plain = Trainer::new(cfg).unwrap();
        let plain_log = plain.train_step(Instant::now()).unwrap();
        let with = log.d_loss - log.penalty.unwrap();
        assert!(
            (with - plain_log.d_loss).abs() <= 1e-4 * (1.0 + with.abs()),
            "{p:?}: {} - {} vs {}",
            log.d_loss,
            log.penalty.unwrap(),
            plain_log.d_loss
        );
        assert_trains_two_steps(t, &format!("{p:?}"));
    }
}

#[test]
fn invalid_configs_and_data_are_reported() {
    let mut cfg = config(&[]);
    cfg.n_critic = 0;
    assert!(matches!(Trainer::new(cfg), Err(TrainError::Config(e)) if e.contains("n_critic")));
    let mut cfg = config(&[]);
    cfg.data = DataConfig::Idx {
        path: "/nonexistent/images.idx".into(),
        labels: None,
        num_classes: None,
        flip: false,
    };
    let err = Trainer::new(cfg).map(|_| ()).unwrap_err();
    assert!(matches!(err, TrainError::Data(_)), "{err}");
    assert!(err.to_string().contains("/nonexistent/images.idx"), "{err}");
    let mut cfg = config(&[]);
    cfg.data = DataConfig::Digits;
    let err = Trainer::new(cfg).map(|_| ()).unwrap_err();
    assert!(
        matches!(&err, TrainError::Config(e) if e.contains("mlp")),
        "{err}"
    );
}

#[test]
fn restore_rejects_a_checkpoint_of_another_architecture_and_changes_nothing() {
    let mut small = trainer(&[]);
    train(&mut small, 1);
    let before = small.checkpoint();
    let other = trainer(&["model.d_hidden=[8]"]).checkpoint();
    assert!(matches!(
        small.restore(&other),
        Err(TrainError::Config(e)) if e.contains("model.d_hidden")
    ));
    assert_eq!(small.checkpoint(), before);
    // Allowed to change the config, the tensors of the wrong shape are still refused.
    small.allow_config_change = true;
    assert!(matches!(
        small.restore(&other),
        Err(TrainError::Checkpoint(_))
    ));
    small.allow_config_change = false;
    assert_eq!(small.checkpoint(), before);
    let mut no_meta = before.clone();
    no_meta.set_meta("step", "many");
    assert!(matches!(
        small.restore(&no_meta),
        Err(TrainError::Checkpoint(_))
    ));
    assert_eq!(small.checkpoint(), before);
}

#[test]
fn evaluation_of_point_mass_mixtures_skips_the_mode_report() {
    // σ = 0 is a valid toy (point masses), but has no 3σ ball to count samples in.
    let mut t = trainer(&["data.std=0.0"]);
    train(&mut t, 1);
    let eval = t.evaluate();
    assert!(eval.mixture.is_none());
    assert!(eval.wasserstein1.is_some_and(f64::is_finite));
    let eval = trainer(&[]).evaluate();
    assert_eq!(eval.mixture.map(|m| m.n_modes), Some(8));
}

/// Resuming with another seed, objective, batch size, penalty or optimizer setting is an
/// error naming exactly the changed fields, and changes nothing; a longer run, other
/// intervals, or `allow_config_change` restore.
#[test]
fn restore_names_the_changed_config_fields_unless_allowed() {
    let mut first = trainer(&[]);
    train(&mut first, 2);
    let ck = first.checkpoint();
    let cases: [(&[&str], &[&str]); 3] = [
        (&["seed=4"], &["seed"]),
        (
            &["objective=hinge", "batch_size=16", "optim.d_lr=2e-3"],
            &["batch_size", "objective", "optim.d_lr"],
        ),
        (
            &["penalty.kind=r1", "penalty.gamma=1.0"],
            &["penalty.gamma", "penalty.kind"],
        ),
    ];
    for (overrides, fields) in cases {
        let mut other = trainer(overrides);
        let before = other.checkpoint();
        match other.restore(&ck) {
            Err(TrainError::Config(e)) => {
                let named = e.split_once(": ").map(|(_, rest)| rest).unwrap_or("");
                let named = named.split(" (").next().unwrap();
                assert_eq!(named, fields.join(", "), "{overrides:?}: {e}");
                assert!(e.contains("--allow-config-change"), "{e}");
            }
            other => panic!("{overrides:?}: expected a config error, got {other:?}"),
        }
        assert_eq!(
            other.checkpoint(),
            before,
            "{overrides:?} changed the trainer"
        );
        other.allow_config_change = true;
        other
            .restore(&ck)
            .unwrap_or_else(|e| panic!("{overrides:?}: {e}"));
        assert_eq!(other.step(), 2);
    }
    let mut longer = trainer(&["steps=20", "log_every=5", "eval_every=7", "name=\"again\""]);
    longer.restore(&ck).unwrap();
    assert_eq!(longer.step(), 2);
}

/// A batch size no memory can hold stops the step with an error naming `batch_size`, not
/// an abort (the library path below the CLI's memory check).
#[test]
fn a_batch_that_cannot_fit_stops_the_step_with_an_error() {
    let mut t = trainer(&["batch_size=1125899906842624"]);
    let err = t.train_step(Instant::now()).unwrap_err();
    assert!(matches!(err, TrainError::Memory { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("a batch of batch_size = 1125899906842624 samples: cannot allocate"),
        "{err}"
    );
    assert_eq!(t.step(), 0);
}

#[test]
fn samples_are_drawn_in_chunks_with_the_noise_of_one_draw() {
    // More than two chunks: the same samples as the generator on all the latents at once,
    // drawn here from the same seed (up to rounding: the batches differ in size).
    use gantry_gan::train::trainer::{generate, SAMPLE_CHUNK};
    use rand::SeedableRng;
    let t = trainer(&[
        "model = { kind = \"dcgan\", channels = 4, z_dim = 8 }",
        "data = { name = \"digits\" }",
    ]);
    let n = 2 * SAMPLE_CHUNK + 3;
    let chunked = t.sample_classes(n, 9, None).unwrap();
    assert_eq!(chunked.shape(), [n, 1, 8, 8]);
    let z = Tensor::randn(&[n, 8], &mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
    let whole = generate(t.sampler(), &z, None).to_vec();
    let largest = chunked
        .to_vec()
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(largest < 1e-6, "largest difference {largest}");
}
