//! `sgemm` on every SIMD path this CPU supports (AVX-512, AVX2, scalar) against the
//! `f64`-accumulated triple loop, over every size up to 40 with random strides (transposed,
//! strided and broadcast operands, general C), α/β variants, `β = 0` on a NaN-filled C (C
//! must not be read), `k = 0`; and, per path, bit-identical results on 1 and 2 rayon
//! threads, nested calls and calls from outside the pool included.

mod common;

use common::product;
use gantry_tensor::gemm::{naive::sgemm_naive, sgemm_on};
use gantry_tensor::simd::{self, Path};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// A matrix stored in a buffer with chosen strides (in elements, non-negative).
struct Strided {
    buf: Vec<f32>,
    rs: isize,
    cs: isize,
}

/// Layouts a test matrix is stored in.
#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    ColMajor,
    /// Row-major with a padded row, and a column gap of 2 (neither stride is 1).
    Gapped,
    /// One row repeated (row stride 0), as a broadcast operand.
    BroadcastRows,
}

const LAYOUTS: [Layout; 4] = [
    Layout::RowMajor,
    Layout::ColMajor,
    Layout::Gapped,
    Layout::BroadcastRows,
];

/// The layouts C can have (it is written, so it cannot be a broadcast).
const C_LAYOUTS: [Layout; 3] = [Layout::RowMajor, Layout::ColMajor, Layout::Gapped];

/// An `r×c` matrix in `layout`, filled from `fill` (one value per stored element).
fn matrix(r: usize, c: usize, layout: Layout, mut fill: impl FnMut() -> f32) -> Strided {
    let (rs, cs, len) = match layout {
        Layout::RowMajor => (c, 1, r * c),
        Layout::ColMajor => (1, r, r * c),
        Layout::Gapped => (2 * c + 3, 2, r * (2 * c + 3)),
        Layout::BroadcastRows => (0, 1, c),
    };
    Strided {
        buf: (0..len.max(1)).map(|_| fill()).collect(),
        rs: rs as isize,
        cs: cs as isize,
    }
}

impl Strided {
    fn get(&self, i: usize, j: usize) -> f32 {
        self.buf[i * self.rs as usize + j * self.cs as usize]
    }
}

/// Runs `sgemm` on every supported path and the naive reference on the same inputs and
/// checks every element of C (and that C's padding between elements is untouched).
///
/// Tolerance: f32 accumulation of k products has a rounding error below `k·ε·Σₚ|aₚ||bₚ|`
/// (ε = 2⁻²⁴) in the worst case; the α/β combination adds a few ε of `|α|·Σ|a||b| +
/// |β||C|`. We allow `(k + 4)·2ε` of that bound, so a correct kernel passes with any
/// summation order and a wrong element (a missed or doubled term) fails.
#[allow(clippy::too_many_arguments)]
fn check(
    m: usize,
    k: usize,
    n: usize,
    (la, lb, lc): (Layout, Layout, Layout),
    alpha: f32,
    beta: f32,
    rng: &mut ChaCha8Rng,
) {
    let a = matrix(m, k, la, || rng.gen_range(-1.0..1.0));
    let b = matrix(k, n, lb, || rng.gen_range(-1.0..1.0));
    let c_fill = if beta == 0.0 { f32::NAN } else { 0.5 };
    let c0 = matrix(m, n, lc, || c_fill);
    let mut slow = c0.buf.clone();
    unsafe {
        sgemm_naive(
            m,
            k,
            n,
            alpha,
            a.buf.as_ptr(),
            a.rs,
            a.cs,
            b.buf.as_ptr(),
            b.rs,
            b.cs,
            beta,
            slow.as_mut_ptr(),
            c0.rs,
            c0.cs,
        );
    }
    for path in simd::supported() {
        let mut fast = c0.buf.clone();
        unsafe {
            sgemm_on(
                path,
                m,
                k,
                n,
                alpha,
                a.buf.as_ptr(),
                a.rs,
                a.cs,
                b.buf.as_ptr(),
                b.rs,
                b.cs,
                beta,
                fast.as_mut_ptr(),
                c0.rs,
                c0.cs,
            );
        }
        compare(
            &fast,
            &slow,
            (&a, &b, &c0),
            (m, k, n),
            (la, lb, lc),
            (alpha, beta),
            path,
        );
    }
}

