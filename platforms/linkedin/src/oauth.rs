//! [`LinkedInTokens`]: LinkedIn's OAuth 2.0 (3-legged) flows — the authorization URL,
//! the code exchange and the refresh — against `oauth_base_url`.

use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{async_trait, AuthorizationRequest, Connection, TokenError, TokenProvider};
use fanout_kit::{sanitize_platform_message, NoAnswer, OAuthClient, TokenAnswer};
use reqwest::header::ACCEPT;
use serde::Deserialize;
use url::Url;

use crate::config::LinkedInConfig;
use crate::errors::PLATFORM;

/// The token endpoint under `oauth_base_url`.
const TOKEN_PATH: &str = "oauth/v2/accessToken";
/// The authorization page under `oauth_base_url`.
const AUTHORIZATION_PATH: &str = "oauth/v2/authorization";

/// LinkedIn's OAuth operations for a [`TokenProvider`]: the authorization URL,
/// `grant_type=authorization_code` and `grant_type=refresh_token` at
/// `POST <oauth_base_url>/oauth/v2/accessToken` (form-urlencoded, with the app's
/// `client_id` and `client_secret`).
///
/// - LinkedIn's web flow takes no PKCE (only native apps LinkedIn enabled it for do),
///   so [`TokenProvider::supports_pkce`] is `false` and a challenge is not sent.
/// - Refresh tokens exist only for apps LinkedIn approved for them; they last a year
///   from the original consent and a refresh does not extend it. A refresh answer's
///   refresh token is kept (LinkedIn answers the same one), else the old one is.
/// - `invalid_grant` and other definitive 4xx answers are [`Refused`] (reconnect the
///   account); 5xx, 429, network errors and unreadable answers are [`Transient`]; no
///   `client_id` / `client_secret`, or an app LinkedIn does not recognise
///   (`invalid_client`), is [`Unsupported`].
///
/// A connected account is named after the member's OpenID Connect `name` and carries
/// `author_urn = urn:li:person:<sub>` (both from `GET <base_url>/v2/userinfo`).
///
/// [`Refused`]: fanout_core::TokenErrorKind::Refused
/// [`Transient`]: fanout_core::TokenErrorKind::Transient
/// [`Unsupported`]: fanout_core::TokenErrorKind::Unsupported
#[derive(Debug, Clone)]
pub struct LinkedInTokens {
    config: LinkedInConfig,
    oauth: OAuthClient,
}

/// The token endpoint's error body: `{"error", "error_description"}`, or the API's
/// `{"status", "code", "message"}` shape.
#[derive(Deserialize, Default)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

/// `GET /v2/userinfo`.
#[derive(Deserialize)]
struct UserInfo {
    sub: Option<String>,
    name: Option<String>,
}

impl LinkedInTokens {
    /// The OAuth flows of `config`'s app, over `http`.
    pub fn new(config: LinkedInConfig, http: reqwest::Client) -> Self {
        let oauth = config.oauth_client(&http);
        Self { config, oauth }
    }

    /// The app's `client_id` and `client_secret`, or the sentence naming the keys.
    fn client(&self) -> Result<(&str, &SecretString), TokenError> {
        match (self.config.client_id(), &self.config.client_secret) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(TokenError::unsupported(format!(
                "{PLATFORM} tokens cannot be obtained or refreshed without the app's \
                 credentials; set `platforms.linkedin.client_id` and \
                 `platforms.linkedin.client_secret` (from the app's Auth tab in the \
                 LinkedIn Developer Portal)."
            ))),
        }
    }

    fn url(&self, path: &str) -> Result<Url, TokenError> {
        self.config.oauth_base().join(path).map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} OAuth URL cannot be combined with a path; check \
                 `platforms.linkedin.oauth_base_url`."
            ))
        })
    }

    /// One call of the token endpoint with `fields` plus the client credentials.
    async fn token_call(&self, fields: &[(&str, &str)]) -> Result<TokenAnswer, TokenError> {
        let (client_id, secret) = self.client()?;
        let mut form = fields.to_vec();
        form.push(("client_id", client_id));
        form.push(("client_secret", secret.expose_secret()));
        let reply = self
            .oauth
            .post_form(
                self.url(TOKEN_PATH)?,
                &form,
                &[(ACCEPT, "application/json")],
            )
            .await
            .map_err(no_answer)?;
        if !reply.is_success() {
            return Err(classify(reply.status, &reply.body));
        }
        TokenAnswer::parse(&reply.body).ok_or_else(|| classify(reply.status, &reply.body))
    }

    /// The member behind a fresh access token: `(name, person id)`.
    async fn member(&self, access_token: &str) -> Result<(Option<String>, String), TokenError> {
        let url = self.config.api_base().join("v2/userinfo").map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} base URL cannot be combined with a path; check \
                 `platforms.linkedin.base_url`."
            ))
        })?;
        let reply = self.oauth.get(url, access_token).await.map_err(no_answer)?;
        let status = reply.status;
        if status == 429 || status >= 500 {
            return Err(TokenError::transient(format!(
                "{PLATFORM} could not say who connected (HTTP {status}); try connecting again \
                 in a few minutes."
            )));
        }
        let info = if reply.is_success() {
            reply.json::<UserInfo>()
        } else {
            None
        };
        match info {
            Some(UserInfo {
                sub: Some(sub),
                name,
            }) if valid_id(&sub) => Ok((name.filter(|n| !n.trim().is_empty()), sub)),
            _ => Err(TokenError::refused(format!(
                "{PLATFORM} did not say which member connected (HTTP {status}); connect again \
                 and grant the openid and profile scopes (add them to \
                 `platforms.linkedin.scopes` and to the app's products)."
            ))),
        }
    }
}

