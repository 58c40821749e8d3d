//! Helpers shared by the tensor tests: seeded random tensors, row-major index math written
//! out by hand (so the tests do not reuse the crate's own `shape.rs`), and comparisons.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use gantry_tensor::gemm::sgemm_on;
use gantry_tensor::simd::Path;
use gantry_tensor::{Element, Tensor, Window2d};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The odd sizes every kernel is tried on.
pub const ODD_SIZES: [usize; 4] = [1, 7, 33, 130];

/// A seeded N(0, 1) tensor.
pub fn randn<E: Element>(shape: &[usize], seed: u64) -> Tensor<E> {
    Tensor::randn(shape, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// The elements in logical row-major order, as `f64`.
pub fn values<E: Element>(t: &Tensor<E>) -> Vec<f64> {
    t.to_vec().iter().map(|x| x.to_f64().unwrap()).collect()
}

/// The multi-index of row-major position `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        idx[i] = flat % d;
        flat /= d;
    }
    idx
}

/// The row-major position of `idx` in `shape`.
pub fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}

/// The NumPy broadcast of two shapes, written out directly (the test's own reference).
pub fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| {
            let (x, y) = (dim(a, i), dim(b, i));
            assert!(x == y || x == 1 || y == 1, "test shapes must broadcast");
            x.max(y)
        })
        .collect()
}

/// The row-major position in `shape` read by output index `out_idx` when `shape` is
/// broadcast to the output: axes aligned on the right, size-1 axes always read index 0.
pub fn broadcast_source(out_idx: &[usize], shape: &[usize]) -> usize {
    let lead = out_idx.len() - shape.len();
    let idx: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if d == 1 { 0 } else { out_idx[lead + i] })
        .collect();
    ravel(&idx, shape)
}

/// The machine epsilon of `E`, as `f64`.
pub fn eps<E: Element>() -> f64 {
    E::epsilon().to_f64().unwrap()
}

/// Asserts `|got[i] − want[i]| ≤ tol[i]` for every `i`, naming the first failure.
pub fn assert_within(got: &[f64], want: &[f64], tol: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, ((&g, &w), &t)) in got.iter().zip(want).zip(tol).enumerate() {
        assert!(
            g == w || (g - w).abs() <= t || (g.is_nan() && w.is_nan()),
            "{what}: element {i} is {g}, expected {w} (tolerance {t:e})"
        );
    }
}

/// Asserts two tensors hold bit-identical elements and the same shape.
pub fn assert_bits_eq<E: Element>(a: &Tensor<E>, b: &Tensor<E>, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    let bits = |t: &Tensor<E>| -> Vec<u64> {
        t.to_vec()
            .iter()
            .map(|x| x.to_f64().unwrap().to_bits())
            .collect()
    };
    let (ba, bb) = (bits(a), bits(b));
    if let Some(i) = (0..ba.len()).find(|&i| ba[i] != bb[i]) {
        panic!("{what}: element {i} differs between runs");
    }
}

/// The message of a panic raised by `f` (which must panic).
pub fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// The inner product `⟨x, y⟩` of two tensors' elements, and `Σ|xᵢ·yᵢ|` to scale its error.
pub fn inner<E: Element>(x: &Tensor<E>, y: &Tensor<E>) -> (f64, f64) {
    assert_eq!(x.shape(), y.shape(), "inner product of different shapes");
    let (xv, yv) = (values(x), values(y));
    let products = xv.iter().zip(&yv).map(|(p, q)| p * q);
    (products.clone().sum(), products.map(f64::abs).sum())
}