/// Every element of `fast` within the rounding bound of `slow` (see [`check`]), and C's
/// padding untouched.
#[allow(clippy::type_complexity)]
fn compare(
    fast: &[f32],
    slow: &[f32],
    (a, b, c0): (&Strided, &Strided, &Strided),
    (m, k, n): (usize, usize, usize),
    (la, lb, lc): (Layout, Layout, Layout),
    (alpha, beta): (f32, f32),
    path: Path,
) {
    let mut written = vec![false; fast.len()];
    for i in 0..m {
        for j in 0..n {
            let at = i * c0.rs as usize + j * c0.cs as usize;
            written[at] = true;
            let abs_sum: f64 = (0..k)
                .map(|p| f64::from(a.get(i, p)).abs() * f64::from(b.get(p, j)).abs())
                .sum();
            let bound = f64::from(alpha.abs()) * abs_sum + f64::from(beta.abs()) * 0.5;
            let tol = (k + 4) as f64 * 2.0 * f64::from(f32::EPSILON / 2.0) * bound + 1e-30;
            let (x, y) = (f64::from(fast[at]), f64::from(slow[at]));
            assert!(
                (x - y).abs() <= tol,
                "{path:?} {m}x{k}x{n} {la:?}/{lb:?}/{lc:?} α={alpha} β={beta}: C[{i}][{j}] = {x}, want {y} (tol {tol:e})"
            );
        }
    }
    for (at, w) in written.iter().enumerate() {
        if !w {
            assert!(
                fast[at].to_bits() == c0.buf[at].to_bits(),
                "{path:?} {m}x{k}x{n} {lc:?}: padding element {at} of C was written"
            );
        }
    }
}

/// [`check`] on one shape in every layout of A, B and C, with each `(α, β)`.
fn check_every_layout(
    (m, k, n): (usize, usize, usize),
    alpha_beta: &[(f32, f32)],
    rng: &mut ChaCha8Rng,
) {
    for la in LAYOUTS {
        for lb in LAYOUTS {
            for lc in C_LAYOUTS {
                for &(alpha, beta) in alpha_beta {
                    check(m, k, n, (la, lb, lc), alpha, beta, rng);
                }
            }
        }
    }
}

#[test]
fn every_size_to_40_in_every_layout() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for m in 0..=40 {
        for k in 0..=40 {
            for n in 0..=40 {
                // Every size triple once, in a layout and α/β chosen at random.
                let la = LAYOUTS[rng.gen_range(0..4)];
                let lb = LAYOUTS[rng.gen_range(0..4)];
                let lc = C_LAYOUTS[rng.gen_range(0..3)];
                let (alpha, beta) =
                    [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0), (2.0, 0.0)][rng.gen_range(0..4)];
                check(m, k, n, (la, lb, lc), alpha, beta, &mut rng);
            }
        }
    }
}

#[test]
fn every_layout_combination_on_edge_sizes() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (m, k, n) in [
        (1, 1, 1),
        (13, 17, 33),
        (25, 300, 49),
        (40, 3, 65),
        (7, 513, 15),
        (2, 2, 2),
    ] {
        check_every_layout((m, k, n), &[(1.0, 0.0), (1.0, 1.0), (0.75, -1.5)], &mut rng);
    }
}

/// Large enough for several k blocks, tiles and the parallel path.
#[test]
fn large_products_in_the_four_transpose_combinations() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (la, lb) in [
        (Layout::RowMajor, Layout::RowMajor),
        (Layout::ColMajor, Layout::RowMajor),
        (Layout::RowMajor, Layout::ColMajor),
        (Layout::ColMajor, Layout::ColMajor),
    ] {
        check(
            400,
            600,
            1100,
            (la, lb, Layout::RowMajor),
            1.0,
            0.0,
            &mut rng,
        );
        check(97, 1030, 45, (la, lb, Layout::RowMajor), 1.0, 1.0, &mut rng);
        check(300, 100, 3, (la, lb, Layout::RowMajor), 1.0, 0.0, &mut rng);
    }
}

/// Packed operands above the 4 MiB (A) and 8 MiB (B) buffer bounds: several m and n blocks.
#[test]
fn operands_larger_than_one_packed_block() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let row = Layout::RowMajor;
    check(1100, 1000, 20, (row, row, row), 1.0, 0.0, &mut rng);
    check(
        20,
        1000,
        2100,
        (row, Layout::ColMajor, row),
        1.0,
        1.0,
        &mut rng,
    );
}

