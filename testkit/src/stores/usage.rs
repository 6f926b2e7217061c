//! Checks every [`UsageStore`] must pass.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fanout_core::{Admission, SocialAccount, Usage, UsageRequest, UsageStore};

use super::{assert_eq_dbg, ok, social, utc};

/// Runs every usage check, in order, on `store`.
pub async fn run_usage_checks(store: Arc<dyn UsageStore>) {
    first_admit_counts_one(store.as_ref()).await;
    monthly_limit_admits_exactly_the_limit(store.as_ref()).await;
    concurrent_admits_are_exact(std::slice::from_ref(&store), "usage-concurrent").await;
    daily_limit_per_social_account(store.as_ref()).await;
    refused_daily_does_not_consume_other_accounts(store.as_ref()).await;
    without_daily_limit_only_the_month_counts(store.as_ref()).await;
    new_day_resets_daily_but_not_month(store.as_ref()).await;
    new_month_resets_the_month(store.as_ref()).await;
    accounts_are_isolated(store.as_ref()).await;
    current_reads_without_counting(store.as_ref()).await;
    release_gives_back_the_month_and_the_day(store.as_ref()).await;
}

fn request<'a>(
    account: &'a str,
    now: DateTime<Utc>,
    monthly_limit: u64,
    daily_limit: Option<u64>,
    social_accounts: &'a [SocialAccount],
) -> UsageRequest<'a> {
    UsageRequest {
        account,
        now,
        monthly_limit,
        daily_limit,
        social_accounts,
    }
}

async fn admit(store: &dyn UsageStore, req: &UsageRequest<'_>) -> Admission {
    ok(
        store.admit(req).await,
        &format!("admit for account {} at {}", req.account, req.now),
    )
}

async fn admitted(store: &dyn UsageStore, req: &UsageRequest<'_>, what: &str) -> Usage {
    match admit(store, req).await {
        Admission::Admitted(usage) => usage,
        other => panic!("{what}: expected the request to be admitted, got {other:?}"),
    }
}

async fn current(store: &dyn UsageStore, account: &str, now: DateTime<Utc>, limit: u64) -> Usage {
    ok(
        store.current(account, now, limit).await,
        &format!("current usage of account {account}"),
    )
}

// ---------------------------------------------------------------------------------------
// Checks

/// The first admit of a month counts 1, and `last_reset` is the start of the UTC month.
pub async fn first_admit_counts_one(store: &dyn UsageStore) {
    let socials = [social("tiktok", "first_tt")];
    let now = utc(2026, 3, 17, 10, 20, 30);
    let usage = admitted(
        store,
        &request("usage-first", now, 10, Some(5), &socials),
        "the first admit of usage-first",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 1,
            limit: 10,
            last_reset: utc(2026, 3, 1, 0, 0, 0),
        },
        "the usage after the first admit",
    );
}

/// With a monthly limit of N, N admits count 1..=N and the next is refused with
/// `MonthlyLimitReached` without being counted.
pub async fn monthly_limit_admits_exactly_the_limit(store: &dyn UsageStore) {
    let socials = [social("instagram", "monthly_ig")];
    let now = utc(2026, 4, 10, 12, 0, 0);
    for n in 1..=3 {
        let usage = admitted(
            store,
            &request("usage-monthly", now, 3, None, &socials),
            &format!("admit {n} of 3"),
        )
        .await;
        assert_eq_dbg(usage.count, n, &format!("the count after admit {n} of 3"));
    }
    for attempt in 0..2 {
        let refused = admit(store, &request("usage-monthly", now, 3, None, &socials)).await;
        assert_eq_dbg(
            refused,
            Admission::MonthlyLimitReached { limit: 3 },
            &format!("admit past a monthly limit of 3 (attempt {attempt})"),
        );
    }
    assert_eq_dbg(
        current(store, "usage-monthly", now, 3).await.count,
        3,
        "the count after refused admits (a refusal must not count)",
    );
}

