//! The standard networks: shapes for every supported image shape and conditioning, names
//! and weights bit for bit equal to the two-stage DCGAN gantry always built, conditional
//! forwards against hand computations, and first and second derivatives of a tiny
//! projection critic (through its spectrally normalized embedding) in f64.

use gantry_autograd::gradcheck::higher_ranked;
use gantry_autograd::{gradcheck, gradgradcheck, Tape, Tolerance, Var};
use gantry_gan::train::models::dcgan::Plan;
use gantry_gan::train::models::{
    Conditioning, Critic, CriticConditioning, Generator, GeneratorConditioning, ModelConfig,
};
use gantry_nn::{
    gradients, BatchNorm, Conv2d, ConvTranspose2d, Embedding, Flatten, LeakyReLU, Linear, Module,
    Named, Param, ReLU, Reshape, Sequential, SpectralNorm, Tanh, WeightLayer,
};
use gantry_tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn dcgan(conditional: Option<Conditioning>) -> ModelConfig {
    ModelConfig::Dcgan {
        z_dim: 8,
        channels: 4,
        spectral_norm: true,
        conditional,
    }
}

fn conditioning(g: GeneratorConditioning, d: CriticConditioning) -> Conditioning {
    Conditioning {
        generator: g,
        critic: d,
        acgan_weight: None,
    }
}

fn names(items: Vec<Named<f32>>) -> Vec<String> {
    items.into_iter().map(|(n, _)| n).collect()
}

#[test]
fn the_stage_rule() {
    let plan = |s| Plan::for_shape(&[1, s, s]).unwrap();
    let got: Vec<(usize, usize)> = [8, 16, 28, 32, 48, 64]
        .iter()
        .map(|&s| (plan(s).base, plan(s).stages))
        .collect();
    assert_eq!(got, [(2, 2), (4, 2), (7, 2), (4, 3), (3, 4), (4, 4)]);
    assert_eq!(Plan::for_shape(&[3, 32, 32]).unwrap().image_channels, 3);
}