#[test]
fn alpha_zero_and_k_zero_only_scale_c() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for (m, k, n) in [(5, 0, 7), (40, 0, 40), (9, 3, 11)] {
        for beta in [0.0, 1.0, 3.0] {
            check(
                m,
                k,
                n,
                (Layout::RowMajor, Layout::RowMajor, Layout::RowMajor),
                0.0,
                beta,
                &mut rng,
            );
            check(
                m,
                0,
                n,
                (Layout::RowMajor, Layout::ColMajor, Layout::Gapped),
                1.0,
                beta,
                &mut rng,
            );
        }
    }
}

/// A pool of `threads` rayon threads.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// `C = A·B` on `path` and a pool of `threads` rayon threads.
fn product_on(
    path: Path,
    threads: usize,
    shape: (usize, usize, usize),
    (a, b): (&[f32], &[f32]),
    transposed: (bool, bool),
) -> Vec<f32> {
    pool(threads).install(|| product(path, shape, (a, b), transposed))
}

/// Whether two results are equal bit for bit.
fn same_bits(x: &[f32], y: &[f32]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Parallel products called from inside a parallel loop (each caller a pool thread, its
/// helper job often never started) and from a thread outside the pool (which cannot run
/// the helper job itself) return, and agree bit for bit with one thread.
#[test]
fn nested_and_outside_calls_agree_with_one_thread() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (m, k, n) = (64, 256, 256);
    let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    for path in simd::supported() {
        nested_and_outside_on(path, (m, k, n), (&a, &b));
    }
}

/// The nested and outside calls of the test above, on one path.
fn nested_and_outside_on(path: Path, (m, k, n): (usize, usize, usize), (a, b): (&[f32], &[f32])) {
    let one = product_on(path, 1, (m, k, n), (a, b), (false, false));
    let two = pool(2);
    let nested: Vec<Vec<f32>> = two.install(|| {
        (0..16)
            .into_par_iter()
            .map(|_| product(path, (m, k, n), (a, b), (false, false)))
            .collect()
    });
    assert!(
        nested.iter().all(|c| same_bits(c, &one)),
        "{path:?}: nested calls differ"
    );
    let outside = std::thread::scope(|s| {
        s.spawn(|| {
            // A thread outside any pool: `sgemm` uses the global pool.
            (0..16)
                .map(|_| product(path, (m, k, n), (a, b), (false, false)))
                .collect::<Vec<_>>()
        })
        .join()
        .expect("no panic")
    });
    assert!(
        outside.iter().all(|c| same_bits(c, &one)),
        "{path:?}: calls from outside differ"
    );
}

#[test]
fn one_and_two_threads_agree_bit_for_bit() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (m, k, n) in [
        (256, 512, 512),
        (500, 1000, 700),
        (64, 1024, 784),
        (1024, 128, 49),
    ] {
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        for transposed_b in [false, true] {
            for path in simd::supported() {
                let one = product_on(path, 1, (m, k, n), (&a, &b), (false, transposed_b));
                let two = product_on(path, 2, (m, k, n), (&a, &b), (false, transposed_b));
                assert!(
                    same_bits(&one, &two),
                    "{path:?} {m}x{k}x{n}: 1 and 2 threads differ"
                );
            }
        }
    }
}

/// C at each of the 16 float offsets in a cache line, with rows a whole number of lines
/// apart (so its column panels are shifted to start on lines): every offset gives the same
/// bits, equal to the reference, and nothing outside C is written.
#[test]
fn c_at_every_offset_in_a_cache_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (m, k, n) in [(13, 16, 100), (30, 7, 64), (5, 300, 33), (40, 2, 17)] {
        let (m, k, n): (usize, usize, usize) = (m, k, n);
        let rsc = n.next_multiple_of(16) + 16;
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let mut reference = vec![0.0f32; m * rsc];
        unsafe {
            sgemm_naive(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                reference.as_mut_ptr(),
                rsc as isize,
                1,
            );
        }
        for path in simd::supported() {
            offsets_on(path, (m, k, n), (&a, &b), &reference, rsc);
        }
    }
}

