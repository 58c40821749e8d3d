//! Spherical interpolation against its geometry, checked independently: the ends, the
//! angle turned (proportional to t), the radius kept between vectors of equal length, and
//! the straight line for parallel vectors. Walks between classes: the class tables of the
//! mixed generator against the weighted rows computed here, one-hot mixtures against the
//! original classes.

use gantry_autograd::Tape;
use gantry_gan::train::interpolation::{
    class_mixtures, class_paths, generate_mixed, interpolation_rows, slerp,
};
use gantry_gan::train::models::{
    Conditioning, Critic, CriticConditioning, Generator, GeneratorConditioning, ModelConfig,
};
use gantry_nn::Module;
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn angle(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum();
    let n = |v: &[f32]| v.iter().map(|x| (x * x) as f64).sum::<f64>().sqrt();
    (dot / (n(a) * n(b))).clamp(-1.0, 1.0).acos()
}

#[test]
fn slerp_turns_along_the_great_circle() {
    // Two unit vectors 90° apart in the plane of the first two axes.
    let (a, b) = ([1.0f32, 0.0, 0.0], [0.0f32, 1.0, 0.0]);
    for (t, expected) in [
        (0.0, [1.0, 0.0]),
        (1.0, [0.0, 1.0]),
        (0.5, [0.5f64.sqrt(); 2]),
    ] {
        let p = slerp(&a, &b, t);
        assert!((p[0] as f64 - expected[0]).abs() < 1e-6, "{t}: {p:?}");
        assert!((p[1] as f64 - expected[1]).abs() < 1e-6, "{t}: {p:?}");
        assert_eq!(p[2], 0.0);
    }
    // Random 16-D vectors of equal length: every point keeps the length, and the angle
    // from `a` grows as t·θ.
    let a: Vec<f32> = (0..16).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.3).collect();
    let mut b: Vec<f32> = (0..16).map(|i| ((i * 3 % 7) as f32 - 3.0) * 0.2).collect();
    let scale =
        (a.iter().map(|x| x * x).sum::<f32>() / b.iter().map(|x| x * x).sum::<f32>()).sqrt();
    b.iter_mut().for_each(|x| *x *= scale);
    let theta = angle(&a, &b);
    for t in [0.1, 0.25, 0.6, 0.9] {
        let p = slerp(&a, &b, t);
        let len = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((len(&p) - len(&a)).abs() < 1e-5 * len(&a));
        assert!((angle(&a, &p) - t * theta).abs() < 1e-5, "t = {t}");
    }
}

#[test]
fn parallel_vectors_are_joined_by_the_straight_line() {
    let p = slerp(&[1.0, 2.0], &[2.0, 4.0], 0.5);
    assert_eq!(p, [1.5, 3.0]);
}

#[test]
fn rows_run_from_their_start_to_their_end() {
    let starts = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let ends = Tensor::from_vec(vec![0.0, 1.0, -1.0, 0.0], &[2, 2]);
    let z = interpolation_rows(&starts, &ends, 5);
    assert_eq!(z.shape(), &[10, 2]);
    let v = z.to_vec();
    assert_eq!(&v[0..2], &[1.0, 0.0]);
    assert!((v[8] - 0.0).abs() < 1e-6 && (v[9] - 1.0).abs() < 1e-6);
    assert_eq!(&v[10..12], &[0.0, 1.0]);
    assert!((v[18] + 1.0).abs() < 1e-6 && v[19].abs() < 1e-6);
}

// ---- Walking between classes ---------------------------------------------------------------

fn conditional_dcgan(generator: GeneratorConditioning) -> ModelConfig {
    ModelConfig::Dcgan {
        z_dim: 8,
        channels: 4,
        spectral_norm: false,
        conditional: Some(Conditioning {
            generator,
            critic: CriticConditioning::Projection,
            acgan_weight: None,
        }),
    }
}

/// Is `name` one of a generator's class tables (by the names the models give them)?
fn is_class_table(name: &str) -> bool {
    ["gain.weight", "bias.weight"]
        .iter()
        .any(|t| name.ends_with(&format!(".{t}")))
        || name == "embed.weight"
}

/// A 3-class generator of 8x8 images, in eval mode, whose class tables are random (so that
/// the classes differ from the start).
fn three_class_generator(conditioning: GeneratorConditioning) -> Generator {
    let (g, _): (Generator, Critic) = conditional_dcgan(conditioning)
        .build(&[1, 8, 8], Some(3), &mut ChaCha8Rng::seed_from_u64(4))
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (name, p) in g.params() {
        if is_class_table(&name) {
            p.set(Tensor::randn(&p.shape(), &mut rng));
        }
    }
    g.set_training(false);
    g
}

fn forward(g: &Generator, z: &Tensor<f32>, labels: &[u32]) -> Vec<f32> {
    let tape = Tape::new();
    g.forward(&tape, tape.constant(z.clone()), Some(labels))
        .value()
        .to_vec()
}

