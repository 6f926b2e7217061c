//! How values are written in the file: times as RFC 3339 text in UTC with every
//! digit of precision kept, counts as SQLite integers.

use chrono::{DateTime, SecondsFormat, Utc};
use fanout_core::StoreError;

use crate::errors::corrupt;

/// A time as stored: RFC 3339, UTC, `Z`, as many fractional digits as needed.
pub(crate) fn time_to_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses [`time_to_text`]'s output.
pub(crate) fn time_from_text(text: &str, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(format_args!("{what} (not an RFC 3339 time)")))
}

/// An optional stored time.
pub(crate) fn opt_time_from_text(
    text: Option<String>,
    what: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| time_from_text(&t, what)).transpose()
}

/// A count or limit as SQLite stores it (signed 64-bit).
pub(crate) fn count_to_sql(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| {
        StoreError::invalid(format!(
            "the SQLite store cannot hold {what} {n}: it is above {} — use a smaller value",
            i64::MAX
        ))
    })
}

/// A stored count or limit.
pub(crate) fn count_from_sql(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(format_args!("{what} (negative: {n})")))
}
