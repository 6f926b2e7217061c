//! Connecting a social account over OAuth: the authorization redirect (with state and
//! PKCE where the platform supports it) and the callback that stores the connection.

use std::time::Duration;

use chrono::Utc;

use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Engine;
use crate::api_error::ApiError;
use crate::connect_state::{ConnectAttempt, ConnectStateStore, TooManyPending};
use crate::tokens::{AuthorizationRequest, TokenError};

/// How long a started connection attempt may wait for its callback.
pub(crate) const ATTEMPT_TTL: Duration = Duration::from_secs(600);

/// The longest profile name (`user`) a connection may be started for, in bytes.
pub(crate) const MAX_USER_BYTES: usize = 256;

/// Records an attempt in the connect-state store and returns its unguessable state
/// and, when `pkce`, the S256 code challenge.
async fn start_attempt(
    states: &dyn ConnectStateStore,
    account: &str,
    profile: &str,
    platform: &str,
    redirect_uri: &str,
    pkce: bool,
) -> Result<(String, Option<String>), ApiError> {
    let state = random_token();
    let verifier = pkce.then(random_token);
    let challenge = verifier.as_deref().map(code_challenge);
    let attempt = ConnectAttempt {
        account: account.to_string(),
        profile: profile.to_string(),
        platform: platform.to_string(),
        code_verifier: verifier,
        redirect_uri: redirect_uri.to_string(),
    };
    let ttl = chrono::Duration::from_std(ATTEMPT_TTL).unwrap_or(chrono::Duration::zero());
    states
        .put(&state, &attempt, Utc::now() + ttl)
        .await
        .map_err(|e| {
            ApiError::internal(
                "The connect-state store is unavailable; try again later",
                &e,
            )
        })?;
    Ok((state, challenge))
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
    ///
    /// Pending attempts are bounded: `user` is at most 256 bytes (400), an account
    /// keeps its newest [`EngineSettings::max_pending_connects_per_account`] attempts
    /// (older ones stop working), and past [`EngineSettings::max_pending_connects`]
    /// in all the answer is 503. Attempts expire after ten minutes.
    ///
    /// [`EngineSettings::max_pending_connects_per_account`]: crate::EngineSettings::max_pending_connects_per_account
    /// [`EngineSettings::max_pending_connects`]: crate::EngineSettings::max_pending_connects
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
        if user.len() > MAX_USER_BYTES {
            return Err(ApiError::bad_request(format!(
                "Username too long: at most {MAX_USER_BYTES} bytes"
            )));
        }
        let (publisher, provider) = self.provider(platform)?;
        let redirect_uri = self.callback_url(platform);
        let (state, challenge) = start_attempt(
            inner.connect_states.as_ref(),
            &account.name,
            user,
            publisher.id(),
            &redirect_uri,
            provider.supports_pkce(),
        )
        .await?;
        let expires = std::time::Instant::now() + ATTEMPT_TTL;
        match inner.pending_connects.admit(&account.name, &state, expires) {
            Ok(None) => {}
            Ok(Some(evicted)) => {
                // The account's oldest attempt gives way; a store hiccup only leaves
                // it to expire.
                if let Err(e) = inner.connect_states.take(&evicted, Utc::now()).await {
                    tracing::warn!(error = %e, "could not drop a superseded connect attempt");
                }
            }
            Err(TooManyPending) => {
                let _ = inner.connect_states.take(&state, Utc::now()).await;
                return Err(ApiError::new(
                    503,
                    "Too many connection attempts are pending; try again in a few minutes",
                ));
            }
        }
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
        let attempt = match state {
            Some(state) => self
                .inner
                .connect_states
                .take(state, Utc::now())
                .await
                .map_err(|e| {
                    ApiError::internal(
                        "The connect-state store is unavailable; try again later",
                        &e,
                    )
                })?,
            None => None,
        };
        if let (Some(attempt), Some(state)) = (&attempt, state) {
            self.inner.pending_connects.release(&attempt.account, state);
        }
        let attempt = attempt
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
        let publisher = self.inner.publishers.get(platform).ok_or_else(|| {
            ApiError::new(404, super::validate::invalid_platforms_of(&[platform]))
        })?;
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

    fn callback_url(&self, platform: &str) -> String {
        format!(
            "{}api/connect/{platform}/callback",
            self.inner.public_base_url.as_str()
        )
    }
}

fn token_api_error(platform: &str, err: TokenError) -> ApiError {
    use crate::tokens::TokenErrorKind;
    let reason = err.message();
    match err.kind() {
        TokenErrorKind::Refused => ApiError::bad_request(format!(
            "{platform} refused the connection: {reason}. Start again from the beginning."
        )),
        TokenErrorKind::Transient => ApiError::new(
            502,
            format!("Could not reach {platform} to finish connecting ({reason}); try again"),
        ),
        TokenErrorKind::Unsupported => ApiError::new(501, reason),
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

    #[tokio::test]
    async fn a_state_works_once() {
        let states = crate::MemoryConnectStates::new();
        let (state, challenge) =
            start_attempt(&states, "acme", "main", "tiktok", "http://cb", true)
                .await
                .unwrap();
        assert_eq!(state.len(), 43);
        assert!(challenge.is_some());
        let attempt = states.take(&state, Utc::now()).await.unwrap().unwrap();
        assert_eq!(
            attempt.code_verifier.as_deref().map(code_challenge),
            challenge
        );
        assert!(states.take(&state, Utc::now()).await.unwrap().is_none());
        assert!(states.take("forged", Utc::now()).await.unwrap().is_none());
    }
}