#[test]
fn class_paths_weigh_the_two_ends() {
    let w = class_paths(&[(0, 2), (1, 1)], 3, 3).to_vec();
    #[rustfmt::skip]
    let expected = [
        1.0, 0.0, 0.0,   0.5, 0.0, 0.5,   0.0, 0.0, 1.0,
        0.0, 1.0, 0.0,   0.0, 1.0, 0.0,   0.0, 1.0, 0.0,
    ];
    assert_eq!(w, expected);
}

#[test]
fn one_hot_mixtures_are_the_classes_themselves() {
    for conditioning in [GeneratorConditioning::Cbn, GeneratorConditioning::Concat] {
        let g = three_class_generator(conditioning);
        // Classes 2, 0, 1 as the mixed generator's classes 0, 1, 2.
        let one_hot = Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[3, 3]);
        let model = conditional_dcgan(conditioning);
        let mixed = class_mixtures(&model, &[1, 8, 8], &g, &one_hot).unwrap();
        mixed.set_training(false);
        let z = Tensor::randn(&[3, 8], &mut ChaCha8Rng::seed_from_u64(6));
        let original = forward(&g, &z, &[2, 0, 1]);
        assert_eq!(forward(&mixed, &z, &[0, 1, 2]), original);
        assert_ne!(forward(&g, &z, &[0, 1, 2]), original, "the classes differ");
    }
}

#[test]
fn a_mixture_weighs_every_class_table_and_copies_the_rest() {
    for conditioning in [GeneratorConditioning::Cbn, GeneratorConditioning::Concat] {
        let g = three_class_generator(conditioning);
        let w = Tensor::from_vec(vec![0.25, 0.75, 0.0, 0.0, 0.5, 0.5], &[2, 3]);
        let model = conditional_dcgan(conditioning);
        let mixed = class_mixtures(&model, &[1, 8, 8], &g, &w).unwrap();
        let state = |g: &Generator| [g.params(), g.buffers()].concat();
        let mut tables = 0;
        for ((name, from), (mixed_name, to)) in state(&g).into_iter().zip(state(&mixed)) {
            assert_eq!(name, mixed_name);
            let (t, m) = (from.value().to_vec(), to.value().to_vec());
            if !is_class_table(&name) {
                assert_eq!(t, m, "{name} is copied");
                continue;
            }
            tables += 1;
            let c = from.shape()[1];
            assert_eq!(to.shape(), [3, c], "{name}");
            for j in 0..c {
                let first = 0.25 * t[j] + 0.75 * t[c + j];
                let second = 0.5 * t[c + j] + 0.5 * t[2 * c + j];
                assert!((m[j] - first).abs() < 1e-6, "{name}[0, {j}]");
                assert!((m[c + j] - second).abs() < 1e-6, "{name}[1, {j}]");
                assert_eq!(m[2 * c + j], t[2 * c + j], "{name}[2, {j}]: class 2 kept");
            }
        }
        let expected = match conditioning {
            GeneratorConditioning::Cbn => 4, // gain and bias of the two conditional batch norms
            GeneratorConditioning::Concat => 1,
        };
        assert_eq!(tables, expected, "{conditioning:?}");
    }
}

#[test]
fn soft_labels_are_drawn_in_chunks_of_the_class_count() {
    // Seven one-hot mixtures (more than the three classes, so three chunks): the same
    // samples as the classes themselves (up to rounding: the batches differ in size).
    let model = conditional_dcgan(GeneratorConditioning::Cbn);
    let g = three_class_generator(GeneratorConditioning::Cbn);
    let labels = [2, 0, 1, 1, 2, 0, 2];
    let mut w = vec![0.0; 7 * 3];
    labels
        .iter()
        .enumerate()
        .for_each(|(i, &k)| w[i * 3 + k as usize] = 1.0);
    let z = Tensor::randn(&[7, 8], &mut ChaCha8Rng::seed_from_u64(8));
    let mixed = generate_mixed(&model, &[1, 8, 8], &g, &z, &Tensor::from_vec(w, &[7, 3]));
    let (mixed, direct) = (mixed.unwrap().to_vec(), forward(&g, &z, &labels));
    assert_eq!(mixed.len(), direct.len());
    let largest = mixed
        .iter()
        .zip(&direct)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(largest < 1e-6, "largest difference {largest}");
}

#[test]
fn an_unconditional_generator_has_no_classes_to_walk_between() {
    let model = ModelConfig::Dcgan {
        z_dim: 8,
        channels: 4,
        spectral_norm: false,
        conditional: None,
    };
    let (g, _): (Generator, Critic) = model
        .build(&[1, 8, 8], None, &mut ChaCha8Rng::seed_from_u64(4))
        .unwrap();
    let w = Tensor::from_vec(vec![1.0], &[1, 1]);
    let err = class_mixtures(&model, &[1, 8, 8], &g, &w).err().unwrap();
    assert!(err.contains("not class-conditional"), "{err}");
}