#[test]
fn unsupported_shapes_and_settings_are_named() {
    for shape in [
        vec![1, 30, 30],
        vec![2, 32, 32],
        vec![4, 8, 8],
        vec![1, 32, 28],
        vec![784],
    ] {
        let e = dcgan(None).validate(&shape).unwrap_err();
        assert!(
            e.contains("dcgan") && e.contains(&format!("{shape:?}")),
            "{shape:?}: {e}"
        );
        let built = dcgan(None).build::<f32, _>(&shape, None, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(built.is_err(), "{shape:?}");
    }
    let cond = dcgan(Some(conditioning(
        GeneratorConditioning::Cbn,
        CriticConditioning::Projection,
    )));
    let e = cond
        .build::<f32, _>(&[1, 8, 8], None, &mut ChaCha8Rng::seed_from_u64(0))
        .err()
        .unwrap();
    assert!(
        e.contains("model.conditional") && e.contains("labels"),
        "{e}"
    );
    let mut c = conditioning(GeneratorConditioning::Cbn, CriticConditioning::Projection);
    c.acgan_weight = Some(0.5);
    let e = dcgan(Some(c.clone())).validate(&[1, 8, 8]).unwrap_err();
    assert!(e.contains("acgan_weight"), "{e}");
    c.critic = CriticConditioning::Acgan;
    assert_eq!(dcgan(Some(c.clone())).validate(&[1, 8, 8]), Ok(()));
    assert_eq!(dcgan(Some(c.clone())).acgan_weight(), Some(0.5));
    c.acgan_weight = Some(f64::NAN);
    assert!(dcgan(Some(c)).validate(&[1, 8, 8]).is_err());
}

#[test]
fn the_conditional_table_reads_from_toml() {
    let text = r#"
        kind = "dcgan"
        spectral_norm = true
        [conditional]
        generator = "cbn"
        critic = "acgan"
        acgan_weight = 2.0
    "#;
    let m: ModelConfig = toml::from_str(text).unwrap();
    assert_eq!(m.acgan_weight(), Some(2.0));
    let c = m.conditioning().unwrap();
    assert_eq!(
        (c.generator, c.critic),
        (GeneratorConditioning::Cbn, CriticConditioning::Acgan)
    );
    // Unconditional configs serialize as before (no `conditional` key).
    assert!(!toml::to_string(&dcgan(None))
        .unwrap()
        .contains("conditional"));
    let bad = text.replace("\"cbn\"", "\"film\"");
    assert!(toml::from_str::<ModelConfig>(&bad).is_err());
}

/// Every (C, s, conditioning): the generator makes `[n, C, s, s]`, the critic `[n, 1]`
/// (and `[n, K]` class logits for AC-GAN), with labels where the model needs them.
#[test]
fn forward_shapes_for_every_shape_and_conditioning() {
    let (n, classes) = (3, 5);
    let labels = [4u32, 0, 2];
    let mut conditionings = vec![None];
    for g in [GeneratorConditioning::Cbn, GeneratorConditioning::Concat] {
        for d in [CriticConditioning::Projection, CriticConditioning::Acgan] {
            conditionings.push(Some(conditioning(g, d)));
        }
    }
    for c in [1, 3] {
        for s in [8, 28, 32, 64] {
            for cond in &conditionings {
                let what = format!("C={c} s={s} {cond:?}");
                let model = dcgan(cond.clone());
                let mut rng = ChaCha8Rng::seed_from_u64(1);
                let (g, d): (Generator, Critic) =
                    model.build(&[c, s, s], Some(classes), &mut rng).unwrap();
                let labels = cond.as_ref().map(|_| &labels[..]);
                let tape = Tape::new();
                let z = tape.constant(Tensor::randn(&[n, 8], &mut rng));
                let x = g.forward(&tape, z, labels);
                assert_eq!(x.shape(), vec![n, c, s, s], "{what}");
                let out = d.forward(&tape, x, labels);
                assert_eq!(out.logit.shape(), vec![n, 1], "{what}");
                let acgan = cond
                    .as_ref()
                    .is_some_and(|c| c.critic == CriticConditioning::Acgan);
                assert_eq!(
                    out.class_logits.map(|l| l.shape()),
                    acgan.then(|| vec![n, classes]),
                    "{what}"
                );
                // The conditional parts are named, PyTorch-like.
                let (gp, dp) = (names(g.params()), names(d.params()));
                match cond.as_ref().map(|c| (c.generator, c.critic)) {
                    None => assert!(gp.iter().chain(&dp).all(|n| !n.contains("embed"))),
                    Some((gen, critic)) => {
                        let has = |v: &[String], s: &str| v.iter().any(|n| n.contains(s));
                        assert_eq!(has(&gp, "gain.weight"), gen == GeneratorConditioning::Cbn);
                        assert_eq!(
                            has(&gp, "embed.weight"),
                            gen == GeneratorConditioning::Concat
                        );
                        assert_eq!(
                            has(&dp, "embed.parametrizations.weight.original"),
                            critic == CriticConditioning::Projection
                        );
                        assert_eq!(
                            has(&dp, "classifier.parametrizations.weight.original"),
                            critic == CriticConditioning::Acgan
                        );
                    }
                }
            }
        }
    }
}

/// Today's two-stage DCGAN exactly as gantry built it before `Generator`/`Critic`
/// existed (the same layers drawn in the same order), for comparison.
fn two_stage_dcgan(s: usize, sn: bool, rng: &mut ChaCha8Rng) -> (Sequential, Sequential) {
    fn init<L: WeightLayer<f32>>(layer: L, rng: &mut ChaCha8Rng) -> L {
        let w = layer.weight();
        w.set(gantry_nn::init::dcgan_normal(&w.shape(), rng));
        if let Some(b) = layer.bias() {
            b.set(Tensor::zeros(&b.shape()));
        }
        layer
    }
    fn add<L: WeightLayer<f32> + Module + 'static>(
        d: Sequential,
        l: L,
        sn: bool,
        rng: &mut ChaCha8Rng,
    ) -> Sequential {
        if sn {
            d.add(SpectralNorm::new(l, rng))
        } else {
            d.add(l)
        }
    }
    let (z, c, b) = (8, 4, s / 4);
    let g = Sequential::new()
        .add(init(Linear::new(z, 2 * c * b * b, rng), rng))
        .add(BatchNorm::new_1d(2 * c * b * b))
        .add(ReLU)
        .add(Reshape(vec![2 * c, b, b]))
        .add(init(ConvTranspose2d::new(2 * c, c, 4, 2, 1, rng), rng))
        .add(BatchNorm::new_2d(c))
        .add(ReLU)
        .add(init(ConvTranspose2d::new(c, 1, 4, 2, 1, rng), rng))
        .add(Tanh);
    let mut d = add(
        Sequential::new(),
        init(Conv2d::new(1, c, 4, 2, 1, rng), rng),
        sn,
        rng,
    )
    .add(LeakyReLU(0.2));
    d = add(d, init(Conv2d::new(c, 2 * c, 4, 2, 1, rng), rng), sn, rng).add(LeakyReLU(0.2));
    d = add(
        d.add(Flatten),
        init(Linear::new(2 * c * b * b, 1, rng), rng),
        sn,
        rng,
    );
    (g, d)
}

