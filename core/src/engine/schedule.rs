//! `scheduled_date` (+ `timezone`): when a scheduled post runs, checked against the
//! contract's rules (in the future, at most a year ahead).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::api_error::ApiError;

/// A valid schedule: the instant (UTC) and the zone the client named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub at: DateTime<Utc>,
    pub timezone: Option<String>,
}

/// Parses `scheduled_date` in `timezone` (UTC when absent) and checks it is after `now`
/// and at most `max_ahead_days` later.
///
/// A date with an offset (`Z`, `+02:00`) is that instant whatever the zone; a date
/// without one (`2027-01-01T10:00:00`, `2027-01-01 10:00`) is wall time in the zone.
pub(crate) fn parse(
    scheduled_date: &str,
    timezone: Option<&str>,
    now: DateTime<Utc>,
    max_ahead_days: i64,
) -> Result<Schedule, ApiError> {
    let zone: Tz = match timezone {
        None => Tz::UTC,
        Some(name) => name.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid timezone: {} is not an IANA time zone name (e.g. Europe/Madrid)",
                name.chars().take(64).collect::<String>()
            ))
        })?,
    };
    let text = scheduled_date.trim();
    let at = match DateTime::parse_from_rfc3339(text) {
        Ok(with_offset) => with_offset.with_timezone(&Utc),
        Err(_) => {
            let naive = parse_naive(text).ok_or_else(|| {
                ApiError::bad_request(
                    "Invalid scheduled_date: use ISO 8601, e.g. 2027-01-01T10:00:00Z",
                )
            })?;
            zone.from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid scheduled_date: {text} does not exist in {zone} (a clock change skips it)"
                    ))
                })?
                .with_timezone(&Utc)
        }
    };
    if at <= now {
        return Err(ApiError::bad_request(
            "scheduled_date must be in the future",
        ));
    }
    if at > now + chrono::Duration::days(max_ahead_days) {
        return Err(ApiError::bad_request(format!(
            "scheduled_date must be at most {max_ahead_days} days ahead"
        )));
    }
    Ok(Schedule {
        at,
        timezone: timezone.map(|_| zone.name().to_string()),
    })
}

fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap()
    }

    #[test]
    fn an_instant_with_offset_is_taken_as_is() {
        let s = parse("2027-01-01T10:00:00Z", None, now(), 365).unwrap();
        assert_eq!(s.at, Utc.with_ymd_and_hms(2027, 1, 1, 10, 0, 0).unwrap());
        assert_eq!(s.timezone, None);
        let s = parse("2027-01-01T10:00:00+02:00", Some("Asia/Tokyo"), now(), 365).unwrap();
        assert_eq!(s.at, Utc.with_ymd_and_hms(2027, 1, 1, 8, 0, 0).unwrap());
        assert_eq!(s.timezone.as_deref(), Some("Asia/Tokyo"));
    }

    #[test]
    fn wall_time_is_read_in_the_zone() {
        let s = parse("2027-07-01T10:00:00", Some("Europe/Madrid"), now(), 365).unwrap();
        assert_eq!(s.at, Utc.with_ymd_and_hms(2027, 7, 1, 8, 0, 0).unwrap());
        let s = parse("2027-01-01 10:00", None, now(), 365).unwrap();
        assert_eq!(s.at, Utc.with_ymd_and_hms(2027, 1, 1, 10, 0, 0).unwrap());
    }

    #[test]
    fn refusals_say_which_rule() {
        let msg = |r: Result<Schedule, ApiError>| r.unwrap_err().message;
        assert_eq!(
            msg(parse("2026-12-01T10:00:00Z", None, now(), 365)),
            "scheduled_date must be in the future"
        );
        assert_eq!(
            msg(parse("2028-01-01T10:00:00Z", None, now(), 365)),
            "scheduled_date must be at most 365 days ahead"
        );
        assert_eq!(
            msg(parse("next tuesday", None, now(), 365)),
            "Invalid scheduled_date: use ISO 8601, e.g. 2027-01-01T10:00:00Z"
        );
        assert_eq!(
            msg(parse(
                "2027-01-01T10:00:00Z",
                Some("Mars/Olympus"),
                now(),
                365
            )),
            "Invalid timezone: Mars/Olympus is not an IANA time zone name (e.g. Europe/Madrid)"
        );
    }
}