/// The strides `[rsa, csa, rsb, csb]` of A (`m×k`) and B (`k×n`), each stored row-major
/// (`false`) or read through a transposed view of a row-major matrix (`true`).
pub fn strides(
    (m, k, n): (usize, usize, usize),
    (transposed_a, transposed_b): (bool, bool),
) -> [isize; 4] {
    let (rsa, csa) = if transposed_a {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (rsb, csb) = if transposed_b {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    [rsa, csa, rsb, csb]
}

/// `C = A·B` on `path` and the calling thread's rayon pool, A and B laid out as
/// [`strides`] says; C starts as NaN (β = 0: it must not be read).
pub fn product(
    path: Path,
    (m, k, n): (usize, usize, usize),
    (a, b): (&[f32], &[f32]),
    transposed: (bool, bool),
) -> Vec<f32> {
    let [rsa, csa, rsb, csb] = strides((m, k, n), transposed);
    let mut c = vec![f32::NAN; m * n];
    unsafe {
        sgemm_on(
            path,
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    c
}

/// This test binary run again in a child process, running only the test `name` (on one test
/// thread, its output captured) with the environment variables `env` set: for settings a
/// process reads once, such as the SIMD path or matrixmultiply's thread count.
pub fn rerun_test(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().expect("test binary path"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs")
}

/// Marks a child process of [`on_every_path`].
const PATH_CHILD: &str = "GANTRY_TENSOR_PATH_CHILD";

/// Runs `check` on every SIMD path the CPU has. The path is chosen once per process, so each
/// runs in a child process: this test binary again, running only the test `name`, with
/// `GANTRY_SIMD` set; `check` runs in the child, which then prints that it ran (so a `name`
/// that matches no test fails instead of passing with nothing checked). Paths the CPU lacks
/// are skipped with a printed reason.
pub fn on_every_path(name: &str, check: impl FnOnce()) {
    let done = format!("{PATH_CHILD}: {name} checked");
    if std::env::var_os(PATH_CHILD).is_some() {
        check();
        println!("{done}");
        return;
    }
    for path in [Path::Avx512, Path::Avx2, Path::Scalar] {
        if !path.is_supported() {
            println!(
                "skipping the {} path: this CPU does not have it",
                path.name()
            );
            continue;
        }
        let out = rerun_test(name, &[(PATH_CHILD, "1"), ("GANTRY_SIMD", path.name())]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&done),
            "{} path: {stdout}{}",
            path.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `f` inside a rayon pool of `threads` threads.
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// The output grid, by PyTorch's formula `⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1`.
pub fn grid(h: usize, w: usize, win: &Window2d) -> [usize; 2] {
    let len = |x: usize, a: usize| {
        (x + 2 * win.padding[a] - win.dilation[a] * (win.kernel[a] - 1) - 1) / win.stride[a] + 1
    };
    [len(h, 0), len(w, 1)]
}

/// Calls `visit(column index, image index)` for every (column entry, pixel) pair that
/// `F.unfold` connects: `cols[n, (c·kh + i)·kw + j, y·ow + x] = img[n, c, y·sh − ph + i·dh,
/// x·sw − pw + j·dw]`, skipping taps that land in the zero padding.
pub fn for_each_tap(image: [usize; 4], win: &Window2d, mut visit: impl FnMut(usize, usize)) {
    let [n, c, h, w] = image;
    let [kh, kw] = win.kernel;
    let [oh, ow] = grid(h, w, win);
    for b in 0..n {
        for ch in 0..c {
            for i in 0..kh {
                for j in 0..kw {
                    for y in 0..oh {
                        for x in 0..ow {
                            let iy = (y * win.stride[0] + i * win.dilation[0]) as isize
                                - win.padding[0] as isize;
                            let ix = (x * win.stride[1] + j * win.dilation[1]) as isize
                                - win.padding[1] as isize;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let row = (ch * kh + i) * kw + j;
                            let col = ravel(&[b, row, y * ow + x], &[n, c * kh * kw, oh * ow]);
                            let pix = ravel(&[b, ch, iy as usize, ix as usize], &[n, c, h, w]);
                            visit(col, pix);
                        }
                    }
                }
            }
        }
    }
}