/// Maps an error answer of the token endpoint.
fn classify(status: u16, body: &[u8]) -> TokenError {
    let parsed: OAuthError = serde_json::from_slice(body).unwrap_or_default();
    let error = parsed.error.or(parsed.code).unwrap_or_default();
    let description = parsed
        .error_description
        .or(parsed.message)
        .map(|d| sanitize_platform_message(&d))
        .filter(|d| !d.is_empty());
    let said = description.map(|d| format!(": {d}")).unwrap_or_default();
    if status == 429 || status >= 500 || (200..300).contains(&status) {
        let what = if (200..300).contains(&status) {
            "an unreadable answer".to_string()
        } else {
            format!("HTTP {status}")
        };
        return TokenError::transient(format!(
            "{PLATFORM}'s token endpoint gave {what}{said}; every token was kept, try again \
             in a few minutes."
        ));
    }
    match error.as_str() {
        "invalid_client" | "unauthorized_client" => TokenError::unsupported(format!(
            "{PLATFORM} did not accept the app's credentials ({error}{said}); check \
             `platforms.linkedin.client_id` and `platforms.linkedin.client_secret`."
        )),
        "invalid_grant" => TokenError::refused(format!(
            "{PLATFORM} refused the grant (invalid_grant{said}): it expired (a year after \
             the member connected) or was revoked; reconnect the {PLATFORM} account."
        )),
        "" => TokenError::refused(format!(
            "{PLATFORM}'s token endpoint refused the request (HTTP {status}); reconnect the \
             {PLATFORM} account."
        )),
        other => TokenError::refused(format!(
            "{PLATFORM}'s token endpoint refused the request ({}{said}); reconnect the \
             {PLATFORM} account.",
            sanitize_platform_message(other)
        )),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A call that brought no answer back: nothing changed.
fn no_answer(no_answer: NoAnswer) -> TokenError {
    let sentence = no_answer.sentence(PLATFORM);
    no_answer.transient(sentence)
}

#[async_trait]
impl TokenProvider for LinkedInTokens {
    async fn refresh(&self, connection: &Connection) -> Result<Connection, TokenError> {
        let Some(refresh_token) = connection.refresh_token.as_ref() else {
            return Err(TokenError::unsupported(format!(
                "This {PLATFORM} connection has no refresh token (LinkedIn issues them only \
                 to apps approved for programmatic refresh tokens); reconnect the \
                 {PLATFORM} account when its access token expires."
            )));
        };
        // The credentials are checked before anything is sent.
        self.client()?;
        let answer = self
            .token_call(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ])
            .await?;
        let fresh = answer.renew(connection);
        tracing::info!(platform = "linkedin", account = %connection.account_name, "access token refreshed");
        Ok(fresh)
    }

    fn authorization_url(&self, request: &AuthorizationRequest<'_>) -> Result<Url, TokenError> {
        let (client_id, _) = self.client()?;
        let mut url = self.url(AUTHORIZATION_PATH)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("state", request.state)
            .append_pair("scope", &self.config.scopes.join(" "));
        Ok(url)
    }

    fn supports_pkce(&self) -> bool {
        false
    }

    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        _code_verifier: Option<&str>,
    ) -> Result<Connection, TokenError> {
        let answer = self
            .token_call(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
            ])
            .await?;
        let (name, sub) = self.member(&answer.access_token).await?;
        let connection = answer
            .connect(name.unwrap_or_else(|| sub.clone()))
            .with_attribute("author_urn", format!("urn:li:person:{sub}"));
        tracing::info!(platform = "linkedin", account = %connection.account_name, "account connected");
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use fanout_core::TokenErrorKind;

    use super::*;

    #[test]
    fn error_bodies_map_to_refused_transient_or_unsupported() {
        let grant = br#"{"error":"invalid_grant","error_description":"The provided authorization grant or refresh token is invalid, expired or revoked"}"#;
        assert_eq!(
            classify(400, grant),
            TokenError::refused(
                "LinkedIn refused the grant (invalid_grant: The provided authorization grant \
                 or refresh token is invalid, expired or revoked): it expired (a year after \
                 the member connected) or was revoked; reconnect the LinkedIn account."
            )
        );
        let client =
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#;
        let is = |err: TokenError, kind: TokenErrorKind, says: &str| {
            err.kind() == kind && err.message().contains(says)
        };
        assert!(is(
            classify(401, client),
            TokenErrorKind::Unsupported,
            "platforms.linkedin.client_secret"
        ));
        assert!(is(
            classify(503, b"<html>down</html>"),
            TokenErrorKind::Transient,
            "HTTP 503"
        ));
        assert_eq!(classify(429, b"").kind(), TokenErrorKind::Transient);
        assert!(is(
            classify(200, b"{}"),
            TokenErrorKind::Transient,
            "unreadable"
        ));
        let api = br#"{"status":400,"code":"BAD_REQUEST","message":"bad"}"#;
        assert!(is(
            classify(400, api),
            TokenErrorKind::Refused,
            "BAD_REQUEST: bad"
        ));
    }
}
