//! Walks through latent space: spherical interpolation between latent vectors, the path
//! `gantry interpolate` draws.
//!
//! A Gaussian latent of dimension d concentrates near the sphere of radius √d; a straight
//! line between two such points passes closer to the origin, through latents the generator
//! rarely saw. Spherical linear interpolation (slerp; Shoemake 1985, for GANs White 2016)
//! follows the great circle instead: with `θ` the angle between `a` and `b`,
//!
//! `slerp(a, b; t) = sin((1 − t)θ)/sin θ · a + sin(tθ)/sin θ · b`,
//!
//! which equals `a` at `t = 0`, `b` at `t = 1`, and turns by `tθ` from `a`. For (nearly)
//! parallel vectors, where `sin θ` vanishes, it is the straight line `(1 − t)a + tb`.
//!
//! A class-conditional generator can also walk between classes at a fixed `z`. Its labels
//! reach it only through class tables `T: [K, …]`, one row per class: the gains and biases
//! of its conditional batch norms and its label embedding. Each is used linearly (`γ[y]·x̂ +
//! β[y]`, `[z, e[y]]`), so the soft label `w` (weights over the classes, summing to 1) is
//! the row `w·T`, and the walk from class `a` to class `b` is the line `(1 − t)·e_a + t·e_b`
//! through the tables: the class morphing of Miyato & Koyama 2018 (section 5.1.2).
//! [`class_mixtures`] makes a generator whose classes are such mixtures, and
//! [`generate_mixed`] draws samples at any soft labels with it.

use gantry_nn::{Module, Named, Param};
use gantry_tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::models::{Generator, ModelConfig};
use super::trainer::generate;

/// `slerp(a, b; t)` (see the module documentation).
pub fn slerp(a: &[f32], b: &[f32], t: f64) -> Vec<f32> {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let cos = (dot / (norm(a) * norm(b))).clamp(-1.0, 1.0);
    let theta = cos.acos();
    let (wa, wb) = if theta.sin().abs() < 1e-6 {
        (1.0 - t, t)
    } else {
        (
            ((1.0 - t) * theta).sin() / theta.sin(),
            (t * theta).sin() / theta.sin(),
        )
    };
    a.iter()
        .zip(b)
        .map(|(x, y)| (wa * *x as f64 + wb * *y as f64) as f32)
        .collect()
}

/// `rows × steps` latents `[rows·steps, d]`: row `r` walks from `starts[r]` to `ends[r]`
/// in `steps` equal steps of `t` (both ends included).
///
/// # Panics
/// If `starts` and `ends` differ in shape, are not 2-D, or `steps < 2`.
pub fn interpolation_rows(starts: &Tensor<f32>, ends: &Tensor<f32>, steps: usize) -> Tensor<f32> {
    assert_eq!(starts.shape(), ends.shape(), "one end per start");
    assert!(steps >= 2, "a path needs both ends");
    let &[rows, d] = starts.shape() else {
        panic!("latents are [rows, d], got {:?}", starts.shape());
    };
    let (a, b) = (starts.to_vec(), ends.to_vec());
    let mut out = Vec::with_capacity(rows * steps * d);
    for r in 0..rows {
        let (from, to) = (&a[r * d..(r + 1) * d], &b[r * d..(r + 1) * d]);
        for s in 0..steps {
            out.extend(slerp(from, to, s as f64 / (steps - 1) as f64));
        }
    }
    Tensor::from_vec(out, &[rows * steps, d])
}

/// `rows × steps` class mixtures `[rows·steps, num_classes]`: row `r` walks linearly from
/// class `ends[r].0` to class `ends[r].1` in `steps` equal steps of `t` (both ends included),
/// the weights `(1 − t)·e_a + t·e_b`.
///
/// # Panics
/// If `steps < 2` or a class is `≥ num_classes`.
pub fn class_paths(ends: &[(u32, u32)], steps: usize, num_classes: usize) -> Tensor<f32> {
    assert!(steps >= 2, "a path needs both ends");
    let mut w = vec![0.0f32; ends.len() * steps * num_classes];
    for (r, &(a, b)) in ends.iter().enumerate() {
        assert!(
            (a as usize) < num_classes && (b as usize) < num_classes,
            "classes {a}, {b} of {num_classes}"
        );
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            let row = &mut w[(r * steps + s) * num_classes..][..num_classes];
            row[a as usize] += 1.0 - t;
            row[b as usize] += t;
        }
    }
    Tensor::from_vec(w, &[ends.len() * steps, num_classes])
}

