//! Output that cannot be written: `gantry train` must exit with status 1 and one line
//! `error: …` that names the path, and leave no half-written file behind.
//!
//! - `--out` inside a regular file, and under `/proc` and `/sys` (which refuse new entries);
//! - a directory with permissions 0o555. Root ignores permission bits, so when the tests run
//!   as root the child runs as `nobody` (uid 65534); if even then the directory is
//!   writable, the test says so and skips;
//! - a read-only run directory holding a checkpoint, with `--resume`: the checkpoint and the
//!   log stay as they were;
//! - `checkpoint.safetensors` being a directory, so the atomic rename fails;
//! - a full disk, simulated with a file-size limit (`ulimit -f`, `SIGXFSZ` ignored, so a
//!   write past the limit fails with `EFBIG` as on a full file system): the save fails
//!   half-way, its temporary file is removed and the previous checkpoint is untouched;
//! - `write_atomic` itself, in process: a failed rename removes the temporary file.
//!
//! ```sh
//! cargo test --test reliability_output_errors -- --nocapture
//! ```

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gantry::nn::checkpoint::write_atomic;
use gantry::nn::CheckpointError;

/// A tiny run on ring8 whose checkpoint (two 64x64 MLPs with Adam state, ~110 KB) is far
/// bigger than its log.
const CONFIG: &str = r#"
name = "output-errors"
seed = 1
steps = 2
batch_size = 16
objective = "wasserstein"
checkpoint_every = 1
eval_every = 1000
eval_samples = 64

[data]
name = "ring8"

[model]
kind = "mlp"
g_hidden = [64, 64]
d_hidden = [64, 64]
"#;

/// uid and gid of `nobody`, for dropping root's privileges.
const NOBODY: u32 = 65534;

/// A fresh scratch directory holding `config.toml` (mode 0o644) with [`CONFIG`].
fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(name);
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir
}

fn remove(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

/// `gantry train --config <dir>/config.toml --out <out> --quiet` plus `extra`.
fn train(dir: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = common::train(&dir.join("config.toml"), out);
    cmd.args(extra);
    cmd
}

/// Runs a command that must succeed (its output is captured, not shown).
fn run_ok(mut cmd: Command) {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts exit status 1 and a single `error: ` line on stderr that names `path`;
/// returns the line.
fn assert_one_line_error(output: &Output, path: &Path) -> String {
    common::assert_one_line_error(output, &[&path.display().to_string()])
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether this process runs as root (a file it creates belongs to uid 0).
fn running_as_root(dir: &Path) -> bool {
    let probe = dir.join("uid-probe");
    std::fs::write(&probe, b"").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(probe).unwrap();
    root
}

/// Runs `cmd` as `nobody` when we are root, so that permission bits apply to it.
fn unprivileged(mut cmd: Command, root: bool) -> Command {
    if root {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd
}

/// Whether a process like the ones the test spawns can create a file in `dir`.
fn writable_for_child(dir: &Path, root: bool) -> bool {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("echo > \"$0/write-probe\"")
        .arg(dir)
        .stderr(std::process::Stdio::null());
    let ok = unprivileged(sh, root)
        .status()
        .map(|s| s.success())
        .unwrap_or(true);
    let _ = std::fs::remove_file(dir.join("write-probe"));
    ok
}

#[test]
fn out_inside_a_regular_file_is_a_one_line_error() {
    let dir = scratch("out-in-file");
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = file.join("run");
    let output = train(&dir, &out, &[]).output().unwrap();
    let line = assert_one_line_error(&output, &out);
    println!("{line}");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    assert_eq!(listing(&dir), ["a-file", "config.toml"]);
    remove(&dir);
}

#[test]
fn out_under_proc_and_sys_is_a_one_line_error() {
    let dir = scratch("out-proc");
    for (out, mounted) in [
        ("/proc/gantry-test", "/proc/self"),
        ("/sys/gantry-test", "/sys/kernel"),
    ] {
        let out = PathBuf::from(out);
        if !Path::new(mounted).exists() {
            println!("skipped {}: not mounted", out.display());
            continue;
        }
        let output = train(&dir, &out, &[]).output().unwrap();
        let line = assert_one_line_error(&output, &out);
        println!("{line}");
        assert!(!out.exists());
    }
    remove(&dir);
}

#[test]
fn a_read_only_directory_is_a_one_line_error_and_stays_empty() {
    let dir = scratch("read-only");
    let root = running_as_root(&dir);
    let out = dir.join("ro");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    if writable_for_child(&out, root) {
        println!("skipped: permission bits do not stop writes here (root without a way down)");
        remove(&dir);
        return;
    }
    let output = unprivileged(train(&dir, &out, &[]), root).output().unwrap();
    let line = assert_one_line_error(&output, &out);
    println!("{line}");
    assert!(line.contains("ermission denied"), "{line}");
    assert!(listing(&out).is_empty(), "left behind: {:?}", listing(&out));
    remove(&dir);
}

#[test]
fn resuming_in_a_read_only_directory_leaves_checkpoint_and_log_untouched() {
    let dir = scratch("read-only-resume");
    let root = running_as_root(&dir);
    let out = dir.join("run");
    run_ok(train(&dir, &out, &[]));
    let before: Vec<(String, Vec<u8>)> = listing(&out)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(out.join(&n)).unwrap()))
        .collect();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    if writable_for_child(&out, root) {
        println!("skipped: permission bits do not stop writes here (root without a way down)");
        remove(&dir);
        return;
    }
    let cmd = train(&dir, &out, &["--resume", "--set", "steps=4"]);
    let output = unprivileged(cmd, root).output().unwrap();
    let line = assert_one_line_error(&output, &out);
    println!("{line}");
    let after: Vec<(String, Vec<u8>)> = listing(&out)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(out.join(&n)).unwrap()))
        .collect();
    // `run.lock` holds the pid of the last process that locked the directory: a user who
    // may write that file but not the directory takes the lock and then fails to save.
    let without_lock = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        files.into_iter().filter(|(n, _)| n != "run.lock").collect()
    };
    assert!(
        without_lock(before) == without_lock(after),
        "the run directory changed"
    );
    remove(&dir);
}

