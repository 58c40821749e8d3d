//! One run per directory, and an honest `--resume`.
//!
//! - While a `gantry train` runs into a directory, a second `train`, a `train --resume` and a
//!   `demo` into the same directory each fail at once (exit status 1, one line naming the
//!   directory and the holder's pid); the first run then completes with the same checkpoint
//!   bits and log as a run that was alone.
//! - `kill -9` of the holder frees the directory: the kernel drops the lock with the
//!   process, and a new run takes the directory.
//! - `--resume` with no checkpoint is an error naming the directory (and creates nothing);
//!   with one it prints the step it continues from.
//!
//! ```sh
//! cargo test --test reliability_run_dir
//! ```

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, assert_same_bits, checkpoint_bits, log_lines, scratch};

/// WGAN-GP on ring8 with 64-wide MLPs: long enough (a few seconds) for other processes to
/// try the directory while it runs.
const CONFIG: &str = r#"
name = "run-dir"
seed = 4
steps = 400
batch_size = 64
n_critic = 2
objective = "wasserstein"
penalty = { kind = "gradient_penalty", lambda = 1.0 }
log_every = 10
eval_every = 1000
checkpoint_every = 50
eval_samples = 256

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [64, 64]
d_hidden = [64, 64]
"#;

/// Starts `gantry train` into `out` (output discarded).
fn start(config: &Path, out: &Path) -> Child {
    common::train(config, out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `child` holds the lock on `out` (its pid is in `run.lock`).
fn wait_for_lock(child: &Child, out: &Path) {
    let started = Instant::now();
    let pid = child.id().to_string();
    while std::fs::read_to_string(out.join("run.lock"))
        .ok()
        .as_deref()
        != Some(pid.as_str())
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_second_run_into_a_busy_directory_fails_and_the_first_is_untouched() {
    let dir = scratch("two-runs");
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let (shared, solo) = (dir.join("shared"), dir.join("solo"));

    let mut first = start(&config, &shared);
    wait_for_lock(&first, &shared);
    let holder = format!("process {}", first.id());
    let busy = [shared.display().to_string(), holder];
    let needles: Vec<&str> = busy.iter().map(String::as_str).collect();
    let second = common::train(&config, &shared).output().unwrap();
    assert_one_line_error(&second, &needles);
    let resumed = common::train(&config, &shared)
        .arg("--resume")
        .output()
        .unwrap();
    assert_one_line_error(&resumed, &needles);
    let demo = common::gantry()
        .args(["demo", "--quiet", "--out"])
        .arg(&shared)
        .output()
        .unwrap();
    assert_one_line_error(&demo, &needles);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the others tried: the test proved nothing"
    );
    assert!(first.wait().unwrap().success(), "the first run failed");

    let solo_run = common::train(&config, &solo).output().unwrap();
    assert!(solo_run.status.success());
    let shared_bits = checkpoint_bits(&shared);
    assert_eq!(shared_bits.step, 400);
    assert_same_bits(&shared_bits, &checkpoint_bits(&solo));
    assert_eq!(log_lines(&shared), log_lines(&solo), "the logs differ");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killing_the_holder_frees_the_directory() {
    let dir = scratch("kill-holder");
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let out = dir.join("run");

    let mut holder = start(&config, &out);
    wait_for_lock(&holder, &out);
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();

    let mut next = start(&config, &out);
    wait_for_lock(&next, &out);
    assert!(next.wait().unwrap().success(), "the new run failed");
    assert_eq!(checkpoint_bits(&out).step, 400);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_without_a_checkpoint_is_an_error_and_with_one_names_the_step() {
    let dir = scratch("resume");
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG.replace("steps = 400", "steps = 60")).unwrap();

    let absent = dir.join("absent");
    let output = common::train(&config, &absent)
        .arg("--resume")
        .output()
        .unwrap();
    let message = format!(
        "nothing to resume in {}; drop --resume to start a new run",
        absent.display()
    );
    assert_one_line_error(&output, &[&message]);
    assert!(
        !absent.exists(),
        "a failed --resume created {}",
        absent.display()
    );

    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let output = common::train(&config, &empty)
        .arg("--resume")
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        &["nothing to resume in", &empty.display().to_string()],
    );

    let run = dir.join("run");
    assert!(common::train(&config, &run)
        .output()
        .unwrap()
        .status
        .success());
    let longer = dir.join("longer.toml");
    std::fs::write(&longer, CONFIG.replace("steps = 400", "steps = 70")).unwrap();
    let output = common::train(&longer, &run)
        .arg("--resume")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = format!(
        "resuming from step 60 of 70 ({})",
        run.join("checkpoint.safetensors").display()
    );
    assert!(stdout.contains(&expected), "stdout: {stdout}");
    assert_eq!(checkpoint_bits(&run).step, 70);
    std::fs::remove_dir_all(&dir).unwrap();
}
