//! The feature metrics (Fréchet distance, KID, improved precision/recall, density/coverage)
//! against straightforward O(n²) loop implementations written here, to 1e-9 relative in
//! `f64`, on fixed random features large enough to cross the GEMM tile boundary; and the
//! degenerate cases: identical sets and disjoint far-apart sets.

use gantry_gan::metrics::density_coverage::density_coverage;
use gantry_gan::metrics::frechet::frechet_distance_of;
use gantry_gan::metrics::kid::{kernel_inception_distance, unbiased_mmd2};
use gantry_gan::metrics::pairwise::{nearest_neighbour_radii, BLOCK};
use gantry_gan::metrics::precision_recall::precision_recall;
use gantry_tensor::Tensor;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

type Rows = Vec<Vec<f64>>;

fn features(n: usize, d: usize, shift: f64, seed: u64) -> (Tensor<f64>, Rows) {
    let t = Tensor::<f64>::randn(&[n, d], &mut ChaCha8Rng::seed_from_u64(seed)).map(|x| x + shift);
    let rows = t.to_vec().chunks(d).map(<[f64]>::to_vec).collect();
    (t, rows)
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// The (k+1)-th smallest distance from each row to all rows (itself included), by sorting.
fn radii_by_sorting(x: &Rows, k: usize) -> Vec<f64> {
    x.iter()
        .map(|a| {
            let mut d: Vec<f64> = x.iter().map(|b| distance(a, b)).collect();
            d.sort_by(f64::total_cmp);
            d[k]
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

// ---- Fréchet distance, with Tr((Σ₁Σ₂)^½) by the Denman–Beavers iteration (no eigensolver).

fn mean_and_covariance(x: &Rows) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (n, d) = (x.len() as f64, x[0].len());
    let mean: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let cov = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    x.iter()
                        .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
                        .sum::<f64>()
                        / (n - 1.0)
                })
                .collect()
        })
        .collect();
    (mean, cov)
}

fn product(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = a.len();
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| (0..d).map(|k| a[i][k] * b[k][j]).sum())
                .collect()
        })
        .collect()
}

/// The inverse by Gauss–Jordan elimination with partial pivoting.
fn inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = a.len();
    let mut m: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            let mut row = a[i].clone();
            row.extend((0..d).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    for c in 0..d {
        let p = (c..d)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, p);
        let pivot = m[c][c];
        m[c].iter_mut().for_each(|v| *v /= pivot);
        for r in 0..d {
            if r != c {
                let f = m[r][c];
                let pivot_row = m[c].clone();
                m[r].iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(v, p)| *v -= f * p);
            }
        }
    }
    m.into_iter().map(|r| r[d..].to_vec()).collect()
}

/// `Tr(A^½)` for `A = Σ₁Σ₂` (positive eigenvalues): Y ← (Y + Z⁻¹)/2, Z ← (Z + Y⁻¹)/2
/// from Y = A, Z = I converges to Y = A^½.
fn trace_of_square_root(a: &[Vec<f64>]) -> f64 {
    let d = a.len();
    let mut y = a.to_vec();
    let mut z: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _ in 0..60 {
        let (yi, zi) = (inverse(&y), inverse(&z));
        y = (0..d)
            .map(|i| (0..d).map(|j| (y[i][j] + zi[i][j]) / 2.0).collect())
            .collect();
        z = (0..d)
            .map(|i| (0..d).map(|j| (z[i][j] + yi[i][j]) / 2.0).collect())
            .collect();
    }
    (0..d).map(|i| y[i][i]).sum()
}

fn frechet_by_loops(a: &Rows, b: &Rows) -> f64 {
    let ((m1, c1), (m2, c2)) = (mean_and_covariance(a), mean_and_covariance(b));
    let d = m1.len();
    let mean_term: f64 = m1.iter().zip(&m2).map(|(x, y)| (x - y) * (x - y)).sum();
    let traces: f64 = (0..d).map(|i| c1[i][i] + c2[i][i]).sum();
    mean_term + traces - 2.0 * trace_of_square_root(&product(&c1, &c2))
}

