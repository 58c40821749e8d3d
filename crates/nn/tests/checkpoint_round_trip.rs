//! A checkpoint of parameters, buffers and optimizer state survives a trip through a file
//! bit for bit (odd f32 values included), and a run restored from it continues exactly as
//! the uninterrupted run does.

use std::path::PathBuf;

use gantry_autograd::Tape;
use gantry_nn::{
    gradients, param_list, prefixed, Adam, BatchNorm, Checkpoint, LeakyReLU, Linear, Module, Named,
    Optimizer, Sequential, SpectralNorm,
};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn model(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Sequential::new()
        .add(SpectralNorm::new(Linear::new(3, 4, &mut rng), &mut rng))
        .add(BatchNorm::new_1d(4))
        .add(LeakyReLU(0.2))
        .add(Linear::new(4, 2, &mut rng))
}

fn optimizer(m: &Sequential) -> Optimizer<Adam> {
    Optimizer::new(m.params(), 1e-2, Adam::betas(0.5, 0.9))
}

/// Everything a resumed run needs, under the keys it is saved with.
fn state(m: &Sequential, opt: &Optimizer<Adam>) -> Vec<Named<f32>> {
    let mut all = prefixed("model", m.params());
    all.extend(prefixed("model", m.buffers()));
    all.extend(prefixed("optim", opt.state()));
    all
}

/// One training step on `Σ f(x)²` (moves weights, `u`/`v`, running stats, moments, step).
fn train_step(m: &Sequential, opt: &mut Optimizer<Adam>, seed: u64) {
    let x = Tensor::randn(&[5, 3], &mut ChaCha8Rng::seed_from_u64(seed));
    let tape = Tape::new();
    let loss = m.forward(&tape, tape.constant(x)).square().sum();
    let grads = gradients(&tape, loss, &param_list(m));
    opt.step(&grads);
}

fn bits(items: &[Named<f32>]) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let each = items.iter().map(|(n, p)| {
        let v = p.value();
        (
            n.clone(),
            v.shape().to_vec(),
            v.to_vec().iter().map(|x| x.to_bits()).collect(),
        )
    });
    each.collect()
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gantry-nn-{}-{name}", std::process::id()))
}

#[test]
fn round_trip_is_bit_exact_and_resumes_exactly() {
    let (m, mut opt) = {
        let m = model(1);
        let opt = optimizer(&m);
        (m, opt)
    };
    for step in 0..2 {
        train_step(&m, &mut opt, 100 + step);
    }
    // Values whose bits a lossy path would change: a subnormal, the smallest subnormal,
    // −0.0, the extremes, infinities, a non-representable decimal.
    let odd = [
        1e-38,
        -0.0,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
        -f32::MAX,
        f32::INFINITY,
        0.1,
    ];
    let (_, bias) = &m.params()[1];
    let mut b = bias.value().to_vec();
    b[..2].copy_from_slice(&odd[..2]);
    bias.set(Tensor::from_vec(b, &[4]));
    let slot = &opt.state()[0].1; // optim.0.parametrizations.weight.original.exp_avg: [4, 3]
    let mut s = slot.value().to_vec();
    s[..odd.len()].copy_from_slice(&odd);
    slot.set(Tensor::from_vec(s, &[4, 3]));

    let saved = state(&m, &opt);
    let mut ck = Checkpoint::new();
    ck.put_all("", &saved);
    ck.set_meta("epoch", "7");
    let path = temp_path("round-trip.safetensors");
    ck.save(&path).expect("save");
    let loaded = Checkpoint::load(&path).expect("load");
    std::fs::remove_file(&path).expect("the file exists");
    assert_eq!(loaded, ck);
    assert_eq!(loaded.meta("epoch"), Some("7"));
    let mut keys: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(loaded.keys(), keys);
    assert!(keys.contains(&"model.0.parametrizations.weight.original"));
    assert!(keys.contains(&"model.0.parametrizations.weight.0._u"));
    assert!(keys.contains(&"model.1.running_var"));
    assert!(keys.contains(&"optim.3.weight.exp_avg_sq"));
    assert!(keys.contains(&"optim.step"));

    // A different model and a fresh optimizer take on every bit.
    let m2 = model(2);
    let mut opt2 = optimizer(&m2);
    assert_ne!(bits(&state(&m2, &opt2)), bits(&saved));
    loaded.restore(&state(&m2, &opt2)).expect("restore");
    assert_eq!(bits(&state(&m2, &opt2)), bits(&saved));
    assert_eq!(opt2.steps_taken(), 2);

    // Both runs continue identically (with the odd values gone from the state).
    for (_, p) in state(&m, &opt).iter().chain(&state(&m2, &opt2)) {
        p.set(p.value().map(|x| if x.is_finite() { x } else { 0.5 }));
    }
    for step in 0..2 {
        train_step(&m, &mut opt, 200 + step);
        train_step(&m2, &mut opt2, 200 + step);
    }
    assert_eq!(bits(&state(&m2, &opt2)), bits(&state(&m, &opt)));
}

#[test]
fn f64_round_trip_is_bit_exact() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let layer = Linear::<f64>::new(3, 2, &mut rng);
    layer.weight.set(Tensor::from_vec(
        vec![
            1e-300,
            -0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            0.1,
        ],
        &[2, 3],
    ));
    let mut ck = Checkpoint::new();
    ck.put_all("l", &layer.params());
    let back = Checkpoint::from_bytes(&ck.to_bytes()).expect("parse");
    let other = Linear::<f64>::new(3, 2, &mut rng);
    back.restore(&prefixed("l", other.params()))
        .expect("restore");
    let b = |l: &Linear<f64>| {
        l.weight
            .value()
            .to_vec()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(b(&other), b(&layer));
}