/// 60 concurrent admits (tokio tasks, spread round-robin over `stores`, which must all
/// share one set of counters) against a monthly limit of 20: exactly 20 are admitted,
/// with counts 1..=20 each seen once, 40 are refused, and the final count is 20.
/// `account` must be unused.
pub async fn concurrent_admits_are_exact(stores: &[Arc<dyn UsageStore>], account: &str) {
    assert!(
        !stores.is_empty(),
        "concurrent_admits_are_exact needs a store"
    );
    let now = utc(2026, 5, 20, 8, 0, 0);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = stores[i % stores.len()].clone();
        let account = account.to_string();
        tasks.push(tokio::spawn(async move {
            let socials = [social("tiktok", &format!("concurrent_tt_{}", i % 3))];
            store
                .admit(&request(&account, now, 20, Some(1_000), &socials))
                .await
        }));
    }
    let mut counts = BTreeSet::new();
    let mut refused = 0;
    for task in tasks {
        let answer = match task.await {
            Ok(answer) => ok(answer, "a concurrent admit"),
            Err(err) => panic!("a concurrent admit task panicked or was cancelled: {err}"),
        };
        match answer {
            Admission::Admitted(usage) => {
                assert!(
                    counts.insert(usage.count),
                    "two concurrent admits were both given count {}",
                    usage.count
                );
            }
            Admission::MonthlyLimitReached { limit: 20 } => refused += 1,
            other => panic!("a concurrent admit answered {other:?}"),
        }
    }
    assert_eq_dbg(
        counts.len(),
        20,
        "admitted requests of 60 concurrent ones against a limit of 20",
    );
    assert_eq_dbg(
        counts,
        (1..=20).collect(),
        "the counts given to the admitted requests",
    );
    assert_eq_dbg(refused, 40, "refused requests of 60 concurrent ones");
    assert_eq_dbg(
        current(stores[0].as_ref(), account, now, 20).await.count,
        20,
        "the final count after 60 concurrent admits against a limit of 20",
    );
}

/// A daily limit of 5 per social account admits 5; the 6th is refused naming the first
/// social account (in request order) at its limit, and nothing is counted.
pub async fn daily_limit_per_social_account(store: &dyn UsageStore) {
    let tt = social("tiktok", "daily_tt");
    let ig = social("instagram", "daily_ig");
    let both = [tt.clone(), ig.clone()];
    let now = utc(2026, 6, 3, 9, 0, 0);
    for n in 1..=5 {
        let usage = admitted(
            store,
            &request(
                "usage-daily",
                now + Duration::minutes(n),
                100,
                Some(5),
                &both,
            ),
            &format!("daily admit {n} of 5"),
        )
        .await;
        assert_eq_dbg(
            usage.count,
            n as u64,
            "the monthly count during daily admits",
        );
    }
    let later = now + Duration::hours(10);
    assert_eq_dbg(
        admit(store, &request("usage-daily", later, 100, Some(5), &both)).await,
        Admission::DailyLimitReached {
            limit: 5,
            social_account: tt.clone(),
        },
        "the 6th admit of the day to two social accounts at a daily limit of 5",
    );
    // A fresh account first in the request: the refusal names the first one at its limit.
    let fresh = social("linkedin", "daily_li");
    let order = [fresh.clone(), ig.clone(), tt];
    assert_eq_dbg(
        admit(store, &request("usage-daily", later, 100, Some(5), &order)).await,
        Admission::DailyLimitReached {
            limit: 5,
            social_account: ig,
        },
        "an admit whose second social account is at its daily limit",
    );
    assert_eq_dbg(
        current(store, "usage-daily", later, 100).await.count,
        5,
        "the monthly count after daily refusals (a refusal must not count)",
    );
    // The fresh account was not consumed by the refused request: it still has 5.
    let fresh_only = [fresh];
    for n in 1..=5 {
        admitted(
            store,
            &request("usage-daily", later, 100, Some(5), &fresh_only),
            &format!("admit {n} of 5 to a social account named in refused requests"),
        )
        .await;
    }
    assert!(
        matches!(
            admit(
                store,
                &request("usage-daily", later, 100, Some(5), &fresh_only)
            )
            .await,
            Admission::DailyLimitReached { limit: 5, .. }
        ),
        "a 6th admit to one social account at a daily limit of 5 was not refused"
    );
}

/// A request refused for one social account's daily limit does not consume the other
/// social accounts' daily counters.
pub async fn refused_daily_does_not_consume_other_accounts(store: &dyn UsageStore) {
    let a = social("tiktok", "refused_a");
    let b = social("instagram", "refused_b");
    let now = utc(2026, 7, 8, 15, 0, 0);
    for n in 1..=2 {
        admitted(
            store,
            &request("usage-refused", now, 100, Some(2), std::slice::from_ref(&a)),
            &format!("admit {n} of 2 to social account A"),
        )
        .await;
    }
    let b_then_a = [b.clone(), a.clone()];
    for _ in 0..3 {
        assert_eq_dbg(
            admit(
                store,
                &request("usage-refused", now, 100, Some(2), &b_then_a),
            )
            .await,
            Admission::DailyLimitReached {
                limit: 2,
                social_account: a.clone(),
            },
            "an admit to B and A when A is at its daily limit",
        );
    }
    let only_b = [b.clone()];
    for n in 1..=2 {
        admitted(
            store,
            &request("usage-refused", now, 100, Some(2), &only_b),
            &format!("admit {n} of 2 to social account B after refusals that named B"),
        )
        .await;
    }
    assert_eq_dbg(
        admit(store, &request("usage-refused", now, 100, Some(2), &only_b)).await,
        Admission::DailyLimitReached {
            limit: 2,
            social_account: b,
        },
        "the 3rd admit to B at a daily limit of 2",
    );
    assert_eq_dbg(
        current(store, "usage-refused", now, 100).await.count,
        4,
        "the monthly count (2 to A, 2 to B, refusals not counted)",
    );
}