/// A copy of the conditional generator `g` (built from `model` for samples of
/// `sample_shape`) whose first `M` classes are the soft labels `mixtures: [M, K]` over its
/// `K` classes (`M ≤ K`; classes `M..K` stay as they were): each class table `T: [K, …]`
/// becomes `W·T` with `W` the mixtures above the last `K − M` rows of the identity, every
/// other tensor is copied. The class tables are the tensors whose first dimension follows
/// the class count: it differs between builds for `K` and `K + 1` classes.
///
/// An error if `g` is not conditional or `mixtures` is not `[M, K]` with `1 ≤ M ≤ K`.
pub fn class_mixtures(
    model: &ModelConfig,
    sample_shape: &[usize],
    g: &Generator,
    mixtures: &Tensor<f32>,
) -> Result<Generator, String> {
    let mixer = Mixer::new(model, sample_shape, g)?;
    mixer.mix(mixtures)?;
    Ok(mixer.generator)
}

/// Samples of the conditional generator `g` at soft labels: sample `i` from latent `z[i]`
/// and class weights `mixtures[i]` (`[n, K]`), drawn from one copy of `g` whose class
/// tables are remixed ([`class_mixtures`]) for each `K` samples.
pub fn generate_mixed(
    model: &ModelConfig,
    sample_shape: &[usize],
    g: &Generator,
    z: &Tensor<f32>,
    mixtures: &Tensor<f32>,
) -> Result<Tensor<f32>, String> {
    let mixer = Mixer::new(model, sample_shape, g)?;
    let n = mixtures.shape()[0];
    let mut chunks = Vec::new();
    for start in (0..n).step_by(mixer.k) {
        let len = mixer.k.min(n - start);
        mixer.mix(&mixtures.narrow(0, start, len))?;
        let labels: Vec<u32> = (0..len as u32).collect();
        chunks.push(generate(
            &mixer.generator,
            &z.narrow(0, start, len),
            Some(&labels),
        ));
    }
    Ok(Tensor::concat(&chunks, 0))
}

/// A copy of a `K`-class generator and its class tables, each beside the original's, so
/// that the copy's classes can be set to any `K` mixtures of the original's.
struct Mixer {
    k: usize,
    generator: Generator,
    /// `(original, copy)` for each class table.
    tables: Vec<(Param<f32>, Param<f32>)>,
}

impl Mixer {
    /// Builds the copy (every tensor but the class tables copied now).
    fn new(model: &ModelConfig, sample_shape: &[usize], g: &Generator) -> Result<Mixer, String> {
        let k = g
            .num_classes
            .ok_or("the generator is not class-conditional: it has no classes to walk between")?;
        let build = |classes: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            model
                .build::<f32, _>(sample_shape, Some(classes), &mut rng)
                .map(|(g, _)| g)
        };
        let state = |g: &Generator| [g.params(), g.buffers()].concat();
        let (probe, generator) = (build(k + 1)?, build(k)?);
        let mut tables = Vec::new();
        for ((from, grown), (_, to)) in same_names(state(g), state(&probe)).zip(state(&generator)) {
            if grown.shape().first() == from.shape().first() {
                to.set(from.value());
            } else {
                tables.push((from, to));
            }
        }
        Ok(Mixer {
            k,
            generator,
            tables,
        })
    }

    /// Sets the copy's first `M` classes to `mixtures: [M, K]` and the rest to the
    /// original's classes `M..K` (see [`class_mixtures`]).
    fn mix(&self, mixtures: &Tensor<f32>) -> Result<(), String> {
        let k = self.k;
        let &[m, mk] = mixtures.shape() else {
            return Err(format!(
                "mixtures must be [M, K], got {:?}",
                mixtures.shape()
            ));
        };
        if mk != k || !(1..=k).contains(&m) {
            return Err(format!("mixtures must be [1..={k}, {k}], got [{m}, {mk}]"));
        }
        let mut weights = mixtures.to_vec();
        weights.extend((m..k).flat_map(|i| (0..k).map(move |j| if i == j { 1.0 } else { 0.0 })));
        let weights = Tensor::from_vec(weights, &[k, k]);
        for (from, to) in &self.tables {
            let value = from.value();
            let table = value.reshape(&[k, value.len() / k]);
            to.set(weights.matmul(&table).reshape(value.shape()));
        }
        Ok(())
    }
}

/// Two networks' tensors side by side, by name (built from one model config, so in the
/// same order under the same names).
fn same_names(
    a: Vec<Named<f32>>,
    b: Vec<Named<f32>>,
) -> impl Iterator<Item = (Param<f32>, Param<f32>)> {
    assert_eq!(a.len(), b.len(), "one model config, the same tensors");
    a.into_iter().zip(b).map(|((na, pa), (nb, pb))| {
        assert_eq!(na, nb, "one model config, the same names");
        (pa, pb)
    })
}
