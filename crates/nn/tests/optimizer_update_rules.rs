//! Optimizers against the published update rules, written out step by step in plain f64
//! as in the pseudo-code of PyTorch's documentation (`torch.optim.SGD`, `Adam`, `AdamW`,
//! `RMSprop`), on the quadratic `f(p) = ½ Σ aᵢ(pᵢ − cᵢ)²` whose gradient is `aᵢ(pᵢ − cᵢ)`.
//!
//! Hyperparameters are far from the defaults where that makes a term visible (a large ε
//! shows where ε sits; dampening, weight decay and Nesterov all change the numbers).

use gantry_autograd::Tape;
use gantry_nn::{gradients, Adam, Optimizer, Param, ParamGroup, ParamTape, RmsProp, Rule, Sgd};
use gantry_tensor::Tensor;

const A: [f64; 4] = [1.0, 2.5, 0.5, 4.0];
const C: [f64; 4] = [0.3, -1.0, 2.0, 0.0];
const P0: [f64; 4] = [1.0, 0.5, -1.5, 2.0];
const STEPS: usize = 3;

/// `∇f(p) = a ⊙ (p − c)`.
fn grad(p: &[f64]) -> Vec<f64> {
    (0..p.len()).map(|i| A[i] * (p[i] - C[i])).collect()
}

/// The gantry optimizer on the quadratic, with the gradient taken by the tape; the
/// parameter after each step.
fn run<R: Rule>(rule: R, lr: f64) -> Vec<Vec<f64>> {
    let p = Param::new(Tensor::from_vec(P0.to_vec(), &[4]));
    let mut opt = Optimizer::new(vec![("p".to_string(), p.clone())], lr, rule);
    let (a, c) = (
        Tensor::from_vec(A.to_vec(), &[4]),
        Tensor::from_vec(C.to_vec(), &[4]),
    );
    (0..STEPS)
        .map(|_| {
            let tape = Tape::new();
            let d = tape.param(&p) - tape.constant(c.clone());
            let f = (tape.constant(a.clone()) * d.square()).sum() * 0.5;
            let g = gradients(&tape, f, std::slice::from_ref(&p));
            assert_eq!(g[0].to_vec(), grad(&p.value().to_vec()));
            opt.step(&g);
            p.value().to_vec()
        })
        .collect()
}

fn assert_trajectories(what: &str, got: &[Vec<f64>], want: &[Vec<f64>]) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        for i in 0..g.len() {
            assert!(
                (g[i] - w[i]).abs() <= 1e-12 * (1.0 + w[i].abs()),
                "{what}: step {} element {i}: got {}, want {}",
                t + 1,
                g[i],
                w[i]
            );
        }
    }
    // The parameters moved (no rule degenerates to "do nothing").
    assert!(got[STEPS - 1]
        .iter()
        .zip(P0)
        .any(|(g, p)| (g - p).abs() > 1e-3));
}

/// PyTorch's SGD pseudo-code:
/// `g ← g + λθ`; if μ ≠ 0: `b ← g` at t = 1, else `b ← μb + (1 − τ)g`;
/// `g ← g + μb` if Nesterov else `g ← b`; `θ ← θ − γg`.
fn sgd_reference(lr: f64, mu: f64, tau: f64, wd: f64, nesterov: bool) -> Vec<Vec<f64>> {
    let mut theta = P0.to_vec();
    let mut b = [0.0; 4];
    let mut out = Vec::new();
    for t in 1..=STEPS {
        let mut g = grad(&theta);
        for i in 0..4 {
            if wd != 0.0 {
                g[i] += wd * theta[i];
            }
            if mu != 0.0 {
                b[i] = if t > 1 {
                    mu * b[i] + (1.0 - tau) * g[i]
                } else {
                    g[i]
                };
                g[i] = if nesterov { g[i] + mu * b[i] } else { b[i] };
            }
            theta[i] -= lr * g[i];
        }
        out.push(theta.clone());
    }
    out
}

