//! Turning SQLite failures into [`StoreError`] sentences: what failed, why, what to do.
//! rusqlite's messages name tables and constraints, never bound values, so no token or
//! key hash reaches the message.

use std::fmt::Display;
use std::path::Path;

use fanout_core::StoreError;
use rusqlite::ErrorCode;

/// "the SQLite store could not `what`: `err` — `advice`".
pub(crate) fn failed(what: impl Display, err: &rusqlite::Error) -> StoreError {
    StoreError(format!(
        "the SQLite store could not {what}: {err} — {}",
        advice(err)
    ))
}

/// Opening (or preparing) the file at `path` failed.
pub(crate) fn open_failed(path: &Path, err: &rusqlite::Error) -> StoreError {
    StoreError(format!(
        "could not open the SQLite store at {}: {err} — {}",
        path.display(),
        match code(err) {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => advice(err),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => advice(err),
            _ => "check the path is writable and its directory exists",
        }
    ))
}

/// A value read back from the file is not what fanout wrote.
pub(crate) fn corrupt(what: impl Display) -> StoreError {
    StoreError(format!(
        "the SQLite store holds an unreadable {what} — the file was changed outside \
         fanout; fix or remove that row"
    ))
}

fn code(err: &rusqlite::Error) -> Option<ErrorCode> {
    err.sqlite_error_code()
}

fn advice(err: &rusqlite::Error) -> &'static str {
    match code(err) {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another process kept the database locked past the busy timeout; retry, and \
             check no process holds a long transaction on the file"
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            "check the database file and its directory are writable by this process"
        }
        Some(ErrorCode::DiskFull) => "free disk space where the database file lives",
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            "the file is damaged or not a fanout database; restore it from a backup"
        }
        Some(ErrorCode::ConstraintViolation) => {
            "the data conflicts with what is stored (e.g. an API key already used by \
             another account)"
        }
        _ => "check the database file and the disk it is on",
    }
}
