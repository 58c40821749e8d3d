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

use gantry_tensor::Tensor;

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
