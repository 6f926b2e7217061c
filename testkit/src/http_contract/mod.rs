//! The HTTP contract suite (feature `http-contract`): plain async checks that every
//! adapter (axum, actix-web) must pass over a real socket, so none can drift — the same
//! requests get the same statuses, headers and bodies.
//!
//! Each check takes a [`Serve`]: the adapter's way of serving an engine on a loopback
//! listener under a path prefix. The check builds what it needs (an engine over
//! in-memory stores with scripted publishers, see [`harness`]), has the adapter serve
//! it, and talks to it with `reqwest`. An adapter's tests run every check, one test
//! each, with [`http_contract_suite!`](crate::http_contract_suite):
//!
//! ```no_run
//! use fanout_core::Engine;
//! use fanout_testkit::http_contract::Served;
//!
//! fn serve(listener: std::net::TcpListener, prefix: &'static str, engine: Engine) -> Served {
//!     // Start the framework's server on `listener`, the routes mounted under `prefix`,
//!     // and return how to stop it.
//! #   let _ = (listener, prefix, engine);
//!     Served::new(|| {})
//! }
//! fanout_testkit::http_contract_suite!(serve);
//! # fn main() {}
//! ```
//!
//! The checks: [`uploads`] (the contract table of the README: 401, 404, 400, 413, 415,
//! 429 and the envelope), [`jobs`] (async, scheduled, status, history, schedule list,
//! edit and cancel, retry, idempotency), [`tokens`] (token refresh and the connect
//! redirect and callback, bounded pending attempts), [`routing`] (the media route with
//! its headers and ranges, mounting under a prefix, unknown routes and methods) and
//! [`bounds`] (JSON and `nosniff` on every answer, over-cap lengths and part headers
//! refused at once, file names of any bytes, Bearer `nbf` and expired keys).
// A test suite: its panics are its failures.
#![allow(clippy::unwrap_used)]

pub mod bounds;
pub mod harness;
pub mod jobs;
pub mod routing;
pub mod tokens;
pub mod uploads;

use fanout_core::Engine;

/// How an adapter serves an engine for the suite: on `listener` (bound to a loopback
/// port, blocking mode), with every route mounted under `prefix` (`""` for the root,
/// else e.g. `"/fanout"`), until the returned [`Served`] is dropped. Called inside a
/// Tokio runtime.
pub type Serve =
    fn(listener: std::net::TcpListener, prefix: &'static str, engine: Engine) -> Served;

/// A running server; dropping it stops the server.
pub struct Served {
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl Served {
    /// A server that `stop` stops.
    pub fn new(stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            stop: Some(Box::new(stop)),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Served(..)")
    }
}

/// One `#[tokio::test]` per check of the suite, each serving through `$serve` (a
/// [`Serve`]). The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).
#[macro_export]
macro_rules! http_contract_suite {
    ($serve:path) => {
        $crate::__http_contract_tests!($serve;
            uploads::missing_authorization_is_401,
            uploads::unknown_api_key_is_401,
            uploads::expired_api_key_is_401,
            uploads::bearer_tokens_valid_forged_expired_and_orphaned,
            uploads::a_removed_account_is_404_for_its_still_valid_jwt,
            uploads::missing_media_or_title_is_400,
            uploads::field_errors_are_400_in_contract_order_on_both_endpoints,
            uploads::success_envelope_is_exact,
            uploads::photos_succeed_and_spool_files_are_removed,
            uploads::a_large_upload_streams_through,
            uploads::expired_platform_token_fails_that_platform_alone,
            uploads::an_unconnected_platform_fails_alone,
            uploads::a_panicking_or_slow_publisher_changes_nothing_for_the_others,
            uploads::capability_limits_fail_the_platform_before_publishing,
            uploads::monthly_limit_is_429_and_counts_stop,
            uploads::daily_limit_names_platform_and_account,
            uploads::sixty_concurrent_requests_against_a_limit_of_twenty,
            uploads::bad_bodies_get_json_errors,
            uploads::urlencoded_with_unreachable_url_is_a_clear_400,
            uploads::a_second_account_is_isolated,
            jobs::async_upload_answers_at_once_and_status_follows_to_completed,
            jobs::sync_upload_keeps_the_envelope_and_echoes_a_client_request_id,
            jobs::status_needs_an_id_and_hides_other_accounts_jobs,
            jobs::one_idempotency_key_publishes_and_counts_once,
            jobs::scheduled_posts_are_listed_edited_cancelled_and_refunded,
            jobs::schedule_dates_outside_the_rules_are_refused,
            jobs::a_scheduled_post_fires_once_when_due,
            jobs::history_lists_one_item_per_platform_newest_first,
            jobs::retry_reruns_only_the_failed_platforms_and_counts_nothing,
            jobs::json_bodies_past_the_limit_are_413,
            jobs::a_slow_platform_past_the_sync_timeout_answers_in_the_background_shape,
            jobs::media_is_kept_exactly_as_long_as_a_job_may_need_it,
            tokens::a_token_expiring_within_the_margin_is_refreshed_first_and_saved,
            tokens::a_refused_token_is_refreshed_once_and_the_publish_retried,
            tokens::twenty_concurrent_uploads_refresh_once,
            tokens::a_definitive_refusal_asks_for_reconnection_and_stops_further_calls,
            tokens::a_transient_refresh_failure_keeps_every_token,
            tokens::connecting_an_account_redirects_then_stores_the_connection,
            tokens::connect_errors_are_clear,
            tokens::too_many_pending_connects_is_503_with_retry_after,
            routing::unknown_media_token_is_a_json_404,
            routing::media_is_served_whole_by_range_and_by_head,
            routing::everything_works_under_a_prefix,
            routing::unknown_routes_and_methods,
            routing::health_and_readiness_need_no_key,
            tokens::pending_connect_attempts_are_bounded,
            bounds::every_answer_is_json_with_nosniff,
            bounds::a_declared_length_past_the_cap_is_413_at_once,
            bounds::endless_part_headers_and_preambles_are_413_at_once,
            bounds::any_file_name_keeps_a_file_a_file,
            bounds::bearer_tokens_not_yet_valid_or_of_an_expired_key_are_401,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __http_contract_tests {
    ($serve:path; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                $crate::http_contract::$module::$check($serve).await;
            }
        )*
    };
}
