//! Spherical interpolation against its geometry, checked independently: the ends, the
//! angle turned (proportional to t), the radius kept between vectors of equal length, and
//! the straight line for parallel vectors.

use gantry_gan::train::interpolation::{interpolation_rows, slerp};
use gantry_tensor::Tensor;

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
