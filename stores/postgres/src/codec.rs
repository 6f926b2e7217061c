//! How values are kept in the database.
//!
//! Times that queries compare or sort (a job's due time, lease, creation time; a
//! connection attempt's expiry) are `BIGINT` nanoseconds since the Unix epoch, UTC:
//! exact to the nanosecond like the times fanout compares, where `timestamptz` keeps
//! only microseconds. That covers the years 1677 to 2262; a time outside is refused as
//! invalid rather than stored wrongly. Times that are only read back (an API key's or a
//! token's expiry) are RFC 3339 text, which keeps every digit and any year. Usage
//! periods are whole UTC days and months, kept as `timestamptz`. Counts are `BIGINT`.

use chrono::{DateTime, SecondsFormat, Utc};
use fanout_core::StoreError;

use crate::errors::corrupt;

/// A time as an indexed column holds it: nanoseconds since the Unix epoch.
pub(crate) fn nanos(t: &DateTime<Utc>, what: &str) -> Result<i64, StoreError> {
    t.timestamp_nanos_opt().ok_or_else(|| {
        StoreError::invalid(format!(
            "the PostgreSQL store cannot keep {what} {}: it keeps times between the years \
             1677 and 2262 — use a time in that range",
            t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        ))
    })
}

/// An optional [`nanos`].
pub(crate) fn opt_nanos(t: Option<&DateTime<Utc>>, what: &str) -> Result<Option<i64>, StoreError> {
    t.map(|t| nanos(t, what)).transpose()
}

/// Reads back [`nanos`].
pub(crate) fn from_nanos(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(n)
}

/// A time as text: RFC 3339, UTC, `Z`, as many fractional digits as needed.
pub(crate) fn time_to_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses [`time_to_text`]'s output.
pub(crate) fn opt_time_from_text(
    text: Option<String>,
    what: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| corrupt(format_args!("{what} (not an RFC 3339 time)")))
    })
    .transpose()
}

/// A count or limit as PostgreSQL's `BIGINT` holds it.
pub(crate) fn count_to_sql(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| {
        StoreError::invalid(format!(
            "the PostgreSQL store cannot hold {what} {n}: it is above {} — use a smaller \
             value",
            i64::MAX
        ))
    })
}

/// A stored count or limit.
pub(crate) fn count_from_sql(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(format_args!("{what} (negative: {n})")))
}

/// A count or offset as `LIMIT` / `OFFSET` take it (larger means all).
pub(crate) fn sql_limit(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nanos_round_trip_exactly() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 1, 10, 0, 0)
            .single()
            .expect("a valid date")
            + chrono::Duration::nanoseconds(123_456_789);
        let n = nanos(&t, "a time").expect("in range");
        assert_eq!(from_nanos(n), t);
    }

    #[test]
    fn times_out_of_range_are_invalid() {
        let far = Utc
            .with_ymd_and_hms(9999, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid date");
        let err = nanos(&far, "a due time").expect_err("out of range");
        assert_eq!(err.kind(), fanout_core::StoreErrorKind::Invalid);
        assert!(err.to_string().contains("9999"), "{err}");
    }
}
