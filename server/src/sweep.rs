//! Leftovers: the spool files and scratch media of a process that died without
//! cleaning up (`kill -9`, a crash, power loss) are removed at start-up.
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
//!
//! A server whose store is in memory and that has no `[media]` section keeps media in
//! scratch directories that only it can use (its jobs die with it): one per server in
//! `fanout-scratch-media-<pid>`, in the same base directory. At start-up, the whole
//! `fanout-scratch-media-<pid>` directory of a process that no longer runs is removed
//! (links inside are removed, never followed).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The prefix of a spool file's name.
const FILE_PREFIX: &str = "fanout-";
/// How many random characters follow it.
const RANDOM_LEN: usize = 6;
/// The prefix of a process's spool directory (followed by its pid).
const DIR_PREFIX: &str = "fanout-spool-";
/// The prefix of a process's scratch media directory (followed by its pid).
const SCRATCH_MEDIA_PREFIX: &str = "fanout-scratch-media-";

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

/// A new scratch media directory for one server of this process, inside `base`'s
/// `fanout-scratch-media-<pid>` (created, with `base`, if missing), after the scratch
/// media of dead processes in `base` were removed. Removed when dropped.
pub(crate) fn scratch_media_dir(base: &Path) -> std::io::Result<tempfile::TempDir> {
    sweep_scratch_media(base, std::process::id());
    let own = base.join(format!("{SCRATCH_MEDIA_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&own)?;
    tempfile::Builder::new().prefix("server-").tempdir_in(own)
}

/// Removes the scratch media directories in `base` of processes that no longer run;
/// returns how many were removed. Errors are logged, never fatal.
fn sweep_scratch_media(base: &Path, own_pid: u32) -> usize {
    let mut removed = 0;
    for (pid, dir) in pid_dirs(base, SCRATCH_MEDIA_PREFIX) {
        if pid == own_pid || running(pid) {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => removed += 1,
            Err(err) => tracing::warn!(
                dir = %dir.display(),
                "could not remove the scratch media of a stopped process: {err}"
            ),
        }
    }
    if removed > 0 {
        tracing::info!(
            dir = %base.display(),
            removed,
            "removed scratch media left by a process that stopped without cleaning up"
        );
    }
    removed
}

/// The directories (not links) in `base` named `prefix` and a pid, with the pid.
fn pid_dirs(base: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry
                .file_name()
                .to_str()?
                .strip_prefix(prefix)?
                .parse::<u32>()
                .ok()?;
            let is_dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
            is_dir.then(|| (pid, entry.path()))
        })
        .collect()
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
    let mut removed = 0;
    for (pid, dir) in pid_dirs(base, DIR_PREFIX) {
        if pid == own_pid {
            removed += sweep_dir(&dir, Some(started));
        } else if !running(pid) {
            removed += sweep_dir(&dir, None);
            // Only when empty: anything else in it is not ours to remove.
            let _ = std::fs::remove_dir(&dir);
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

    #[test]
    fn scratch_media_of_dead_processes_goes_whole() {
        let base = tempfile::tempdir().unwrap();
        let dead = base.path().join("fanout-scratch-media-4294967290");
        std::fs::create_dir_all(dead.join("server-abc/media/ab")).unwrap();
        std::fs::write(dead.join("server-abc/media/ab/object"), b"x").unwrap();
        // A link inside is removed, not followed.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dead.join("server-abc/link")).unwrap();
        let alive = base.path().join("fanout-scratch-media-1");
        std::fs::create_dir_all(&alive).unwrap();
        // Other names, even close ones, are not fanout's scratch media.
        let user = base.path().join("fanout-media-4294967290");
        std::fs::create_dir_all(&user).unwrap();

        let first = scratch_media_dir(base.path()).unwrap();
        assert!(!dead.exists());
        assert!(outside.path().join("keep").exists());
        assert!(alive.exists(), "pid 1 runs");
        assert!(user.exists());
        let own = base
            .path()
            .join(format!("fanout-scratch-media-{}", std::process::id()));
        assert_eq!(first.path().parent(), Some(own.as_path()));

        // A second server of this process gets its own directory; this process's
        // directory is never swept while it runs.
        let second = scratch_media_dir(base.path()).unwrap();
        assert_ne!(first.path(), second.path());
        assert!(first.path().exists());
        drop(first);
        assert!(second.path().exists());
    }
}