#[test]
fn frechet_distance_matches_the_loop_version() {
    let (a, ra) = features(400, 6, 0.0, 1);
    let (b, rb) = features(300, 6, 0.3, 2);
    let (fd, expected) = (frechet_distance_of(&a, &b), frechet_by_loops(&ra, &rb));
    assert!(close(fd, expected), "{fd} vs {expected}");
    assert!(fd > 0.1, "{fd}");
}

#[test]
fn frechet_distance_of_identical_sets_is_zero_and_of_far_sets_is_the_shift() {
    let (a, _) = features(300, 5, 0.0, 3);
    assert!(frechet_distance_of(&a, &a).abs() < 1e-9);
    // Shifting every feature by 100 moves only the mean term: ‖μ₁ − μ₂‖² = 5·100².
    let far = a.map(|x| x + 100.0);
    assert!(close(frechet_distance_of(&a, &far), 5.0 * 100.0 * 100.0));
}

// ---- k-NN radii, precision/recall, density/coverage.

#[test]
fn radii_match_sorting_across_tiles() {
    let (x, rx) = features(BLOCK + 77, 4, 0.0, 4);
    for k in [1, 3, 5] {
        let (fast, slow) = (nearest_neighbour_radii(&x, k), radii_by_sorting(&rx, k));
        assert!(
            fast.iter().zip(&slow).all(|(a, b)| close(*a, *b)),
            "k = {k}"
        );
    }
}

fn prdc_by_loops(real: &Rows, fake: &Rows, k: usize) -> [f64; 4] {
    let (real_r, fake_r) = (radii_by_sorting(real, k), radii_by_sorting(fake, k));
    let (n, m) = (real.len() as f64, fake.len() as f64);
    let d = |i: usize, j: usize| distance(&real[i], &fake[j]);
    let precision = (0..fake.len())
        .filter(|&j| (0..real.len()).any(|i| d(i, j) < real_r[i]))
        .count() as f64
        / m;
    let recall = (0..real.len())
        .filter(|&i| (0..fake.len()).any(|j| d(i, j) < fake_r[j]))
        .count() as f64
        / n;
    let mut inside = 0usize;
    for j in 0..fake.len() {
        inside += (0..real.len()).filter(|&i| d(i, j) < real_r[i]).count();
    }
    let density = inside as f64 / (k as f64 * m);
    let coverage = (0..real.len())
        .filter(|&i| {
            let nearest = (0..fake.len())
                .map(|j| d(i, j))
                .fold(f64::INFINITY, f64::min);
            nearest < real_r[i]
        })
        .count() as f64
        / n;
    [precision, recall, density, coverage]
}

#[test]
fn precision_recall_density_coverage_match_the_loop_version() {
    let (real, rr) = features(BLOCK + 40, 5, 0.0, 5);
    let (fake, rf) = features(600, 5, 0.4, 6);
    for k in [3, 5] {
        let pr = precision_recall(&real, &fake, k);
        let dc = density_coverage(&real, &fake, k);
        let [p, r, d, c] = prdc_by_loops(&rr, &rf, k);
        assert!(
            close(pr.precision, p) && close(pr.recall, r),
            "k = {k}: {pr:?} vs {p}, {r}"
        );
        assert!(
            close(dc.density, d) && close(dc.coverage, c),
            "k = {k}: {dc:?} vs {d}, {c}"
        );
        // The shift puts some samples outside the other manifold, not all.
        assert!(p > 0.05 && p < 0.99 && c > 0.05 && c < 0.99, "{p} {c}");
    }
}

#[test]
fn identical_sets_score_one_and_far_sets_zero() {
    let (x, _) = features(500, 4, 0.0, 7);
    let pr = precision_recall(&x, &x, 3);
    let dc = density_coverage(&x, &x, 5);
    assert_eq!((pr.precision, pr.recall, dc.coverage), (1.0, 1.0, 1.0));
    // Each point lies strictly inside its own ball and those whose k-NN radius exceeds
    // their distance to it: with k = 5 a point is on average inside k balls besides ties.
    assert!(dc.density > 0.8, "{dc:?}");
    let far = x.map(|v| v + 1000.0);
    let pr = precision_recall(&x, &far, 3);
    let dc = density_coverage(&x, &far, 5);
    assert_eq!(
        (pr.precision, pr.recall, dc.density, dc.coverage),
        (0.0, 0.0, 0.0, 0.0)
    );
}

