//! [`UsageStore`] on PostgreSQL: check-and-consume in one transaction, with no read
//! before a write.
//!
//! Each counter moves by one conditional upsert,
//! `INSERT … ON CONFLICT DO UPDATE SET count = count + 1 WHERE count < limit RETURNING
//! count`, which row-locks the counter until the transaction ends: the month's counter
//! first, then each social account's day in request order. No row comes back when the
//! counter is at its limit, and then the whole transaction is rolled back, so a refusal
//! counts nothing. Because every admission of an account locks its month first, the
//! admissions of one account take turns on that row across every instance, and the
//! daily locks after it cannot deadlock. `release` locks the month's row first too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use fanout_core::usage::{day_start, month_start};
use fanout_core::{Admission, StoreError, Usage, UsageRequest, UsageStore};

use crate::codec::{count_from_sql, count_to_sql};
use crate::errors::failed;
use crate::store::{column, execute, query_opt, PostgresStore};

/// The key of the month's own counter; social accounts use
/// [`fanout_core::SocialAccount::counter_key`], which is never empty.
const MONTH: &str = "";

/// Adds one to a counter still below `$4` and returns its new value; no row when it is
/// at (or past) the limit. A missing counter starts at 1 when the limit allows one.
const INCREMENT_BELOW: &str = "
    INSERT INTO usage_counters (account, period_start, key, count)
    SELECT $1::TEXT, $2::TIMESTAMPTZ, $3::TEXT, 1 WHERE $4::BIGINT > 0
    ON CONFLICT (account, period_start, key) DO UPDATE
        SET count = usage_counters.count + 1
        WHERE usage_counters.count < $4::BIGINT
    RETURNING count";

#[async_trait]
impl UsageStore for PostgresStore {
    async fn admit(&self, req: &UsageRequest<'_>) -> Result<Admission, StoreError> {
        let account = req.account;
        let what = format!("count an upload of account {account}");
        let month = month_start(req.now);
        let day = day_start(req.now);
        let monthly = count_to_sql(req.monthly_limit, "a monthly limit of")?;
        // Without a daily limit the days are still counted, with no ceiling.
        let daily = match req.daily_limit {
            Some(limit) => count_to_sql(limit, "a daily limit of")?,
            None => i64::MAX,
        };
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        let Some(count) = increment_below(&tx, account, month, MONTH, monthly, &what).await? else {
            rollback(tx, &what).await?;
            return Ok(Admission::MonthlyLimitReached {
                limit: req.monthly_limit,
            });
        };
        for social in req.social_accounts {
            let key = social.counter_key();
            if increment_below(&tx, account, day, &key, daily, &what)
                .await?
                .is_none()
            {
                rollback(tx, &what).await?;
                return Ok(Admission::DailyLimitReached {
                    limit: req.daily_limit.unwrap_or(u64::MAX),
                    social_account: social.clone(),
                });
            }
        }
        tx.commit().await.map_err(|e| failed(&what, e))?;
        Ok(Admission::Admitted(Usage {
            count: count_from_sql(count, &format!("usage count of account {account}"))?,
            limit: req.monthly_limit,
            last_reset: month,
        }))
    }

    async fn release(&self, req: &UsageRequest<'_>) -> Result<(), StoreError> {
        let account = req.account;
        let what = format!("give back an upload of account {account}");
        let month = month_start(req.now);
        let day = day_start(req.now);
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        // The month's row first, as `admit` locks it: the two never deadlock.
        query_opt(
            &tx,
            "SELECT 1 FROM usage_counters
             WHERE account = $1 AND period_start = $2 AND key = $3 FOR UPDATE",
            &[&account, &month, &MONTH],
            &what,
        )
        .await?;
        let mut keys = vec![(month, MONTH.to_string())];
        keys.extend(req.social_accounts.iter().map(|s| (day, s.counter_key())));
        for (period, key) in &keys {
            execute(
                &tx,
                "UPDATE usage_counters SET count = count - 1
                 WHERE account = $1 AND period_start = $2 AND key = $3 AND count > 0",
                &[&account, period, key],
                &what,
            )
            .await?;
        }
        tx.commit().await.map_err(|e| failed(&what, e))
    }

    async fn current(
        &self,
        account: &str,
        now: DateTime<Utc>,
        monthly_limit: u64,
    ) -> Result<Usage, StoreError> {
        let what = format!("read the usage of account {account}");
        let month = month_start(now);
        let client = self.client(&what).await?;
        let row = query_opt(
            &client,
            "SELECT count FROM usage_counters
             WHERE account = $1 AND period_start = $2 AND key = $3",
            &[&account, &month, &MONTH],
            &what,
        )
        .await?;
        let count: i64 = match row {
            Some(row) => column(&row, 0, &what)?,
            None => 0,
        };
        Ok(Usage {
            count: count_from_sql(count, &format!("usage count of account {account}"))?,
            limit: monthly_limit,
            last_reset: month,
        })
    }
}

/// [`INCREMENT_BELOW`]: the counter's new value, or `None` at the limit.
async fn increment_below(
    tx: &Transaction<'_>,
    account: &str,
    period: DateTime<Utc>,
    key: &str,
    limit: i64,
    what: &str,
) -> Result<Option<i64>, StoreError> {
    match query_opt(
        tx,
        INCREMENT_BELOW,
        &[&account, &period, &key, &limit],
        what,
    )
    .await?
    {
        Some(row) => Ok(Some(column(&row, 0, what)?)),
        None => Ok(None),
    }
}

async fn rollback(tx: Transaction<'_>, what: &str) -> Result<(), StoreError> {
    tx.rollback().await.map_err(|e| failed(what, e))
}