/// Without a daily limit, only the monthly limit applies.
pub async fn without_daily_limit_only_the_month_counts(store: &dyn UsageStore) {
    let socials = [social("tiktok", "nodaily_tt")];
    let now = utc(2026, 8, 1, 0, 0, 0);
    for n in 1..=12 {
        let usage = admitted(
            store,
            &request("usage-nodaily", now, 12, None, &socials),
            &format!("admit {n} of 12 without a daily limit"),
        )
        .await;
        assert_eq_dbg(usage.count, n, "the count without a daily limit");
    }
    assert_eq_dbg(
        admit(store, &request("usage-nodaily", now, 12, None, &socials)).await,
        Admission::MonthlyLimitReached { limit: 12 },
        "the 13th admit at a monthly limit of 12 without a daily limit",
    );
}

/// A new UTC day resets the daily counters but not the month.
pub async fn new_day_resets_daily_but_not_month(store: &dyn UsageStore) {
    let socials = [social("linkedin", "newday_li")];
    let evening = utc(2026, 9, 14, 23, 59, 59);
    for _ in 0..2 {
        admitted(
            store,
            &request("usage-newday", evening, 100, Some(2), &socials),
            "an admit before midnight",
        )
        .await;
    }
    assert!(
        matches!(
            admit(
                store,
                &request("usage-newday", evening, 100, Some(2), &socials)
            )
            .await,
            Admission::DailyLimitReached { limit: 2, .. }
        ),
        "the 3rd admit of the day at a daily limit of 2 was not refused"
    );
    let midnight = utc(2026, 9, 15, 0, 0, 0);
    let usage = admitted(
        store,
        &request("usage-newday", midnight, 100, Some(2), &socials),
        "the first admit of the next UTC day",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 3,
            limit: 100,
            last_reset: utc(2026, 9, 1, 0, 0, 0),
        },
        "the usage after a new day (the month goes on counting)",
    );
}

/// A new UTC month resets the monthly count, and `last_reset` moves to its start.
pub async fn new_month_resets_the_month(store: &dyn UsageStore) {
    let socials = [social("tiktok", "newmonth_tt")];
    let end = utc(2026, 10, 31, 23, 59, 59);
    for _ in 0..2 {
        admitted(
            store,
            &request("usage-newmonth", end, 2, None, &socials),
            "an admit at the end of the month",
        )
        .await;
    }
    assert_eq_dbg(
        admit(store, &request("usage-newmonth", end, 2, None, &socials)).await,
        Admission::MonthlyLimitReached { limit: 2 },
        "the 3rd admit at a monthly limit of 2",
    );
    let start = utc(2026, 11, 1, 0, 0, 0);
    let usage = admitted(
        store,
        &request("usage-newmonth", start, 2, None, &socials),
        "the first admit of the next UTC month",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 1,
            limit: 2,
            last_reset: start,
        },
        "the usage after a new month",
    );
    assert_eq_dbg(
        current(store, "usage-newmonth", end, 2).await,
        Usage {
            count: 2,
            limit: 2,
            last_reset: utc(2026, 10, 1, 0, 0, 0),
        },
        "the previous month's usage after the new month began",
    );
}

/// One account's counters (monthly and daily) do not affect another's, even for social
/// accounts of the same name.
pub async fn accounts_are_isolated(store: &dyn UsageStore) {
    let socials = [social("instagram", "shared_ig")];
    let now = utc(2026, 12, 24, 18, 0, 0);
    admitted(
        store,
        &request("usage-iso-a", now, 1, Some(1), &socials),
        "the first admit of account A",
    )
    .await;
    assert_eq_dbg(
        admit(store, &request("usage-iso-a", now, 1, Some(1), &socials)).await,
        Admission::MonthlyLimitReached { limit: 1 },
        "the 2nd admit of account A at a monthly limit of 1",
    );
    assert_eq_dbg(
        admit(store, &request("usage-iso-a", now, 5, Some(1), &socials)).await,
        Admission::DailyLimitReached {
            limit: 1,
            social_account: socials[0].clone(),
        },
        "the 2nd admit of account A at a daily limit of 1",
    );
    let usage = admitted(
        store,
        &request("usage-iso-b", now, 1, Some(1), &socials),
        "the first admit of account B, with the same social account name, after A's limits",
    )
    .await;
    assert_eq_dbg(usage.count, 1, "account B's count");
    assert_eq_dbg(
        current(store, "usage-iso-a", now, 1).await.count,
        1,
        "account A's count after B's admit",
    );
}