#[test]
fn a_strict_radius_leaves_a_point_on_the_sphere_outside() {
    // Real points 0, 1, 3 on a line (k = 1 radii: 1, 1, 2); a generated point at 2 is at
    // distance exactly 1 from 1 and from 3: inside only the ball of 3 (radius 2), and a
    // generated point at −1 is at distance exactly 1 from 0: outside every ball.
    let real = Tensor::from_vec(vec![0.0, 1.0, 3.0], &[3, 1]);
    let fake = Tensor::from_vec(vec![2.0, -1.0], &[2, 1]);
    let dc = density_coverage(&real, &fake, 1);
    assert_eq!(dc.density, 0.5);
    assert_eq!(dc.coverage, 1.0 / 3.0);
    assert_eq!(precision_recall(&real, &fake, 1).precision, 0.5);
}

// ---- KID.

fn mmd2_by_loops(x: &Rows, y: &Rows) -> f64 {
    let (m, d) = (x.len() as f64, x[0].len() as f64);
    let k =
        |a: &[f64], b: &[f64]| (a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>() / d + 1.0).powi(3);
    let mut within = 0.0;
    for i in 0..x.len() {
        for j in 0..x.len() {
            if i != j {
                within += k(&x[i], &x[j]) + k(&y[i], &y[j]);
            }
        }
    }
    let mut cross = 0.0;
    for a in x {
        for b in y {
            cross += k(a, b);
        }
    }
    within / (m * (m - 1.0)) - 2.0 * cross / (m * m)
}

#[test]
fn kid_matches_the_loop_version_on_the_same_subsets() {
    let (real, rr) = features(90, 5, 0.0, 8);
    let (fake, rf) = features(70, 5, 0.5, 9);
    let (subsets, size, seed) = (7, 40, 11);
    let kid = kernel_inception_distance(&real, &fake, subsets, size, seed);
    // Draw the same subsets: real first, then generated, from one ChaCha8 stream.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let estimates: Vec<f64> = (0..subsets)
        .map(|_| {
            let x: Rows = sample(&mut rng, 90, size)
                .iter()
                .map(|i| rr[i].clone())
                .collect();
            let y: Rows = sample(&mut rng, 70, size)
                .iter()
                .map(|i| rf[i].clone())
                .collect();
            mmd2_by_loops(&x, &y)
        })
        .collect();
    let mean = estimates.iter().sum::<f64>() / subsets as f64;
    let std = (estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / subsets as f64).sqrt();
    assert!(
        close(kid.mean, mean) && close(kid.std, std),
        "{kid:?} vs {mean}, {std}"
    );
    assert!(kid.mean > 0.0 && kid.std > 0.0);
}

#[test]
fn kid_of_whole_sets_is_one_unbiased_mmd_and_zero_on_average_for_one_distribution() {
    let (x, rx) = features(60, 3, 0.0, 12);
    let (y, ry) = features(60, 3, 0.0, 13);
    // Subsets of all 60 points are permutations: every estimate is the same MMD²_u.
    let kid = kernel_inception_distance(&x, &y, 3, 1000, 0);
    assert!(
        close(kid.mean, mmd2_by_loops(&rx, &ry)) && kid.std < 1e-12,
        "{kid:?}"
    );
    assert!(close(unbiased_mmd2(&x, &y), mmd2_by_loops(&rx, &ry)));
    // Identical sets: the unbiased estimate is below zero by the diagonal it leaves out.
    assert!(unbiased_mmd2(&x, &x) < 0.0);
    let far = x.map(|v| v + 10.0);
    assert!(unbiased_mmd2(&x, &far) > 100.0);
}
