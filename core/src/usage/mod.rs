//! Usage limits: monthly uploads per account, daily uploads per connected social account.

mod memory;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::StoreError;

pub use memory::MemoryUsage;

/// One connected social account a request will publish to; counted against the daily
/// limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialAccount {
    /// Platform id (`"instagram"`).
    pub platform: String,
    /// Platform display name (`"Instagram"`), for the limit message.
    pub platform_name: String,
    /// The account's name on the platform (`"acme_ig"`).
    pub account_name: String,
}

impl SocialAccount {
    /// The counter key of this social account within one fanout account.
    pub fn counter_key(&self) -> String {
        format!("{}\u{1f}{}", self.platform, self.account_name)
    }
}

/// One request asking to be admitted.
#[derive(Debug, Clone)]
pub struct UsageRequest<'a> {
    /// The fanout account.
    pub account: &'a str,
    /// The time of the request (decides month and day).
    pub now: DateTime<Utc>,
    /// Uploads allowed this month.
    pub monthly_limit: u64,
    /// Uploads allowed per social account per day, when limited.
    pub daily_limit: Option<u64>,
    /// The social accounts this request publishes to.
    pub social_accounts: &'a [SocialAccount],
}

/// The usage after a request, as the envelope reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Accepted requests this month, including this one.
    pub count: u64,
    /// The monthly limit.
    pub limit: u64,
    /// Start of the current UTC month, RFC 3339 with milliseconds.
    #[serde(serialize_with = "rfc3339_millis")]
    pub last_reset: DateTime<Utc>,
}

fn rfc3339_millis<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// The answer to a [`UsageRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Admitted and counted.
    Admitted(Usage),
    /// The monthly limit is reached; nothing was counted.
    MonthlyLimitReached {
        /// The monthly limit.
        limit: u64,
    },
    /// A social account's daily limit is reached; nothing was counted.
    DailyLimitReached {
        /// The daily limit.
        limit: u64,
        /// The first social account (in request order) at its limit.
        social_account: SocialAccount,
    },
}

/// Counts uploads. `admit` is atomic: with a limit of N, exactly N of any number of
/// concurrent requests are admitted.
#[async_trait]
pub trait UsageStore: Send + Sync + 'static {
    /// Checks every limit and, only when all allow it, counts the request once for the
    /// month and once for each social account's day.
    async fn admit(&self, request: &UsageRequest<'_>) -> Result<Admission, StoreError>;

    /// Gives back what [`UsageStore::admit`] counted for `request` (same account, same
    /// `now`, same social accounts): one from its month and one from each social
    /// account's day, never below zero. Used when an admitted job is cancelled before
    /// it starts.
    async fn release(&self, request: &UsageRequest<'_>) -> Result<(), StoreError>;

    /// The month's usage without counting anything.
    async fn current(
        &self,
        account: &str,
        now: DateTime<Utc>,
        monthly_limit: u64,
    ) -> Result<Usage, StoreError>;
}

/// Start of the UTC calendar month containing `now`.
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).unwrap_or(now.date_naive());
    Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))
}

/// Start of the UTC day containing `now`.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&now.date_naive().and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_and_day_starts_are_utc() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap();
        assert_eq!(
            month_start(t),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            day_start(t),
            Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn usage_serialises_with_millisecond_z() {
        let u = Usage {
            count: 5,
            limit: 120,
            last_reset: Utc.with_ymd_and_hms(2023, 10, 1, 0, 0, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"count": 5, "limit": 120, "last_reset": "2023-10-01T00:00:00.000Z"})
        );
    }
}
