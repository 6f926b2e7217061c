//! Connecting a social account over OAuth: the authorization redirect (with state and
//! PKCE where the platform supports it) and the callback that stores the connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Engine;
use crate::api_error::ApiError;
use crate::tokens::{AuthorizationRequest, TokenError};

/// How long a started connection attempt may wait for its callback.
pub(crate) const ATTEMPT_TTL: Duration = Duration::from_secs(600);

/// A connection attempt waiting for its callback.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub account: String,
    pub profile: String,
    pub platform: String,
    pub code_verifier: Option<String>,
    pub redirect_uri: String,
    started: Instant,
}

/// Started attempts by state. Kept in this process: a callback must reach the
/// instance that started the attempt.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    by_state: Mutex<HashMap<String, Attempt>>,
}

impl Attempts {
    /// Records an attempt and returns its unguessable state and, when `pkce`, the S256
    /// code challenge.
    pub(crate) fn start(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
        redirect_uri: &str,
        pkce: bool,
    ) -> (String, Option<String>) {
        let state = random_token();
        let verifier = pkce.then(random_token);
        let challenge = verifier.as_deref().map(code_challenge);
        if let Ok(mut by_state) = self.by_state.lock() {
            by_state.retain(|_, a| a.started.elapsed() < ATTEMPT_TTL);
            by_state.insert(
                state.clone(),
                Attempt {
                    account: account.to_string(),
                    profile: profile.to_string(),
                    platform: platform.to_string(),
                    code_verifier: verifier,
                    redirect_uri: redirect_uri.to_string(),
                    started: Instant::now(),
                },
            );
        }
        (state, challenge)
    }

    /// Takes the attempt for `state` (each state works once) if it is still live.
    pub(crate) fn finish(&self, state: &str) -> Option<Attempt> {
        let attempt = self.by_state.lock().ok()?.remove(state)?;
        (attempt.started.elapsed() < ATTEMPT_TTL).then_some(attempt)
    }
}

/// 32 random bytes, URL-safe base64 (43 characters): a state or a PKCE verifier.
fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The PKCE S256 challenge of `verifier` (RFC 7636).
pub(crate) fn code_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Where a connection flow went: the URL to send the person to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRedirect {
    /// The platform's authorization page, with client id, redirect URI, scope, state
    /// (and PKCE challenge).
    pub authorization_url: url::Url,
}

impl Engine {
    /// Starts connecting `platform` to profile `user` of the authenticated account:
    /// `GET /api/connect/<platform>?user=<profile>`. Returns where to redirect.
    pub async fn connect_start(
        &self,
        authorization: Option<&str>,
        platform: &str,
        user: Option<&str>,
    ) -> Result<ConnectRedirect, ApiError> {
        let inner = &self.inner;
        let account = inner
            .auth
            .authenticate(inner.directory.as_ref(), authorization, chrono::Utc::now())
            .await?;
        let user = user
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| ApiError::bad_request("Username required"))?;
        let (publisher, provider) = self.provider(platform)?;
        let redirect_uri = self.callback_url(platform)?;
        let (state, challenge) = inner.connects.start(
            &account.name,
            user,
            publisher.id(),
            &redirect_uri,
            provider.supports_pkce(),
        );
        let url = provider
            .authorization_url(&AuthorizationRequest {
                redirect_uri: &redirect_uri,
                state: &state,
                code_challenge: challenge.as_deref(),
            })
            .map_err(|e| token_api_error(publisher.display_name(), e))?;
        Ok(ConnectRedirect {
            authorization_url: url,
        })
    }

    /// Finishes a connection: `GET /api/connect/<platform>/callback?code=…&state=…`.
    /// Exchanges the code and stores the connection on the profile that started it.
    pub async fn connect_finish(
        &self,
        platform: &str,
        code: Option<&str>,
        state: Option<&str>,
        error: Option<&str>,
    ) -> Result<Value, ApiError> {
        let (publisher, provider) = self.provider(platform)?;
        let name = publisher.display_name();
        let attempt = state
            .and_then(|s| self.inner.connects.finish(s))
            .filter(|a| a.platform == publisher.id())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Unknown or expired connection attempt; start again from /api/connect/{}",
                    publisher.id()
                ))
            })?;
        if let Some(error) = error {
            return Err(ApiError::bad_request(format!(
                "{name} did not authorize the connection ({}); start again from /api/connect/{}",
                crate::http::sanitize_platform_message(error),
                publisher.id()
            )));
        }
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("{name} sent no authorization code")))?;
        let connection = provider
            .exchange_code(
                code,
                &attempt.redirect_uri,
                attempt.code_verifier.as_deref(),
            )
            .await
            .map_err(|e| token_api_error(name, e))?;
        let account_name = connection.account_name.clone();
        self.inner
            .directory
            .save_connection(
                &attempt.account,
                &attempt.profile,
                publisher.id(),
                connection,
            )
            .await
            .map_err(|e| {
                ApiError::internal("The account store is unavailable; try again later", &e)
            })?;
        Ok(json!({
            "success": true,
            "platform": publisher.id(),
            "user": attempt.profile,
            "account_name": account_name,
        }))
    }

    fn provider(
        &self,
        platform: &str,
    ) -> Result<
        (
            &std::sync::Arc<dyn crate::Publisher>,
            &dyn crate::TokenProvider,
        ),
        ApiError,
    > {
        let publisher = self
            .inner
            .publishers
            .get(platform)
            .ok_or_else(|| ApiError::new(404, format!("Invalid platforms: {platform}")))?;
        let provider = publisher.tokens().ok_or_else(|| {
            ApiError::new(
                501,
                format!(
                    "Connecting {} accounts is not supported",
                    publisher.display_name()
                ),
            )
        })?;
        Ok((publisher, provider))
    }

    fn callback_url(&self, platform: &str) -> Result<String, ApiError> {
        let base = self
            .inner
            .settings
            .public_base_url
            .as_ref()
            .ok_or_else(|| {
                ApiError::new(
                    501,
                    "Connecting accounts needs public_base_url in the configuration",
                )
            })?;
        Ok(format!(
            "{}/api/connect/{platform}/callback",
            base.as_str().trim_end_matches('/')
        ))
    }
}

fn token_api_error(platform: &str, err: TokenError) -> ApiError {
    match err {
        TokenError::Refused(reason) => ApiError::bad_request(format!(
            "{platform} refused the connection: {reason}. Start again from the beginning."
        )),
        TokenError::Transient(reason) => ApiError::new(
            502,
            format!("Could not reach {platform} to finish connecting ({reason}); try again"),
        ),
        TokenError::Unsupported(reason) => ApiError::new(501, reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_example_challenge() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_state_works_once() {
        let attempts = Attempts::default();
        let (state, challenge) = attempts.start("acme", "main", "tiktok", "http://cb", true);
        assert_eq!(state.len(), 43);
        assert!(challenge.is_some());
        let attempt = attempts.finish(&state).unwrap();
        assert_eq!(
            attempt.code_verifier.as_deref().map(code_challenge),
            challenge
        );
        assert!(attempts.finish(&state).is_none());
        assert!(attempts.finish("forged").is_none());
    }
}