/// The test above on one path: C at each offset, against `reference` (row stride `rsc`).
fn offsets_on(
    path: Path,
    (m, k, n): (usize, usize, usize),
    (a, b): (&[f32], &[f32]),
    reference: &[f32],
    rsc: usize,
) {
    let mut first: Option<Vec<f32>> = None;
    for offset in 0..16 {
        let mut buf = vec![f32::NAN; m * rsc + 32];
        let line = (16 - (buf.as_ptr() as usize / 4) % 16) % 16;
        let c = &mut buf[line + offset..line + offset + m * rsc];
        unsafe {
            sgemm_on(
                path,
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                rsc as isize,
                1,
            );
        }
        for (at, (&x, &y)) in c.iter().zip(reference).enumerate() {
            if at % rsc < n {
                let tol = 1e-5 * (k as f32) + 1e-6;
                assert!(
                    (x - y).abs() <= tol,
                    "{path:?} {m}x{k}x{n} at +{offset}: {x} vs {y}"
                );
            } else {
                assert!(
                    x.is_nan(),
                    "{path:?} {m}x{k}x{n} at +{offset}: element {at} written"
                );
            }
        }
        match &first {
            None => first = Some(c.to_vec()),
            Some(f) => assert!(
                same_bits(f, c),
                "{path:?} {m}x{k}x{n}: offset {offset} differs"
            ),
        }
    }
}

/// The short-k path (k ≤ 16): every k with C both ways round, wide and tall, every
/// transposition of A and B, and random other layouts.
#[test]
fn short_k_in_every_layout() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let transposes = [Layout::RowMajor, Layout::ColMajor];
    let alpha_beta = [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0), (2.0, 0.0)];
    for k in 1..=17 {
        for (m, n) in [
            (1, 300),
            (17, 16),
            (64, 100),
            (200, 33),
            (5, 257),
            (130, 600),
        ] {
            for la in transposes {
                for lb in transposes {
                    let lc = C_LAYOUTS[rng.gen_range(0..3)];
                    let (alpha, beta) = alpha_beta[rng.gen_range(0..4)];
                    check(m, k, n, (la, lb, lc), alpha, beta, &mut rng);
                }
            }
            let la = LAYOUTS[rng.gen_range(0..4)];
            let lb = LAYOUTS[rng.gen_range(0..4)];
            let (alpha, beta) = alpha_beta[rng.gen_range(0..4)];
            check(m, k, n, (la, lb, Layout::RowMajor), alpha, beta, &mut rng);
        }
    }
}

/// The matrix-times-vectors path: one to four columns of B (or rows of A) against long and
/// short k, in every layout of A, B and C.
#[test]
fn matrix_times_up_to_four_vectors_in_every_layout() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (m, k, n) in [
        (257, 6272, 1),
        (1, 6272, 200),
        (130, 515, 2),
        (3, 700, 129),
        (4, 64, 4),
        (1, 1, 1),
        (2, 3000, 3),
        (1000, 17, 1),
        (1, 31, 70),
    ] {
        check_every_layout((m, k, n), &[(1.0, 0.0), (0.75, -1.5)], &mut rng);
    }
}

/// Long k on a C that is one parallel tile (cut along k into partial products), both
/// ways round, at and past the shortest k that is cut.
#[test]
fn long_k_on_a_small_c() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for (m, k, n) in [
        (64, 12544, 16),
        (16, 4097, 40),
        (33, 3000, 30),
        (96, 2100, 64),
        (64, 2048, 17),
    ] {
        for la in LAYOUTS {
            for lb in LAYOUTS {
                let lc = C_LAYOUTS[rng.gen_range(0..3)];
                for (alpha, beta) in [(1.0, 0.0), (0.75, -1.5)] {
                    check(m, k, n, (la, lb, lc), alpha, beta, &mut rng);
                }
            }
        }
    }
}

/// The thin shapes of a GAN's training step (short k, matrix-vector, long k on a small C),
/// each big enough for its parallel path: bit-identical on 1 and 2 threads.
#[test]
fn thin_products_agree_on_one_and_two_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for shape in [
        (256, 2, 512),
        (256, 1, 512),
        (64, 1, 6272),
        (256, 512, 1),
        (64, 6272, 1),
        (6272, 64, 1),
        (512, 256, 2),
        (256, 512, 3),
        (1, 256, 512),
        (4, 6272, 64),
        (64, 16, 12544),
        (64, 12544, 16),
        (16, 64, 12544),
        (40, 9000, 50),
    ] {
        let (m, k, n) = shape;
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        for layout in [(false, false), (false, true), (true, false), (true, true)] {
            for path in simd::supported() {
                let one = product_on(path, 1, shape, (&a, &b), layout);
                let two = product_on(path, 2, shape, (&a, &b), layout);
                assert!(
                    same_bits(&one, &two),
                    "{path:?} {m}x{k}x{n} {layout:?}: 1 and 2 threads differ"
                );
            }
        }
    }
}
