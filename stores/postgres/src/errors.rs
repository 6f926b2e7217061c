//! Turning PostgreSQL and pool failures into [`StoreError`] sentences: what failed,
//! why, what to do.
//!
//! A server error is worded from its SQLSTATE and primary message only. Its `DETAIL`
//! (which for a unique violation repeats the key, e.g. an API key hash or an OAuth
//! state) is never put into the sentence, and neither is the primary message of a data
//! exception (class 22, which may quote a value). The underlying error stays available
//! as the [`std::error::Error::source`] for logs that want it.

use std::fmt::Display;

use deadpool_postgres::PoolError;
use fanout_core::{StoreError, StoreErrorKind};
use tokio_postgres::error::SqlState;

/// "the PostgreSQL store could not `what`: `why` — `advice`", with `err` as the source.
pub(crate) fn failed(what: impl Display, err: tokio_postgres::Error) -> StoreError {
    let kind = kind(&err);
    StoreError::new(
        kind,
        format!(
            "the PostgreSQL store could not {what}: {} — {}",
            describe(&err),
            advice(&err, kind)
        ),
    )
    .with_source(err)
}

/// Taking a connection from the pool failed.
pub(crate) fn pool_failed(what: impl Display, err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => failed(
            format_args!("{what} (opening a new connection to the database)"),
            err,
        ),
        PoolError::Timeout(_) => StoreError::unavailable(format!(
            "the PostgreSQL store could not {what}: no database connection became free in \
             time — the pool is exhausted or the server is slow to accept connections; \
             retry, or raise the pool size or the acquire timeout"
        ))
        .with_source(err),
        PoolError::Closed => StoreError::unavailable(format!(
            "the PostgreSQL store could not {what}: its connection pool was closed — the \
             store is shutting down"
        )),
        other => StoreError::other(format!(
            "the PostgreSQL store could not {what}: its connection pool failed ({other}) — \
             this is a bug in fanout"
        )),
    }
}

/// A value read back from the database is not what fanout wrote.
pub(crate) fn corrupt(what: impl Display) -> StoreError {
    StoreError::corrupt(format!(
        "the PostgreSQL store holds an unreadable {what} — the row was changed outside \
         fanout; fix or remove it"
    ))
}

/// The kind of a PostgreSQL failure.
pub(crate) fn kind(err: &tokio_postgres::Error) -> StoreErrorKind {
    let Some(code) = err.code() else {
        // No SQLSTATE: the connection failed or closed (I/O, TLS, protocol, timeout).
        return StoreErrorKind::Unavailable;
    };
    let class = &code.code()[..2.min(code.code().len())];
    if *code == SqlState::UNIQUE_VIOLATION
        || *code == SqlState::FOREIGN_KEY_VIOLATION
        || *code == SqlState::EXCLUSION_VIOLATION
    {
        return StoreErrorKind::Conflict;
    }
    if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::READ_ONLY_SQL_TRANSACTION
    {
        return StoreErrorKind::Unavailable;
    }
    if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        return StoreErrorKind::Corrupt;
    }
    match class {
        // connection exception, insufficient resources, operator intervention,
        // system error
        "08" | "53" | "57" | "58" => StoreErrorKind::Unavailable,
        // invalid authorization, invalid catalog (database) name, invalid schema name,
        // insufficient privilege and other access rule violations
        "28" | "3D" | "3F" | "42" => StoreErrorKind::Invalid,
        _ => StoreErrorKind::Other,
    }
}

/// What went wrong, without any value PostgreSQL may quote.
fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) if db.code().code().starts_with("22") => format!(
            "{} {}: a value was not accepted (data exception)",
            db.severity(),
            db.code().code()
        ),
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => {
            // tokio-postgres keeps the cause (refused, timed out, TLS…) as the source.
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

fn advice(err: &tokio_postgres::Error, kind: StoreErrorKind) -> &'static str {
    let code = err.code();
    if code == Some(&SqlState::INVALID_PASSWORD)
        || code == Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
    {
        return "check the user and password in the store URL";
    }
    if code == Some(&SqlState::INVALID_CATALOG_NAME) {
        return "check the database name in the store URL, or create that database";
    }
    if code == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
        return "grant the store's user the privileges it needs on its schema";
    }
    if code == Some(&SqlState::TOO_MANY_CONNECTIONS) {
        return "the server refuses more connections; lower the pool size of each \
                instance or raise the server's max_connections";
    }
    match kind {
        StoreErrorKind::Unavailable => {
            "the database is unreachable, restarting or busy; retry, and check the server \
             is up and the store URL points at it"
        }
        StoreErrorKind::Conflict => {
            "the data conflicts with what is stored (e.g. an API key already used by \
             another account)"
        }
        StoreErrorKind::Corrupt => "the database reports damaged data; restore it from a backup",
        StoreErrorKind::Invalid => {
            "check the store URL, the schema and the user's privileges; the tables may have \
             been changed outside fanout"
        }
        _ => "check the database server's log for this statement",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pool_is_unavailable() {
        let err = pool_failed("read job j1", PoolError::Closed);
        assert_eq!(err.kind(), StoreErrorKind::Unavailable);
        assert!(err.to_string().contains("read job j1"), "{err}");
    }
}
