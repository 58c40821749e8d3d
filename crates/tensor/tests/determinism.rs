//! The same inputs give bit-identical outputs on 1 and on 2 threads, both rayon's and
//! matrixmultiply's: kernels split work by fixed sizes, never by the number of threads.

mod common;

use common::{assert_bits_eq, on_threads, randn, rerun_test, values};
use gantry_tensor::{Tensor, Window2d};

/// Every kernel big enough to take its parallel path, on one set of inputs.
fn run_kernels() -> Vec<(&'static str, Tensor<f32>)> {
    let a = randn::<f32>(&[300, 257], 1);
    let b = randn::<f32>(&[257, 400], 2);
    let small_a = randn::<f32>(&[64, 20, 30], 3); // many small products: rayon over the batch
    let small_b = randn::<f32>(&[30, 25], 4);
    let img = randn::<f32>(&[8, 64, 14, 14], 5); // fold's output is above the threshold too
    let win = Window2d::square(4, 2, 1);
    let cols = img.unfold(&win);
    let x = randn::<f32>(&[1 << 20], 6);
    let y = randn::<f32>(&[1 << 20], 7);
    let col_t = randn::<f32>(&[1024, 1024], 8).t();
    vec![
        ("matmul 300x257x400", a.matmul(&b)),
        ("matmul transposed", b.t().matmul(&a.t())),
        ("batched matmul", small_a.matmul(&small_b)),
        ("unfold", cols.clone()),
        ("fold", cols.fold([14, 14], &win)),
        ("add", x.add(&y)),
        ("tanh", x.tanh()),
        ("softplus", x.softplus()),
        (
            "mul of a strided view",
            col_t.mul(&x.reshape(&[1024, 1024])),
        ),
        ("sum", x.sum()),
        ("sum_to", x.reshape(&[1024, 1024]).sum_to(&[1, 1024])),
        ("mean_axes", col_t.mean_axes(&[1], false)),
        ("bias gradient", img.sum_axes(&[0, 2, 3], false)),
        (
            "sum over rows",
            x.reshape(&[8, 1 << 17]).sum_axes(&[0], false),
        ),
    ]
}

#[test]
fn one_and_two_threads_agree_bit_for_bit() {
    let one = on_threads(1, run_kernels);
    let two = on_threads(2, run_kernels);
    for ((name, a), (_, b)) in one.iter().zip(&two) {
        assert_bits_eq(a, b, name);
    }
}

/// The environment variable that marks a child process of
/// [`gemm_threads_do_not_change_matmul`].
const CHILD: &str = "GANTRY_TENSOR_GEMM_THREADS_CHILD";

/// matrixmultiply reads `MATMUL_NUM_THREADS` once per process, so each thread count is
/// tried in a child process (this test binary, run again) that prints a digest of the
/// products' bits.
#[test]
fn gemm_threads_do_not_change_matmul() {
    let name = "gemm_threads_do_not_change_matmul";
    if std::env::var_os(CHILD).is_some() {
        let a = randn::<f32>(&[300, 257], 1);
        let b = randn::<f32>(&[257, 400], 2);
        let w = randn::<f32>(&[128, 1024], 3);
        let cols = randn::<f32>(&[4, 1024, 49], 4);
        let mut digest = 0xcbf2_9ce4_8422_2325u64; // FNV-1a over every output bit pattern
        for c in [a.matmul(&b), b.t().matmul(&a.t()), w.matmul(&cols)] {
            for v in values(&c) {
                digest = (digest ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3);
            }
        }
        println!("digest {digest:016x}");
        return;
    }
    let digest = |threads: &str| -> String {
        let out = rerun_test(name, &[(CHILD, "1"), ("MATMUL_NUM_THREADS", threads)]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "child failed: {stdout}");
        stdout
            .lines()
            .find_map(|l| l.split("digest ").nth(1))
            .unwrap_or_else(|| panic!("no digest in child output: {stdout}"))
            .to_string()
    };
    let one = digest("1");
    assert_eq!(one, digest("2"), "1 and 2 GEMM threads differ");
    assert_eq!(one, digest("4"), "1 and 4 GEMM threads differ");
}