#[test]
fn digits_and_28x28_networks_are_unchanged_bit_for_bit() {
    for (s, sn) in [(8, false), (8, true), (28, true), (28, false)] {
        let mut model = dcgan(None);
        if let ModelConfig::Dcgan { spectral_norm, .. } = &mut model {
            *spectral_norm = sn;
        }
        let (g, d): (Generator, Critic) = model
            .build(&[1, s, s], None, &mut ChaCha8Rng::seed_from_u64(9))
            .unwrap();
        let (og, od) = two_stage_dcgan(s, sn, &mut ChaCha8Rng::seed_from_u64(9));
        let state = |m: &dyn Module| -> Vec<(String, Vec<u32>)> {
            let all = [m.params(), m.buffers()].concat();
            let each = all.into_iter();
            each.map(|(n, p)| (n, p.value().to_vec().iter().map(|v| v.to_bits()).collect()))
                .collect()
        };
        assert_eq!(state(&g), state(&og), "generator s={s} sn={sn}");
        assert_eq!(state(&d), state(&od), "critic s={s} sn={sn}");
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let z = Tensor::randn(&[4, 8], &mut rng);
        let tape = Tape::new();
        let x = g.forward(&tape, tape.constant(z.clone()), None);
        let ox = og.forward(&tape, tape.constant(z));
        assert_eq!(x.value().to_vec(), ox.value().to_vec());
        let v = d.forward(&tape, x, None).logit;
        assert_eq!(v.value().to_vec(), od.forward(&tape, ox).value().to_vec());
    }
}

// ---- Conditional forwards by hand -------------------------------------------------------

#[test]
fn projection_critic_by_hand() {
    // φ = flatten(x) (2 features), ψ(φ) = w·φ + b with w = [1, -2], b = 0.5,
    // embed = [[1, 0], [0.5, 3]]. x = [[2, 1], [1, -1]], y = [1, 0]:
    // D₀ = (2 − 2 + 0.5) + (0.5·2 + 3·1) = 4.5, D₁ = (1 + 2 + 0.5) + (1·1 + 0·(−1)) = 4.5 + 0.
    let head = Linear::<f64>::new(2, 1, &mut ChaCha8Rng::seed_from_u64(0));
    head.weight.set(Tensor::from_vec(vec![1.0, -2.0], &[1, 2]));
    head.bias
        .as_ref()
        .unwrap()
        .set(Tensor::from_vec(vec![0.5], &[1]));
    let mut critic = Critic::unconditional(Sequential::new().add(Flatten), head);
    let table = Tensor::from_vec(vec![1.0, 0.0, 0.5, 3.0], &[2, 2]);
    critic.embed = Some(Box::new(Embedding::from_table(table)));
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![2.0, 1.0, 1.0, -1.0], &[2, 2]));
    let out = critic.forward(&tape, x, Some(&[1, 0]));
    assert_eq!(out.logit.value().to_vec(), vec![4.5, 4.5]);
    assert!(out.class_logits.is_none());
    let names: Vec<String> = critic.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "embed.weight"]);
}