/// `current` reads the month's usage without counting.
pub async fn current_reads_without_counting(store: &dyn UsageStore) {
    let now = utc(2027, 1, 15, 12, 30, 0);
    let january = utc(2027, 1, 1, 0, 0, 0);
    for _ in 0..3 {
        assert_eq_dbg(
            current(store, "usage-current", now, 50).await,
            Usage {
                count: 0,
                limit: 50,
                last_reset: january,
            },
            "current usage of an account that never uploaded",
        );
    }
    let socials = [social("tiktok", "current_tt")];
    admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "an admit after reading current usage",
    )
    .await;
    for _ in 0..3 {
        assert_eq_dbg(
            current(store, "usage-current", now, 77).await,
            Usage {
                count: 1,
                limit: 77,
                last_reset: january,
            },
            "current usage after one admit (the limit is the one asked with)",
        );
    }
    let usage = admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "the second admit",
    )
    .await;
    assert_eq_dbg(usage.count, 2, "the count after reads and two admits");
    // Reading did not count against the daily limit either: one more fits, then none.
    admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "the third admit at a daily limit of 3",
    )
    .await;
    assert!(
        matches!(
            admit(store, &request("usage-current", now, 50, Some(3), &socials)).await,
            Admission::DailyLimitReached { limit: 3, .. }
        ),
        "the 4th admit at a daily limit of 3 was not refused"
    );
}

/// `release` gives back one from the month and one from each social account's day
/// of what `admit` counted, never below zero: a released upload can be admitted again
/// within the same limits, releasing more than was admitted changes nothing, and a
/// release in another month leaves this month alone.
pub async fn release_gives_back_the_month_and_the_day(store: &dyn UsageStore) {
    let socials = [social("tiktok", "release_tt")];
    let now = utc(2027, 2, 9, 14, 0, 0);
    let february = utc(2027, 2, 1, 0, 0, 0);
    let req = request("usage-release", now, 2, Some(1), &socials);

    // An account that never uploaded: releasing changes nothing.
    ok(store.release(&req).await, "a release before any admit");
    assert_eq_dbg(
        current(store, "usage-release", now, 2).await.count,
        0,
        "the count after a release with nothing admitted",
    );

    let usage = admitted(store, &req, "the first admit of usage-release").await;
    assert_eq_dbg(usage.count, 1, "the count after the first admit");
    assert_eq_dbg(
        admit(store, &req).await,
        Admission::DailyLimitReached {
            limit: 1,
            social_account: socials[0].clone(),
        },
        "a 2nd admit at a daily limit of 1",
    );
    ok(store.release(&req).await, "the release of the first admit");
    assert_eq_dbg(
        current(store, "usage-release", now, 2).await,
        Usage {
            count: 0,
            limit: 2,
            last_reset: february,
        },
        "the usage after releasing the only admit",
    );
    // The day was given back too: the same social account is admitted again.
    let usage = admitted(store, &req, "an admit after a release gave the day back").await;
    assert_eq_dbg(usage.count, 1, "the count of the admit after a release");

    // Releasing more than was admitted stops at zero, for the month and the day.
    for what in [
        "the release of the second admit",
        "a release past zero",
        "another release past zero",
    ] {
        ok(store.release(&req).await, what);
    }
    assert_eq_dbg(
        current(store, "usage-release", now, 2).await.count,
        0,
        "the count after releasing more than was admitted",
    );
    let usage = admitted(store, &req, "an admit after releases past zero").await;
    assert_eq_dbg(
        usage.count,
        1,
        "the count of an admit after releases past zero (the month went below zero)",
    );
    assert_eq_dbg(
        admit(store, &req).await,
        Admission::DailyLimitReached {
            limit: 1,
            social_account: socials[0].clone(),
        },
        "a 2nd admit after releases past zero at a daily limit of 1 (the day went below zero)",
    );

    // A release in March gives back nothing of February.
    let march = request(
        "usage-release",
        utc(2027, 3, 2, 9, 0, 0),
        2,
        Some(1),
        &socials,
    );
    ok(store.release(&march).await, "a release in the next month");
    assert_eq_dbg(
        current(store, "usage-release", now, 2).await.count,
        1,
        "February's count after a release in March",
    );
}
