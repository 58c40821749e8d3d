//! Same seed and config ⇒ the same bits, whatever the number of threads.
//!
//! `gantry train` runs each config twice, once with `RAYON_NUM_THREADS=1` and
//! `MATMUL_NUM_THREADS=1`, once with both set to 2, and every tensor of the two final
//! checkpoints (weights, buffers, optimizer state) must have identical bits, as must the
//! step, the RNG position and every logged loss. The configs are sized so that the
//! parallel code paths run: the MLP's 256×256 activations reach the elementwise kernels'
//! parallel threshold (2^16 elements) and its 256×256×256 products are split by
//! `matrixmultiply`'s threads; the DCGAN's convolutions are batched GEMMs spread over rayon,
//! and its gradient penalty differentiates twice through them.
//!
//! ```sh
//! cargo test --test reliability_determinism
//! ```

mod common;

use std::path::Path;

use common::{assert_same_bits, checkpoint_bits, log_lines, scratch};

/// WGAN-GP with 256-wide LeakyReLU MLPs and batches of 256 on ring8.
const MLP_GP: &str = r#"
name = "det-mlp"
seed = 5
steps = 4
batch_size = 256
n_critic = 2
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
log_every = 1
eval_samples = 256

[data]
name = "ring8"

[model]
kind = "mlp"
z_dim = 2
g_hidden = [256, 256]
d_hidden = [256, 256]
leaky = true
"#;

/// A tiny DCGAN (8 channels, batch norm in G, spectral norm in D) with a gradient penalty
/// on the bundled digits.
const DCGAN_DIGITS: &str = r#"
name = "det-dcgan"
seed = 5
steps = 3
batch_size = 16
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 10.0 }
log_every = 1
eval_samples = 64

[data]
name = "digits"

[model]
kind = "dcgan"
z_dim = 16
channels = 8
spectral_norm = true
"#;

/// Trains `config` with `threads` rayon and GEMM threads into `out`.
fn train(config: &Path, out: &Path, threads: &str) {
    let output = common::train(config, out)
        .env("RAYON_NUM_THREADS", threads)
        .env("MATMUL_NUM_THREADS", threads)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "gantry train with {threads} threads failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn same_bits_with_one_and_two_threads(name: &str, config_text: &str) {
    let dir = scratch(name);
    let config = dir.join("config.toml");
    std::fs::write(&config, config_text).unwrap();
    let (one, two) = (dir.join("threads-1"), dir.join("threads-2"));
    train(&config, &one, "1");
    train(&config, &two, "2");
    let (a, b) = (checkpoint_bits(&one), checkpoint_bits(&two));
    assert!(!a.tensors.is_empty());
    assert_same_bits(&a, &b);
    let log = log_lines(&one);
    assert!(!log.is_empty());
    assert_eq!(
        log,
        log_lines(&two),
        "{name}: the logs differ between 1 and 2 threads"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mlp_with_gradient_penalty_is_bit_identical_with_one_and_two_threads() {
    same_bits_with_one_and_two_threads("det-mlp", MLP_GP);
}

#[test]
fn dcgan_on_digits_is_bit_identical_with_one_and_two_threads() {
    same_bits_with_one_and_two_threads("det-dcgan", DCGAN_DIGITS);
}
