//! One run per directory: a lock file held for the life of the process.
//!
//! Two processes training into one directory would write the same log and checkpoint at
//! once. A run therefore takes an exclusive advisory lock (`flock` on Unix, `LockFileEx` on
//! Windows, through [`std::fs::File::try_lock`]) on [`LOCK_FILE`] in its directory and keeps
//! it until it exits. The kernel releases the lock when the process ends however it ends,
//! `kill -9` included, so a dead run never leaves a stale lock; the file itself stays, and
//! holds the pid of the last process that took it, for the message a second run prints.
//!
//! The file is never deleted: deleting it while another process has it open would let a
//! third process lock a new file of the same name beside the second's.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside a run directory.
pub const LOCK_FILE: &str = "run.lock";

/// The exclusive right to write into a run directory; released when dropped (or when the
/// process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Creates `dir` if needed and locks it, or fails at once (no waiting) with one line
    /// naming the directory and, when known, the process that holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock, String> {
        let named = |p: &Path| {
            let p: PathBuf = p.into();
            move |e: std::io::Error| format!("{}: {e}", p.display())
        };
        std::fs::create_dir_all(dir).map_err(named(dir))?;
        let path = dir.join(LOCK_FILE);
        // Not truncated on open: until the lock is ours, the file holds the holder's pid.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(named(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let holder = match pid.trim() {
                    "" => "another process".to_string(),
                    pid => format!("process {pid}"),
                };
                return Err(format!(
                    "{} is in use by another gantry run ({holder} holds {}); wait for it to \
                     finish or choose another --out",
                    dir.display(),
                    path.display()
                ));
            }
            Err(TryLockError::Error(e)) => return Err(named(&path)(e)),
        }
        let pid = std::process::id().to_string();
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(pid.as_bytes()))
            .map_err(named(&path))?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gantry-run-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_second_lock_on_a_directory_fails_naming_it_and_the_holder() {
        let dir = scratch("twice");
        let first = RunLock::acquire(&dir).unwrap();
        let err = RunLock::acquire(&dir).unwrap_err();
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = RunLock::acquire(&dir);
        assert!(again.is_ok(), "released on drop: {again:?}");
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lock_inside_a_regular_file_is_an_error_naming_the_path() {
        let dir = scratch("file");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = RunLock::acquire(&file.join("run")).unwrap_err();
        assert!(err.contains(&file.display().to_string()), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
