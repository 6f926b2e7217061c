//! Leftovers: the spool files of a process that died without cleaning up (`kill -9`,
//! a crash, power loss) are removed at start-up.
//!
//! Each server process spools uploads into a directory of its own inside the spool
//! directory (`spool_dir`, or the system's temporary directory):
//! `fanout-spool-<pid>`. At start-up, in every such directory of a process that no
//! longer runs, fanout's spool files — regular files named `fanout-` and six letters
//! or digits, what [`fanout_core::MediaFile::spool`] creates — are removed, then the
//! directory if it is empty. In the directory of this process's own id (a container
//! restarted with the same pid) only files older than this process are removed.
//! Nothing else is touched: other names, links, subdirectories, the directories of
//! live processes. Whether a process runs is read from `/proc`; where there is none,
//! only this process's own directory is swept.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The prefix of a spool file's name.
const FILE_PREFIX: &str = "fanout-";
/// How many random characters follow it.
const RANDOM_LEN: usize = 6;
/// The prefix of a process's spool directory (followed by its pid).
const DIR_PREFIX: &str = "fanout-spool-";

/// When the first server of this process was built: every spool file of this process
/// is newer.
fn process_started() -> SystemTime {
    static STARTED: OnceLock<SystemTime> = OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

/// This process's spool directory inside `base`, created (with `base`) if missing,
/// after the leftovers of dead processes in `base` were swept.
pub(crate) fn prepare(base: &Path) -> std::io::Result<PathBuf> {
    let started = process_started();
    sweep(base, std::process::id(), started);
    let own = base.join(format!("{DIR_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&own)?;
    Ok(own)
}

/// Whether `name` is the name of one of fanout's spool files.
pub(crate) fn is_spool_file_name(name: &str) -> bool {
    name.strip_prefix(FILE_PREFIX).is_some_and(|rest| {
        rest.len() == RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Whether process `pid` runs (unknown without `/proc`: then it counts as running).
fn running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Sweeps the spool directories in `base` as the module documentation says; returns
/// how many files were removed. Errors are logged, never fatal.
pub(crate) fn sweep(base: &Path, own_pid: u32, started: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if !is_dir {
            continue;
        }
        if pid == own_pid {
            removed += sweep_dir(&entry.path(), Some(started));
        } else if !running(pid) {
            removed += sweep_dir(&entry.path(), None);
            // Only when empty: anything else in it is not ours to remove.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
    if removed > 0 {
        tracing::info!(
            dir = %base.display(),
            removed,
            "removed spool files left by a process that stopped without cleaning up"
        );
    }
    removed
}

/// Removes the spool files in `dir` (those modified before `before`, when given).
fn sweep_dir(dir: &Path, before: Option<SystemTime>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(is_spool_file_name) {
            continue;
        }
        // `symlink_metadata`: a link is never followed, nor removed.
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let old_enough = match before {
            None => true,
            Some(before) => meta.modified().is_ok_and(|at| at < before),
        };
        if !meta.file_type().is_file() || !old_enough {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(err) => tracing::warn!(
                file = %entry.path().display(),
                "could not remove a leftover spool file: {err}"
            ),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    #[test]
    fn only_fanout_spool_names_match() {
        assert!(is_spool_file_name("fanout-a1B2c3"));
        for name in [
            "fanout-",
            "fanout-abc",
            "fanout-abcdefg",
            "fanout-ab.c12",
            "fanout-media-abc123",
            "fanout.db",
            "other-abc123",
            "Fanout-abc123",
        ] {
            assert!(!is_spool_file_name(name), "{name}");
        }
    }

    #[test]
    fn sweeps_dead_processes_and_old_files_of_this_pid_only() {
        let base = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let dir = base.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        };
        // A pid that cannot run (above the kernel's maximum).
        let dead = dir("fanout-spool-4294967290");
        std::fs::write(dead.join("fanout-abc123"), b"x").unwrap();
        std::fs::write(dead.join("notes.txt"), b"x").unwrap();
        let alive = dir(&format!("fanout-spool-{}", std::process::id()));
        std::fs::write(alive.join("fanout-old123"), b"x").unwrap();
        let other = dir("fanout-spool-1");
        std::fs::write(other.join("fanout-init12"), b"x").unwrap();
        std::fs::write(base.path().join("fanout-flat12"), b"x").unwrap();

        // Files of this pid older than `started` go; pid 1 runs, so its stay.
        let started = SystemTime::now() + Duration::from_secs(5);
        assert_eq!(sweep(base.path(), std::process::id(), started), 2);
        assert!(!dead.join("fanout-abc123").exists());
        assert!(dead.join("notes.txt").exists(), "not fanout's: kept");
        assert!(!alive.join("fanout-old123").exists());
        assert!(other.join("fanout-init12").exists());
        assert!(base.path().join("fanout-flat12").exists());

        // Newer than the start: kept.
        std::fs::write(alive.join("fanout-new123"), b"x").unwrap();
        assert_eq!(
            sweep(base.path(), std::process::id(), SystemTime::UNIX_EPOCH),
            0
        );
        assert!(alive.join("fanout-new123").exists());
    }
}