/// PyTorch's Adam / AdamW pseudo-code (amsgrad off):
/// Adam `g ← g + λθ`, or AdamW `θ ← θ − γλθ`; `m ← β₁m + (1 − β₁)g`,
/// `v ← β₂v + (1 − β₂)g²`, `m̂ = m/(1 − β₁ᵗ)`, `v̂ = v/(1 − β₂ᵗ)`, `θ ← θ − γm̂/(√v̂ + ε)`.
/// Also returns the final `m` (the `exp_avg` state).
fn adam_reference(
    lr: f64,
    (b1, b2): (f64, f64),
    eps: f64,
    wd: f64,
    decoupled: bool,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut theta = P0.to_vec();
    let (mut m, mut v) = (vec![0.0; 4], vec![0.0; 4]);
    let mut out = Vec::new();
    for t in 1..=STEPS as i32 {
        let mut g = grad(&theta);
        for i in 0..4 {
            if decoupled {
                theta[i] -= lr * wd * theta[i];
            } else {
                g[i] += wd * theta[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let m_hat = m[i] / (1.0 - b1.powi(t));
            let v_hat = v[i] / (1.0 - b2.powi(t));
            theta[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
        out.push(theta.clone());
    }
    (out, m)
}

/// PyTorch's RMSprop pseudo-code:
/// `g ← g + λθ`; `v ← αv + (1 − α)g²`; `ṽ = v`; centered: `ḡ ← αḡ + (1 − α)g`,
/// `ṽ ← ṽ − ḡ²`; with μ > 0: `b ← μb + g/(√ṽ + ε)`, `θ ← θ − γb`; else
/// `θ ← θ − γg/(√ṽ + ε)`.
fn rmsprop_reference(
    lr: f64,
    alpha: f64,
    eps: f64,
    wd: f64,
    mu: f64,
    centered: bool,
) -> Vec<Vec<f64>> {
    let mut theta = P0.to_vec();
    let (mut v, mut g_avg, mut b) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let mut out = Vec::new();
    for _ in 0..STEPS {
        let mut g = grad(&theta);
        for i in 0..4 {
            g[i] += wd * theta[i];
            v[i] = alpha * v[i] + (1.0 - alpha) * g[i] * g[i];
            let mut v_tilde = v[i];
            if centered {
                g_avg[i] = alpha * g_avg[i] + (1.0 - alpha) * g[i];
                v_tilde -= g_avg[i] * g_avg[i];
            }
            if mu > 0.0 {
                b[i] = mu * b[i] + g[i] / (v_tilde.sqrt() + eps);
                theta[i] -= lr * b[i];
            } else {
                theta[i] -= lr * g[i] / (v_tilde.sqrt() + eps);
            }
        }
        out.push(theta.clone());
    }
    out
}

#[test]
fn sgd_plain() {
    let got = run(Sgd::default(), 0.1);
    assert_trajectories("SGD", &got, &sgd_reference(0.1, 0.0, 0.0, 0.0, false));
}

#[test]
fn sgd_momentum_and_dampening() {
    let rule = Sgd {
        momentum: 0.9,
        dampening: 0.3,
        ..Sgd::default()
    };
    let got = run(rule, 0.05);
    let want = sgd_reference(0.05, 0.9, 0.3, 0.0, false);
    assert_trajectories("SGD momentum + dampening", &got, &want);
}

#[test]
fn sgd_nesterov_and_weight_decay() {
    let rule = Sgd {
        momentum: 0.8,
        weight_decay: 0.1,
        nesterov: true,
        ..Sgd::default()
    };
    let got = run(rule, 0.05);
    let want = sgd_reference(0.05, 0.8, 0.0, 0.1, true);
    assert_trajectories("SGD Nesterov + weight decay", &got, &want);
}

#[test]
fn adam() {
    let got = run(Adam::default(), 0.1);
    let (want, _) = adam_reference(0.1, (0.9, 0.999), 1e-8, 0.0, false);
    assert_trajectories("Adam", &got, &want);
    // Other betas and a large ε, where ε's place in the denominator matters.
    let rule = Adam {
        eps: 0.5,
        ..Adam::betas(0.8, 0.9)
    };
    let got = run(rule, 0.1);
    let (want, _) = adam_reference(0.1, (0.8, 0.9), 0.5, 0.0, false);
    assert_trajectories("Adam β = (0.8, 0.9), ε = 0.5", &got, &want);
}

#[test]
fn adam_with_weight_decay() {
    let rule = Adam {
        weight_decay: 0.1,
        ..Adam::default()
    };
    let got = run(rule, 0.1);
    let (want, _) = adam_reference(0.1, (0.9, 0.999), 1e-8, 0.1, false);
    assert_trajectories("Adam + L2 weight decay", &got, &want);
}

#[test]
fn adamw() {
    let rule = Adam {
        weight_decay: 0.1,
        ..Adam::adamw()
    };
    let got = run(rule, 0.1);
    let (want, _) = adam_reference(0.1, (0.9, 0.999), 1e-8, 0.1, true);
    assert_trajectories("AdamW", &got, &want);
    // And the constructor's defaults are PyTorch's AdamW defaults.
    let d = Adam::adamw();
    assert_eq!((d.beta1, d.beta2, d.eps), (0.9, 0.999, 1e-8));
    assert_eq!((d.weight_decay, d.decoupled), (0.01, true));
}

#[test]
fn rmsprop() {
    let got = run(RmsProp::default(), 0.01);
    let want = rmsprop_reference(0.01, 0.99, 1e-8, 0.0, 0.0, false);
    assert_trajectories("RMSprop", &got, &want);
}

#[test]
fn rmsprop_centered_with_momentum() {
    let rule = RmsProp {
        alpha: 0.9,
        eps: 1e-3,
        weight_decay: 0.05,
        momentum: 0.9,
        centered: true,
    };
    let got = run(rule, 0.01);
    let want = rmsprop_reference(0.01, 0.9, 1e-3, 0.05, 0.9, true);
    assert_trajectories("RMSprop centered + momentum", &got, &want);
}

#[test]
fn groups_have_their_own_learning_rates() {
    // Two groups under SGD with momentum: each follows the reference at its own rate.
    let (pa, pb) = (
        Param::new(Tensor::from_vec(P0.to_vec(), &[4])),
        Param::new(Tensor::from_vec(P0.to_vec(), &[4])),
    );
    let groups = vec![
        ParamGroup {
            params: vec![("a".to_string(), pa.clone())],
            lr: 0.1,
        },
        ParamGroup {
            params: vec![("b".to_string(), pb.clone())],
            lr: 0.01,
        },
    ];
    let rule = Sgd {
        momentum: 0.9,
        ..Sgd::default()
    };
    let mut opt = Optimizer::with_groups(groups, rule);
    assert_eq!(opt.params().len(), 2);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    for _ in 0..STEPS {
        let grads = [pa.value(), pb.value()].map(|p| Tensor::from_vec(grad(&p.to_vec()), &[4]));
        opt.step(&grads);
        got_a.push(pa.value().to_vec());
        got_b.push(pb.value().to_vec());
    }
    assert_trajectories("group a", &got_a, &sgd_reference(0.1, 0.9, 0.0, 0.0, false));
    assert_trajectories(
        "group b",
        &got_b,
        &sgd_reference(0.01, 0.9, 0.0, 0.0, false),
    );
}

#[test]
fn state_is_named_per_parameter_and_slot() {
    let p = Param::new(Tensor::from_vec(P0.to_vec(), &[4]));
    let q = Param::new(Tensor::<f64>::zeros(&[2, 3]));
    let groups = vec![
        ParamGroup {
            params: vec![("g.0.weight".to_string(), p.clone())],
            lr: 0.1,
        },
        ParamGroup {
            params: vec![("d.bias".to_string(), q.clone())],
            lr: 0.2,
        },
    ];
    let mut opt = Optimizer::with_groups(groups, Adam::default());
    for _ in 0..STEPS {
        let g = Tensor::from_vec(grad(&p.value().to_vec()), &[4]);
        opt.step(&[g, Tensor::ones(&[2, 3])]);
    }
    let state = opt.state();
    let names: Vec<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "g.0.weight.exp_avg",
            "g.0.weight.exp_avg_sq",
            "d.bias.exp_avg",
            "d.bias.exp_avg_sq",
            "step"
        ]
    );
    assert_eq!(state[2].1.shape(), [2, 3]);
    assert_eq!(state[4].1.value().item(), STEPS as f64);
    assert_eq!(opt.steps_taken(), STEPS as u64);
    // The first moment is the reference's m after three steps.
    let (_, m) = adam_reference(0.1, (0.9, 0.999), 1e-8, 0.0, false);
    let exp_avg = state[0].1.value().to_vec();
    for i in 0..4 {
        assert!((exp_avg[i] - m[i]).abs() < 1e-12, "exp_avg[{i}]");
    }

    assert_eq!(state_names(Sgd::default()), ["w.momentum_buffer", "step"]);
    assert_eq!(
        state_names(RmsProp::default()),
        ["w.square_avg", "w.momentum_buffer", "w.grad_avg", "step"]
    );
}

fn state_names<R: Rule>(rule: R) -> Vec<String> {
    let p = Param::new(Tensor::<f64>::zeros(&[1]));
    let opt = Optimizer::new(vec![("w".to_string(), p)], 0.1, rule);
    opt.state().into_iter().map(|(n, _)| n).collect()
}

/// A large parameter is updated in parallel chunks; every rule is elementwise, so the
/// result must be the rule applied to the whole tensor at once, bit for bit, and a
/// non-finite gradient anywhere must be reported.
#[test]
fn chunked_parallel_updates_equal_one_whole_update() {
    let n = 50_003; // several chunks and a ragged last one
    let init: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let g: Vec<f32> = (0..n)
        .map(|i| ((i * 53 % 89) as f32 - 44.0) / 10.0)
        .collect();
    let rule = Adam::betas(0.5, 0.999);
    let p = Param::new(Tensor::from_vec(init.clone(), &[n]));
    let mut opt = Optimizer::new(vec![("w".to_string(), p.clone())], 1e-3, rule);
    let (mut want, mut m, mut v) = (init, vec![0f32; n], vec![0f32; n]);
    for step in 1..=3 {
        assert!(opt.step(&[Tensor::from_vec(g.clone(), &[n])]));
        rule.update(&mut want, &g, &mut [&mut m, &mut v], 1e-3, step);
    }
    assert_eq!(p.value().to_vec(), want);
    let mut bad = g.clone();
    bad[n - 1] = f32::NAN;
    assert!(!opt.step(&[Tensor::from_vec(bad, &[n])]));
}

/// The gradient norm the optimizer reports is `√Σ g²` over all its parameters' gradients
/// (summed here in f64 in a plain loop), across several chunks and two groups; a gradient
/// whose square overflows `f32` still has a finite norm; before any step it is 0. Adam
/// sums the squares in its own loop, SGD after its loop: both are checked.
#[test]
fn the_reported_gradient_norm_is_that_of_every_gradient() {
    reported_norm_is_that_of_every_gradient(Sgd::default());
    reported_norm_is_that_of_every_gradient(Adam::default());
}

fn reported_norm_is_that_of_every_gradient<R: Rule>(rule: R) {
    let (n, m) = (40_001, 7);
    let ga: Vec<f32> = (0..n)
        .map(|i| ((i * 29 % 97) as f32 - 48.0) / 7.0)
        .collect();
    let gb: Vec<f32> = (0..m).map(|i| i as f32 - 3.0).collect();
    let params = |len: usize| Param::new(Tensor::<f32>::zeros(&[len]));
    let mut opt = Optimizer::with_groups(
        vec![
            ParamGroup {
                params: vec![("a".to_string(), params(n))],
                lr: 1e-3,
            },
            ParamGroup {
                params: vec![("b".to_string(), params(m))],
                lr: 1e-2,
            },
        ],
        rule,
    );
    assert_eq!(opt.grad_norm(), 0.0);
    let norm = |g: &[&[f32]]| {
        g.concat()
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    for big in [None, Some(3e19f32)] {
        let mut gb = gb.clone();
        if let Some(v) = big {
            gb[2] = v; // its square, 9e38, overflows f32
        }
        opt.step(&[
            Tensor::from_vec(ga.clone(), &[n]),
            Tensor::from_vec(gb.clone(), &[m]),
        ]);
        let (got, want) = (opt.grad_norm(), norm(&[&ga, &gb]));
        assert!(want.is_finite());
        assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    }
}
