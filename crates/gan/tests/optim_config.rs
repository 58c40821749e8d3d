//! The `[optim]` table and EMA warm-up: schedules against their formulas written out here,
//! each network's optimizer as the config names it, and `ema_start`.

use std::time::Instant;

use gantry_gan::train::config::{OptimConfig, OptimizerKind, Schedule};
use gantry_gan::{TrainConfig, Trainer};
use gantry_nn::Module;

const RUN: &str = r#"
name = "optim"
seed = 3
steps = 40
batch_size = 16
objective = "hinge"
eval_every = 1000
checkpoint_every = 1000

[data]
name = "ring8"

[model]
kind = "mlp"
z_dim = 2
g_hidden = [8]
d_hidden = [8]
"#;

fn trainer(overrides: &[&str]) -> Trainer {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Trainer::new(TrainConfig::from_toml(RUN, &overrides).unwrap()).unwrap()
}

#[test]
fn schedules_follow_their_formulas() {
    let (base, total) = (0.5, 100);
    let with = |schedule, warmup| OptimConfig {
        schedule,
        warmup,
        ..OptimConfig::default()
    };
    for t in [0, 1, 9, 10, 50, 99] {
        let tf = t as f64;
        let warm = ((tf + 1.0) / 10.0).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * tf / 100.0).cos());
        let cases = [
            (with(Schedule::Constant, 0), base),
            (with(Schedule::Linear, 0), base * (1.0 - tf / 100.0)),
            (with(Schedule::Cosine, 0), base * cosine),
            (with(Schedule::Constant, 10), base * warm),
            (with(Schedule::Cosine, 10), base * warm * cosine),
        ];
        for (config, expected) in cases {
            let got = config.rate(base, t, total);
            assert!(
                (got - expected).abs() < 1e-15,
                "{config:?} t={t}: {got} {expected}"
            );
        }
    }
    // The cosine ends near 0 and is half way at half time.
    let cosine = with(Schedule::Cosine, 0);
    assert!((cosine.rate(1.0, 50, 100) - 0.5).abs() < 1e-15);
    assert!(cosine.rate(1.0, 99, 100) < 1e-3);
}

/// The optimizer state a checkpoint holds for a network, by slot name.
fn slots(t: &Trainer, prefix: &str) -> Vec<String> {
    let ck = t.checkpoint();
    let mut names: Vec<String> = ck
        .keys()
        .into_iter()
        .filter(|k| k.starts_with(prefix))
        .filter_map(|k| k.rsplit('.').next().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn each_network_gets_the_optimizer_its_config_names() {
    let mut t = trainer(&["optim.g=\"sgd\"", "optim.d=\"rmsprop\""]);
    t.train_step(Instant::now()).unwrap();
    assert_eq!(slots(&t, "opt_g"), ["momentum_buffer", "step"]);
    assert_eq!(
        slots(&t, "opt_d"),
        ["grad_avg", "momentum_buffer", "square_avg", "step"]
    );
    let adam = trainer(&[]);
    assert_eq!(slots(&adam, "opt_d"), ["exp_avg", "exp_avg_sq", "step"]);
}

/// Plain SGD moves each generator weight by exactly `−η·g`: one step with η = 0.1 and one
/// with η = 0.2 from the same state move every weight twice as far.
#[test]
fn sgd_steps_scale_with_the_rate() {
    let weights = |t: &Trainer| -> Vec<f32> {
        t.g.params()
            .iter()
            .flat_map(|(_, p)| p.value().to_vec())
            .collect()
    };
    let before = weights(&trainer(&["optim.g=\"sgd\""]));
    let moved = |lr: &str| {
        let mut t = trainer(&["optim.g=\"sgd\"", &format!("optim.g_lr={lr}")]);
        t.train_step(Instant::now()).unwrap();
        weights(&t)
    };
    let (small, large) = (moved("0.1"), moved("0.2"));
    let mut compared = 0;
    for ((b, s), l) in before.iter().zip(&small).zip(&large) {
        let (ds, dl) = ((s - b) as f64, (l - b) as f64);
        if ds.abs() > 1e-4 {
            assert!((dl / ds - 2.0).abs() < 1e-3, "{ds} {dl}");
            compared += 1;
        }
    }
    assert!(compared > 10, "only {compared} weights moved");
}

#[test]
fn the_moving_average_copies_the_generator_until_ema_start() {
    let mut t = trainer(&["ema=0.9", "ema_start=3"]);
    let bits = |m: &dyn Module| -> Vec<u32> {
        m.params()
            .iter()
            .flat_map(|(_, p)| p.value().to_vec())
            .map(f32::to_bits)
            .collect()
    };
    for _ in 0..3 {
        t.train_step(Instant::now()).unwrap();
        let ema = t.g_ema.as_ref().unwrap();
        assert_eq!(bits(ema), bits(&t.g), "a copy before ema_start");
    }
    t.train_step(Instant::now()).unwrap();
    let ema = t.g_ema.as_ref().unwrap();
    assert_ne!(bits(ema), bits(&t.g), "an average from ema_start on");
}

#[test]
fn the_config_names_the_kinds_in_lowercase() {
    let c = TrainConfig::from_toml(RUN, &["optim.d=\"rmsprop\"".into()]).unwrap();
    assert_eq!(c.optim.d, OptimizerKind::Rmsprop);
    assert!(c.to_toml().contains("d = \"rmsprop\""));
}
