//! Checks every store must pass: [`AccountDirectory`](fanout_core::AccountDirectory),
//! [`UsageStore`](fanout_core::UsageStore), [`JobStore`](fanout_core::JobStore) and
//! [`ConnectStateStore`](fanout_core::ConnectStateStore).
//!
//! Plain async functions, object_store style: a store crate calls
//! [`run_directory_checks`], [`run_usage_checks`], [`run_job_checks`] and
//! [`run_connect_state_checks`] (or single checks) against its own store. Each check
//! uses its own account names, job ids and states and explicit `now` values, so all of
//! them can run one after another on one store, and none sleeps. Each panics with a
//! sentence saying what went wrong.
//!
//! The job queries that span every account ([`JobStore::due`](fanout_core::JobStore::due)
//! and [`JobStore::media_expired`](fanout_core::JobStore::media_expired)) are checked in
//! years of their own (2001 and 2002); every other job check keeps its due and media
//! expiry times in 2026 or later, so they never see each other's jobs.

mod connect_states;
mod directory;
mod jobs;
mod usage;

use std::fmt::Debug;

use chrono::{DateTime, TimeZone, Utc};
use fanout_core::{SocialAccount, StoreError};

pub use connect_states::{
    a_state_is_taken_once, an_expired_attempt_is_not_returned, concurrent_takes_have_one_winner,
    run_connect_state_checks, sample_attempt,
};
pub use directory::{
    api_key_expiry_and_plan_round_trip, assert_same_account, assert_same_connection,
    full_connection, profiles_and_connections_round_trip, remove_deletes_the_account,
    run_directory_checks, sample_account, save_connection_creates_and_replaces,
    upsert_replaces_the_account, upsert_then_find_by_name_and_api_key,
};
pub use jobs::{
    a_duplicate_request_id_is_refused, a_job_round_trips, assert_same_job,
    concurrent_inserts_with_one_key_create_one, concurrent_updates_from_one_version_one_wins,
    delete_removes_a_job, due_honours_due_at_cancellation_and_leases, full_job,
    history_is_newest_first_and_count_adds_platforms,
    idempotency_keys_within_the_window_return_the_first_job, media_expired_lists_media_to_delete,
    run_job_checks, sample_job, scheduled_lists_jobs_not_started_soonest_first,
    update_compares_versions,
};
pub use usage::{
    accounts_are_isolated, concurrent_admits_are_exact, current_reads_without_counting,
    daily_limit_per_social_account, first_admit_counts_one, monthly_limit_admits_exactly_the_limit,
    new_day_resets_daily_but_not_month, new_month_resets_the_month,
    refused_daily_does_not_consume_other_accounts, release_gives_back_the_month_and_the_day,
    run_usage_checks, without_daily_limit_only_the_month_counts,
};

// ---------------------------------------------------------------------------------------
// Sample data

/// A UTC instant; panics on an impossible date (a bug in the check itself).
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    match Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single() {
        Some(t) => t,
        None => panic!("the store checks used an impossible date {y}-{mo}-{d} {h}:{mi}:{s}"),
    }
}

/// A social account on `platform` named `account_name`.
pub fn social(platform: &str, account_name: &str) -> SocialAccount {
    let platform_name = match platform {
        "tiktok" => "TikTok",
        "instagram" => "Instagram",
        "linkedin" => "LinkedIn",
        other => other,
    };
    SocialAccount {
        platform: platform.to_string(),
        platform_name: platform_name.to_string(),
        account_name: account_name.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

pub(crate) fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what} failed: {err}"),
    }
}

pub(crate) fn assert_eq_dbg<T: PartialEq + Debug>(actual: T, expected: T, what: &str) {
    assert!(
        actual == expected,
        "{what}: expected {expected:?}, got {actual:?}"
    );
}
