//! Turning SQLite failures into [`StoreError`] sentences: what failed, why, what to do.
//! rusqlite's messages name tables and constraints, never bound values, so no token or
//! key hash reaches the message.

use std::fmt::Display;
use std::path::Path;

use fanout_core::{StoreError, StoreErrorKind};
use rusqlite::ErrorCode;

/// "the SQLite store could not `what`: `err` — `advice`", with `err` as the source.
pub(crate) fn failed(what: impl Display, err: rusqlite::Error) -> StoreError {
    StoreError::new(
        kind(&err),
        format!(
            "the SQLite store could not {what}: {err} — {}",
            advice(&err)
        ),
    )
    .with_source(err)
}

/// Opening (or preparing) the file at `path` failed.
pub(crate) fn open_failed(path: &Path, err: rusqlite::Error) -> StoreError {
    let message = format!(
        "could not open the SQLite store at {}: {err} — {}",
        path.display(),
        match code(&err) {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => advice(&err),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => advice(&err),
            _ => "check the path is writable and its directory exists",
        }
    );
    let kind = match kind(&err) {
        StoreErrorKind::Corrupt => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, message).with_source(err)
}

/// A value read back from the file is not what fanout wrote.
pub(crate) fn corrupt(what: impl Display) -> StoreError {
    StoreError::corrupt(format!(
        "the SQLite store holds an unreadable {what} — the file was changed outside \
         fanout; fix or remove that row"
    ))
}

/// The kind of a SQLite failure.
fn kind(err: &rusqlite::Error) -> StoreErrorKind {
    match code(err) {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::PermissionDenied
            | ErrorCode::SystemIoFailure,
        ) => StoreErrorKind::Unavailable,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreErrorKind::Corrupt,
        Some(ErrorCode::ConstraintViolation) => StoreErrorKind::Conflict,
        _ => StoreErrorKind::Other,
    }
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
