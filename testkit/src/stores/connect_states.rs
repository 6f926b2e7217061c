//! Checks every [`ConnectStateStore`] must pass.
//!
//! `put` may drop attempts that expired by the system clock, so these checks keep
//! every expiry in the year 2100 and pass explicit `now` values just before it.

use chrono::{DateTime, Utc};
use fanout_core::{ConnectAttempt, ConnectStateStore};

use super::{assert_eq_dbg, ok, utc};

/// Runs every connect-state check, in order, on `store`.
pub async fn run_connect_state_checks(store: &dyn ConnectStateStore) {
    a_state_is_taken_once(store).await;
    an_expired_attempt_is_not_returned(store).await;
    concurrent_takes_have_one_winner(&[store], "cs-concurrent").await;
}

/// An attempt of `account` to connect `platform`, with every field set.
pub fn sample_attempt(account: &str, platform: &str) -> ConnectAttempt {
    ConnectAttempt {
        account: account.to_string(),
        profile: "main".to_string(),
        platform: platform.to_string(),
        code_verifier: Some(format!("verifier-{account}-{platform}-ÄÖÜ~._")),
        redirect_uri: format!("https://fanout.example/api/connect/{platform}/callback?x=1&y=2"),
    }
}

/// Minutes after midnight of 2100-01-01 UTC.
fn at(minutes: i64) -> DateTime<Utc> {
    utc(2100, 1, 1, 0, 0, 0) + chrono::Duration::minutes(minutes)
}

async fn put(store: &dyn ConnectStateStore, state: &str, attempt: &ConnectAttempt, expires: i64) {
    ok(
        store.put(state, attempt, at(expires)).await,
        &format!("put({state})"),
    );
}

async fn take(store: &dyn ConnectStateStore, state: &str, now: i64) -> Option<ConnectAttempt> {
    ok(
        store.take(state, at(now)).await,
        &format!("take({state}) at minute {now}"),
    )
}

/// A live attempt is taken once, whole; a second take and an unknown state find
/// nothing; an attempt without a PKCE verifier stays without one.
pub async fn a_state_is_taken_once(store: &dyn ConnectStateStore) {
    let attempt = sample_attempt("cs-once", "tiktok");
    put(store, "cs-once", &attempt, 10).await;
    assert_eq_dbg(
        take(store, "cs-once", 0).await,
        Some(attempt),
        "the first take of a live state",
    );
    assert_eq_dbg(
        take(store, "cs-once", 0).await,
        None,
        "a second take of the same state",
    );
    assert_eq_dbg(
        take(store, "cs-never-put", 0).await,
        None,
        "a take of a state that was never put",
    );

    let mut plain = sample_attempt("cs-once", "linkedin");
    plain.code_verifier = None;
    put(store, "cs-once-plain", &plain, 10).await;
    assert_eq_dbg(
        take(store, "cs-once-plain", 9).await,
        Some(plain),
        "the take of an attempt without a PKCE verifier",
    );
}

/// An attempt taken at or after its expiry is not returned, and asking removed it.
pub async fn an_expired_attempt_is_not_returned(store: &dyn ConnectStateStore) {
    let attempt = sample_attempt("cs-expired", "instagram");
    put(store, "cs-expired-edge", &attempt, 10).await;
    assert_eq_dbg(
        take(store, "cs-expired-edge", 10).await,
        None,
        "a take at the attempt's expiry",
    );
    assert_eq_dbg(
        take(store, "cs-expired-edge", 5).await,
        None,
        "a take (at a live time) after a take at the expiry removed the attempt",
    );
    put(store, "cs-expired-late", &attempt, 10).await;
    assert_eq_dbg(
        take(store, "cs-expired-late", 20).await,
        None,
        "a take ten minutes after the attempt expired",
    );
}

/// 20 concurrent takes of one live state (spread round-robin over `stores`, which
/// must share one set of attempts): exactly one gets the attempt, and the state is
/// gone from every store afterwards. `state` must be unused.
pub async fn concurrent_takes_have_one_winner(stores: &[&dyn ConnectStateStore], state: &str) {
    assert!(
        !stores.is_empty(),
        "concurrent_takes_have_one_winner needs a store"
    );
    let attempt = sample_attempt("cs-concurrent", "tiktok");
    put(stores[0], state, &attempt, 10).await;
    let takes = (0..20).map(|i| take(stores[i % stores.len()], state, 1));
    let answers = futures::future::join_all(takes).await;
    let winners: Vec<_> = answers.into_iter().flatten().collect();
    assert_eq_dbg(
        winners,
        vec![attempt],
        "the attempts 20 concurrent takes of one state got",
    );
    for store in stores {
        assert_eq_dbg(
            take(*store, state, 1).await,
            None,
            "a take after the concurrent takes",
        );
    }
}
