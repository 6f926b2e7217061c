//! In-memory usage counters.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{day_start, month_start, Admission, Usage, UsageRequest, UsageStore};
use crate::accounts::StoreError;

/// A [`UsageStore`] in memory: one lock makes check-and-consume atomic.
#[derive(Debug, Default)]
pub struct MemoryUsage {
    counters: Mutex<HashMap<CounterKey, u64>>,
}

/// (account, start of the period, social-account key or [`MONTH`]).
type CounterKey = (String, DateTime<Utc>, String);

/// The counter of the month itself (social-account counters use their key).
const MONTH: &str = "";

impl MemoryUsage {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl UsageStore for MemoryUsage {
    async fn admit(&self, req: &UsageRequest<'_>) -> Result<Admission, StoreError> {
        let month = month_start(req.now);
        let day = day_start(req.now);
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| StoreError::other("the in-memory usage counters are poisoned"))?;
        let month_key = (req.account.to_string(), month, MONTH.to_string());
        let used = counters.get(&month_key).copied().unwrap_or(0);
        if used >= req.monthly_limit {
            return Ok(Admission::MonthlyLimitReached {
                limit: req.monthly_limit,
            });
        }
        if let Some(limit) = req.daily_limit {
            for social in req.social_accounts {
                let key = (req.account.to_string(), day, social.counter_key());
                if counters.get(&key).copied().unwrap_or(0) >= limit {
                    return Ok(Admission::DailyLimitReached {
                        limit,
                        social_account: social.clone(),
                    });
                }
            }
        }
        for social in req.social_accounts {
            *counters
                .entry((req.account.to_string(), day, social.counter_key()))
                .or_insert(0) += 1;
        }
        let count = used + 1;
        counters.insert(month_key, count);
        Ok(Admission::Admitted(Usage {
            count,
            limit: req.monthly_limit,
            last_reset: month,
        }))
    }

    async fn release(&self, req: &UsageRequest<'_>) -> Result<(), StoreError> {
        let month = month_start(req.now);
        let day = day_start(req.now);
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| StoreError::other("the in-memory usage counters are poisoned"))?;
        let mut keys = vec![(req.account.to_string(), month, MONTH.to_string())];
        keys.extend(
            req.social_accounts
                .iter()
                .map(|social| (req.account.to_string(), day, social.counter_key())),
        );
        for key in keys {
            if let Some(count) = counters.get_mut(&key) {
                *count = count.saturating_sub(1);
            }
        }
        Ok(())
    }

    async fn current(
        &self,
        account: &str,
        now: DateTime<Utc>,
        monthly_limit: u64,
    ) -> Result<Usage, StoreError> {
        let month = month_start(now);
        let counters = self
            .counters
            .lock()
            .map_err(|_| StoreError::other("the in-memory usage counters are poisoned"))?;
        let count = counters
            .get(&(account.to_string(), month, MONTH.to_string()))
            .copied()
            .unwrap_or(0);
        Ok(Usage {
            count,
            limit: monthly_limit,
            last_reset: month,
        })
    }
}
