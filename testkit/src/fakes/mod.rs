//! Strict fakes of each platform's API, one module per platform, each behind the
//! feature of the same name.

/// The [`crate::FakePlatform`] methods every fake with faults and a token endpoint
/// forwards alike: `base_url` is the fake's own; `published` reads its
/// `shared.log`; `inject` and `clear_faults` arm its `shared.faults`; the token
/// methods (`refreshable_connection`, `expire_access_token`, `revoke_refresh_token`,
/// `refresh_calls`) call the fake's inherent methods of the same names; `token_route`
/// is `$token_route`. Used inside `impl FakePlatform for $fake`.
#[allow(unused_macros)]
macro_rules! forward_oauth {
    ($fake:ty, $token_route:expr) => {
        fn base_url(&self) -> url::Url {
            <$fake>::base_url(self)
        }

        fn published(&self) -> Vec<$crate::record::PublishedPost> {
            self.shared.log.all()
        }

        fn inject(&self, fault: $crate::faults::Fault) {
            self.shared.faults.inject(fault);
        }

        fn clear_faults(&self) {
            self.shared.faults.clear();
        }

        fn refreshable_connection(
            &self,
            account_name: &str,
            expires_at: chrono::DateTime<chrono::Utc>,
        ) -> Option<fanout_core::Connection> {
            Some(<$fake>::refreshable_connection(
                self,
                account_name,
                expires_at,
            ))
        }

        fn expire_access_token(&self, token: &str) {
            <$fake>::expire_access_token(self, token);
        }

        fn revoke_refresh_token(&self, token: &str) {
            <$fake>::revoke_refresh_token(self, token);
        }

        fn refresh_calls(&self) -> usize {
            <$fake>::refresh_calls(self)
        }

        fn token_route(&self) -> &'static str {
            $token_route
        }
    };
}
#[allow(unused_imports)]
pub(crate) use forward_oauth;

#[cfg(feature = "instagram")]
pub mod instagram;
// Each fake uses the part of the shared OAuth state its platform needs.
#[cfg(feature = "linkedin")]
pub mod linkedin;
#[cfg(any(feature = "tiktok", feature = "instagram", feature = "linkedin"))]
#[cfg_attr(
    not(all(feature = "tiktok", feature = "instagram", feature = "linkedin")),
    allow(dead_code)
)]
mod oauth;
#[cfg(feature = "tiktok")]
pub mod tiktok;
