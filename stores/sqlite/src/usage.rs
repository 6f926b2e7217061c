//! [`UsageStore`] on SQLite: check-and-consume in one `BEGIN IMMEDIATE` transaction.
//!
//! The write lock is taken before the first read, so no other connection (in this
//! process or another) can count between the check and the increment.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fanout_core::usage::{day_start, month_start};
use fanout_core::{Admission, StoreError, Usage, UsageRequest, UsageStore};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use crate::codec::{count_from_sql, time_to_text};
use crate::errors::failed;
use crate::store::SqliteStore;

/// The key of the month's own counter; social accounts use
/// [`fanout_core::SocialAccount::counter_key`], which is never empty.
const MONTH: &str = "";

#[async_trait]
impl UsageStore for SqliteStore {
    async fn admit(&self, req: &UsageRequest<'_>) -> Result<Admission, StoreError> {
        let account = req.account.to_string();
        let month = month_start(req.now);
        let day = time_to_text(&day_start(req.now));
        let monthly_limit = req.monthly_limit;
        let daily_limit = req.daily_limit;
        let socials = req.social_accounts.to_vec();
        self.with_conn(move |conn| {
            let what = format!("count an upload of account {account}");
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| failed(&what, e))?;
            let month_text = time_to_text(&month);
            let used = read_count(&tx, &account, &month_text, MONTH, &what)?;
            if used >= monthly_limit {
                return Ok(Admission::MonthlyLimitReached {
                    limit: monthly_limit,
                });
            }
            if let Some(limit) = daily_limit {
                for social in &socials {
                    let n = read_count(&tx, &account, &day, &social.counter_key(), &what)?;
                    if n >= limit {
                        return Ok(Admission::DailyLimitReached {
                            limit,
                            social_account: social.clone(),
                        });
                    }
                }
            }
            for social in &socials {
                increment(&tx, &account, &day, &social.counter_key(), &what)?;
            }
            let count = increment(&tx, &account, &month_text, MONTH, &what)?;
            tx.commit().map_err(|e| failed(&what, e))?;
            Ok(Admission::Admitted(Usage {
                count,
                limit: monthly_limit,
                last_reset: month,
            }))
        })
        .await
    }

    async fn release(&self, req: &UsageRequest<'_>) -> Result<(), StoreError> {
        let account = req.account.to_string();
        let month = time_to_text(&month_start(req.now));
        let day = time_to_text(&day_start(req.now));
        let socials = req.social_accounts.to_vec();
        self.with_conn(move |conn| {
            let what = format!("give back an upload of account {account}");
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| failed(&what, e))?;
            let mut keys = vec![(month, MONTH.to_string())];
            keys.extend(socials.iter().map(|s| (day.clone(), s.counter_key())));
            for (period, key) in keys {
                tx.prepare_cached(
                    "UPDATE usage_counters SET count = count - 1
                     WHERE account = ?1 AND period_start = ?2 AND key = ?3 AND count > 0",
                )
                .and_then(|mut stmt| stmt.execute(params![account, period, key]))
                .map_err(|e| failed(&what, e))?;
            }
            tx.commit().map_err(|e| failed(&what, e))
        })
        .await
    }

    async fn current(
        &self,
        account: &str,
        now: DateTime<Utc>,
        monthly_limit: u64,
    ) -> Result<Usage, StoreError> {
        let account = account.to_string();
        let month = month_start(now);
        self.with_conn(move |conn| {
            let what = format!("read the usage of account {account}");
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(|e| failed(&what, e))?;
            let count = read_count(&tx, &account, &time_to_text(&month), MONTH, &what)?;
            Ok(Usage {
                count,
                limit: monthly_limit,
                last_reset: month,
            })
        })
        .await
    }
}

fn read_count(
    tx: &Transaction<'_>,
    account: &str,
    period: &str,
    key: &str,
    what: &str,
) -> Result<u64, StoreError> {
    let n: Option<i64> = tx
        .prepare_cached(
            "SELECT count FROM usage_counters
             WHERE account = ?1 AND period_start = ?2 AND key = ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![account, period, key], |r| r.get(0))
                .optional()
        })
        .map_err(|e| failed(what, e))?;
    count_from_sql(n.unwrap_or(0), &format!("usage count of account {account}"))
}

/// Adds one to a counter and returns its new value.
fn increment(
    tx: &Transaction<'_>,
    account: &str,
    period: &str,
    key: &str,
    what: &str,
) -> Result<u64, StoreError> {
    let n: i64 = tx
        .prepare_cached(
            "INSERT INTO usage_counters (account, period_start, key, count)
             VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (account, period_start, key) DO UPDATE SET count = count + 1
             RETURNING count",
        )
        .and_then(|mut stmt| stmt.query_row(params![account, period, key], |r| r.get(0)))
        .map_err(|e| failed(what, e))?;
    count_from_sql(n, &format!("usage count of account {account}"))
}