#[test]
fn concat_generator_by_hand() {
    // net = Linear(z 1 + embedding 2 → 1) with w = [1, 10, 100], b = 0;
    // embed = [[1, 2], [3, 4]]; z = [[0.5], [-1]], y = [1, 0]:
    // G = [0.5 + 30 + 400, −1 + 10 + 200] = [430.5, 209].
    let linear = Linear::<f64>::new(3, 1, &mut ChaCha8Rng::seed_from_u64(0));
    linear
        .weight
        .set(Tensor::from_vec(vec![1.0, 10.0, 100.0], &[1, 3]));
    linear.bias.as_ref().unwrap().set(Tensor::zeros(&[1]));
    let g = Generator {
        net: Sequential::new().add(linear),
        embed: Some(Embedding::from_table(Tensor::from_vec(
            vec![1.0, 2.0, 3.0, 4.0],
            &[2, 2],
        ))),
        num_classes: Some(2),
    };
    let tape = Tape::new();
    let z = tape.constant(Tensor::from_vec(vec![0.5, -1.0], &[2, 1]));
    assert_eq!(
        g.forward(&tape, z, Some(&[1, 0])).value().to_vec(),
        vec![430.5, 209.0]
    );
}

#[test]
fn cbn_generator_uses_each_class_gain_and_bias() {
    // A built cBN generator whose first conditional batch norm gets class-specific
    // biases: samples with the same z but different labels differ; same labels, equal.
    let model = dcgan(Some(conditioning(
        GeneratorConditioning::Cbn,
        CriticConditioning::Projection,
    )));
    let (g, _): (Generator, Critic) = model
        .build(&[1, 8, 8], Some(3), &mut ChaCha8Rng::seed_from_u64(4))
        .unwrap();
    let bias = g
        .params()
        .into_iter()
        .find(|(n, _)| n == "1.bias.weight")
        .unwrap()
        .1;
    let width = bias.shape()[1];
    bias.set(Tensor::randn(
        &[3, width],
        &mut ChaCha8Rng::seed_from_u64(5),
    ));
    g.set_training(false);
    let tape = Tape::new();
    let z = Tensor::randn(&[1, 8], &mut ChaCha8Rng::seed_from_u64(6));
    let z4 = tape.constant(Tensor::concat(&[z.clone(), z.clone(), z.clone(), z], 0));
    let x = g.forward(&tape, z4, Some(&[0, 1, 0, 2])).value().to_vec();
    let img = |i: usize| &x[i * 64..(i + 1) * 64];
    assert_eq!(img(0), img(2));
    assert_ne!(img(0), img(1));
    assert_ne!(img(1), img(3));
}

// ---- Derivatives of a tiny projection critic ----------------------------------------------