#[test]
fn a_directory_in_place_of_the_checkpoint_is_a_one_line_error() {
    let dir = scratch("ck-is-dir");
    let out = dir.join("run");
    let blocker = out.join("checkpoint.safetensors");
    std::fs::create_dir_all(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), b"keep").unwrap();
    let output = train(&dir, &out, &[]).output().unwrap();
    let line = assert_one_line_error(&output, &blocker);
    println!("{line}");
    assert_eq!(std::fs::read(blocker.join("keep")).unwrap(), b"keep");
    let temporaries: Vec<String> = listing(&out)
        .into_iter()
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(temporaries.is_empty(), "left behind: {temporaries:?}");
    remove(&dir);
}

#[test]
fn a_full_disk_during_a_save_keeps_the_previous_checkpoint() {
    let dir = scratch("disk-full");
    let out = dir.join("run");
    run_ok(train(&dir, &out, &[]));
    let ck_path = out.join("checkpoint.safetensors");
    let before = std::fs::read(&ck_path).unwrap();
    assert!(
        before.len() > 64 * 1024,
        "the checkpoint is only {} bytes",
        before.len()
    );

    // 32 blocks: 16 KB in dash (512-byte blocks), 32 KB in bash; the log stays below,
    // the checkpoint does not. An ignored SIGXFSZ stays ignored across exec.
    let gantry = train(&dir, &out, &["--resume", "--set", "steps=4"]);
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 32 && exec \"$@\"")
        .arg("sh")
        .arg(gantry.get_program())
        .args(gantry.get_args());
    let output = sh.output().unwrap();
    let line = assert_one_line_error(&output, &ck_path);
    println!("{line}");
    assert!(line.contains("too large"), "expected EFBIG: {line}");
    assert!(
        std::fs::read(&ck_path).unwrap() == before,
        "the checkpoint changed"
    );
    let temporaries: Vec<String> = listing(&out)
        .into_iter()
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(temporaries.is_empty(), "left behind: {temporaries:?}");
    remove(&dir);
}

#[test]
fn write_atomic_removes_its_temporary_when_the_rename_fails() {
    let dir = scratch("write-atomic");
    // The target is a non-empty directory: the temporary file is written, the rename fails.
    let target = dir.join("state.bin");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), b"old").unwrap();
    let err = write_atomic(&target, b"new bytes").expect_err("rename onto a directory");
    assert!(
        matches!(&err, CheckpointError::Io { path, .. } if path == &target),
        "{err:?}"
    );
    assert!(err.to_string().contains(&target.display().to_string()));
    assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"old");
    assert_eq!(listing(&dir), ["config.toml", "state.bin"]);

    // A missing parent directory: nothing is created.
    let missing = dir.join("missing").join("state.bin");
    assert!(write_atomic(&missing, b"x").is_err());
    assert!(!dir.join("missing").exists());

    // And when everything works, the old file is replaced whole.
    let file = dir.join("file.bin");
    std::fs::write(&file, b"old").unwrap();
    write_atomic(&file, b"new").unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"new");
    assert_eq!(listing(&dir), ["config.toml", "file.bin", "state.bin"]);
    remove(&dir);
}
