//! The four standard workloads of DESIGN.md, shared by `gantry bench` and
//! `benches/train_step.rs`, and matching `benches/peers/torch_gan_steps.py` step for step.
//!
//! Each is a [`Trainer`] on synthetic data of the right shape (as the PyTorch script uses
//! random data); one iteration is one `train_step` (n_critic critic steps + 1 generator step).
//! A fifth, `fashion-sn-hinge`, is `dcgan-sn-hinge` on the real Fashion-MNIST images: the
//! two side by side measure what the data path (`u8` images gathered and converted to `f32`
//! per batch) adds to a step.

use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::toy::Toy;
use crate::data::{Data, DataConfig};
use crate::losses::objective::Objective;
use crate::losses::penalty::Penalty;
use crate::train::config::{OptimConfig, Schedule, TrainConfig};
use crate::train::models::ModelConfig;
use crate::train::trainer::Trainer;

/// The workload names, in the order `gantry bench` runs them.
pub const NAMES: [&str; 5] = [
    "toy-wgangp",
    "mlp-ns",
    "dcgan-sn-hinge",
    "dcgan-wgangp",
    "fashion-sn-hinge",
];

/// The trainer of a standard workload, or `None` for an unknown name.
pub fn trainer(name: &str) -> Option<Trainer> {
    let gp = Penalty::GradientPenalty {
        lambda: 10.0,
        one_sided: false,
    };
    let adam = |lr, beta2| OptimConfig {
        g_lr: lr,
        d_lr: lr,
        beta1: 0.5,
        beta2,
        schedule: Schedule::Constant,
        ..OptimConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let images = |rng: &mut ChaCha8Rng, shape: &[usize]| {
        Data::Samples(Tensor::rand_uniform(shape, -1.0, 1.0, rng))
    };
    let dcgan = |sn| ModelConfig::Dcgan {
        z_dim: 100,
        channels: 64,
        spectral_norm: sn,
        conditional: None,
    };
    let (objective, penalty, model, data, batch_size, n_critic, optim) = match name {
        "toy-wgangp" => (
            Objective::Wasserstein,
            gp,
            ModelConfig::Mlp {
                z_dim: 2,
                g_hidden: vec![512; 3],
                d_hidden: vec![512; 3],
                leaky: false,
                tanh_output: false,
                spectral_norm: false,
            },
            Data::Samples(Tensor::randn(&[4096, 2], &mut rng)),
            256,
            5,
            adam(1e-4, 0.9),
        ),
        "mlp-ns" => (
            Objective::NonSaturating,
            Penalty::None,
            ModelConfig::Mlp {
                z_dim: 100,
                g_hidden: vec![256, 512, 1024],
                d_hidden: vec![512, 256],
                leaky: true,
                tanh_output: true,
                spectral_norm: false,
            },
            images(&mut rng, &[1024, 784]),
            64,
            1,
            adam(2e-4, 0.999),
        ),
        "dcgan-sn-hinge" => (
            Objective::Hinge,
            Penalty::None,
            dcgan(true),
            images(&mut rng, &[512, 1, 28, 28]),
            64,
            1,
            adam(2e-4, 0.999),
        ),
        "fashion-sn-hinge" => (
            Objective::Hinge,
            Penalty::None,
            dcgan(true),
            Data::load(&DataConfig::FashionMnist {
                path: None,
                flip: false,
            })
            .expect("the bundled Fashion-MNIST loads"),
            64,
            1,
            adam(2e-4, 0.999),
        ),
        "dcgan-wgangp" => (
            Objective::Wasserstein,
            gp,
            dcgan(false),
            images(&mut rng, &[512, 1, 28, 28]),
            64,
            1,
            adam(2e-4, 0.999),
        ),
        _ => return None,
    };
    let config = TrainConfig {
        name: name.to_string(),
        seed: 0,
        steps: usize::MAX,
        batch_size,
        n_critic,
        objective,
        penalty,
        data: DataConfig::Toy(Toy::ring8()),
        model,
        optim,
        ema: None,
        ema_start: 0,
        log_every: 1,
        eval_every: usize::MAX,
        checkpoint_every: usize::MAX,
        eval_samples: 1,
    };
    Some(Trainer::with_data(config, data).expect("the standard workloads are valid"))
}