/// A tiny SN projection critic in f64 (8×8 images, c = 1, 3 classes), in eval mode so the
/// power iteration does not move between evaluations.
fn tiny_projection_critic() -> Critic<f64> {
    let model = ModelConfig::Dcgan {
        z_dim: 2,
        channels: 1,
        spectral_norm: true,
        conditional: Some(conditioning(
            GeneratorConditioning::Cbn,
            CriticConditioning::Projection,
        )),
    };
    let (_, d): (Generator<f64>, Critic<f64>) = model
        .build(&[1, 8, 8], Some(3), &mut ChaCha8Rng::seed_from_u64(7))
        .unwrap();
    // A larger embedding than DCGAN's init, so the projection term matters.
    let (_, table) = d
        .params()
        .into_iter()
        .find(|(n, _)| n == "embed.parametrizations.weight.original")
        .unwrap();
    table.set(Tensor::randn(
        &table.shape(),
        &mut ChaCha8Rng::seed_from_u64(8),
    ));
    d.set_training(false);
    d
}

const LABELS: [u32; 3] = [2, 0, 2];

fn images(seed: u64) -> Tensor<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v = (0..3 * 64).map(|_| rng.gen_range(-1.0..1.0)).collect();
    Tensor::from_vec(v, &[3, 1, 8, 8])
}

/// `Σᵢ ⟨∇ₓ D(x, y), v⟩`-style scalar: the gradient-penalty path, whose parameter gradient
/// differentiates the critic's backward pass (the embedding's included).
fn input_gradient_dot<'t>(tape: &'t Tape<f64>, d: &Critic<f64>, x: &Tensor<f64>) -> Var<'t, f64> {
    let x = tape.var(x.clone());
    let out = d.forward(tape, x, Some(&LABELS)).logit.sum();
    let g = tape.grad(out, &[x], true)[0];
    (g * tape.constant(images(11))).sum()
}

#[test]
fn tiny_projection_critic_passes_gradcheck_and_gradgradcheck() {
    let d = tiny_projection_critic();
    let x = images(10);
    let f = higher_ranked(|xs| d.forward(xs[0].tape(), xs[0], Some(&LABELS)).logit);
    let tol = Tolerance::default();
    gradcheck(f, std::slice::from_ref(&x), tol).unwrap();
    gradgradcheck(f, std::slice::from_ref(&x), tol).unwrap();
    // Every parameter (the embedding's table among them), first order and through the
    // input gradient, against central differences of the Params themselves.
    let params: Vec<Named<f64>> = d.params();
    assert!(params.iter().any(|(n, _)| n.starts_with("embed.")));
    check_param_gradients(&params, |tape| {
        let x = tape.constant(x.clone());
        d.forward(tape, x, Some(&LABELS)).logit.square().sum()
    });
    check_param_gradients(&params, |tape| input_gradient_dot(tape, &d, &x));
}

/// Checks `∂s/∂p` for every parameter element against a central difference.
fn check_param_gradients<F>(params: &[Named<f64>], s: F)
where
    F: for<'t> Fn(&'t Tape<f64>) -> Var<'t, f64>,
{
    let tol = Tolerance::default();
    let analytic = {
        let tape = Tape::new();
        let out = s(&tape);
        let ps: Vec<Param<f64>> = params.iter().map(|(_, p)| p.clone()).collect();
        gradients(&tape, out, &ps)
    };
    for ((name, p), grad) in params.iter().zip(&analytic) {
        let base = p.value();
        let (values, grad) = (base.to_vec(), grad.to_vec());
        // Piecewise-linear layers leave some second-order gradients at zero; the
        // embedding's never is.
        if name.starts_with("embed.") {
            assert!(grad.iter().any(|g| *g != 0.0), "{name}: no gradient at all");
        }
        for j in 0..values.len() {
            let at = |delta: f64| {
                let mut v = values.clone();
                v[j] += delta;
                p.set(Tensor::from_vec(v, base.shape()));
                s(&Tape::new()).item()
            };
            let numeric = (at(tol.eps) - at(-tol.eps)) / (2.0 * tol.eps);
            p.set(base.clone());
            assert!(
                (grad[j] - numeric).abs() <= tol.atol + tol.rtol * numeric.abs(),
                "{name}[{j}]: analytic {:e}, numeric {numeric:e}",
                grad[j]
            );
        }
    }
}
