//! [`TikTokTokens`]: TikTok's OAuth (Login Kit v2) as a [`TokenProvider`]: the
//! authorization page, the code exchange and the refresh of rotating refresh tokens.

use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{async_trait, AuthorizationRequest, Connection, TokenError, TokenProvider};
use fanout_kit::{sanitize_platform_message, NoAnswer, OAuthClient, TokenAnswer};
use reqwest::header::CACHE_CONTROL;
use serde_json::Value;
use url::Url;

use crate::config::TikTokConfig;
use crate::errors::PLATFORM;

/// Path of the authorization page under `oauth_base_url`.
const AUTHORIZE_PATH: &str = "v2/auth/authorize/";
/// Path of the token endpoint under `base_url`.
const TOKEN_PATH: &str = "v2/oauth/token/";
/// Path of the user info endpoint under `base_url`.
const USER_INFO_PATH: &str = "v2/user/info/?fields=open_id,display_name";

/// The sentence for missing client credentials.
const MISSING_CREDENTIALS: &str = "TikTok tokens cannot be refreshed or accounts connected: \
     no TikTok app credentials are configured. Set `platforms.tiktok.client_id` (the app's \
     client key) and `platforms.tiktok.client_secret`.";

/// TikTok's OAuth operations for one app (`client_id` is TikTok's `client_key`).
///
/// - `authorization_url`: `<oauth_base_url>v2/auth/authorize/?client_key=…&response_type=code
///   &scope=<scopes, comma-separated>&redirect_uri=…&state=…`. No PKCE: TikTok's web
///   Login Kit authenticates the app by its secret ([`TokenProvider::supports_pkce`] is
///   false); a challenge passed anyway is sent as `code_challenge` with
///   `code_challenge_method=S256`.
/// - `exchange_code` and `refresh`: `POST <base_url>v2/oauth/token/`, form-urlencoded.
///   TikTok rotates refresh tokens; the returned connection carries the new one (the
///   old one when none came back) and `expires_at = now + expires_in`.
/// - Errors: `invalid_grant` / `access_denied` (even with HTTP 200) → `Refused`;
///   `invalid_client` / `unauthorized_client` or no credentials configured →
///   `Unsupported`; no answer, 429, 5xx, `server_error`, `internal_error`,
///   `rate_limit_exceeded` or an unreadable answer → `Transient` (every token kept).
#[derive(Debug, Clone)]
pub struct TikTokTokens {
    config: TikTokConfig,
    oauth: OAuthClient,
}

/// What the token endpoint can do to a grant.
#[derive(Debug, Clone, Copy)]
enum Grant {
    Refresh,
    Code,
}

impl TikTokTokens {
    /// OAuth for the app configured in `config`, using `http`.
    pub fn new(config: TikTokConfig, http: reqwest::Client) -> Self {
        let oauth = config.oauth_client(&http);
        Self { config, oauth }
    }

    fn client_id(&self) -> Result<&str, TokenError> {
        self.config
            .client_id()
            .ok_or_else(|| TokenError::unsupported(MISSING_CREDENTIALS))
    }

    fn credentials(&self) -> Result<(&str, &SecretString), TokenError> {
        self.config
            .credentials()
            .ok_or_else(|| TokenError::unsupported(MISSING_CREDENTIALS))
    }

    fn endpoint(&self, path: &str) -> Result<Url, TokenError> {
        self.config.api_base().join(path).map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} base URL cannot be combined with the token path; check \
                 `platforms.tiktok.base_url`."
            ))
        })
    }

    /// One `POST` to the token endpoint with `form`: the tokens and the account's
    /// `open_id`, or a typed error.
    async fn token_call(
        &self,
        form: &[(&str, &str)],
        grant: Grant,
    ) -> Result<(TokenAnswer, Option<String>), TokenError> {
        let url = self.endpoint(TOKEN_PATH)?;
        let reply = self
            .oauth
            .post_form(url, form, &[(CACHE_CONTROL, "no-cache")])
            .await
            .map_err(no_answer)?;
        let value: Option<Value> = reply.json();
        if let Some(error) = value.as_ref().and_then(oauth_error) {
            return Err(map_error(reply.status, &error.0, &error.1, grant));
        }
        if !reply.is_success() {
            tracing::debug!(status = reply.status, "tiktok token endpoint refused");
            return Err(TokenError::transient(format!(
                "{PLATFORM}'s token endpoint answered HTTP {}: the tokens are unchanged; \
                 try again later.",
                reply.status
            )));
        }
        let open_id = value
            .as_ref()
            .and_then(|v| v.get("open_id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        let answer = TokenAnswer::parse(&reply.body).ok_or_else(|| {
            TokenError::transient(format!(
                "{PLATFORM}'s token endpoint sent an answer without tokens: the tokens \
                 are unchanged; try again later."
            ))
        })?;
        Ok((answer, open_id))
    }

    /// The account's display name, read with its new access token; `None` when it
    /// cannot be read (the scope `user.info.basic` was not granted, a network error).
    async fn display_name(&self, access_token: &str) -> Option<String> {
        let url = self.endpoint(USER_INFO_PATH).ok()?;
        let reply = self.oauth.get(url, access_token).await.ok()?;
        if !reply.is_success() {
            tracing::debug!(status = reply.status, "tiktok user info unavailable");
            return None;
        }
        let value: Value = reply.json()?;
        value
            .pointer("/data/user/display_name")
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .map(str::to_string)
    }
}

/// `{"error": "<code>", "error_description": …}` (OAuth shape) or `{"error": {"code",
/// "message"}}` (API shape, `code` not `ok`): the code and the description.
fn oauth_error(value: &Value) -> Option<(String, String)> {
    let error = value.get("error")?;
    if let Some(code) = error.as_str().filter(|c| !c.is_empty()) {
        let description = value
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Some((code.to_string(), description.to_string()));
    }
    let code = error.get("code")?.as_str()?;
    if code.is_empty() || code == "ok" {
        return None;
    }
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    Some((code.to_string(), message.to_string()))
}

/// A transport failure: the request may not have arrived; nothing changed.
fn no_answer(no_answer: NoAnswer) -> TokenError {
    let why = no_answer.why();
    tracing::debug!(why, "tiktok token endpoint gave no answer");
    no_answer.transient(format!(
        "{PLATFORM}'s token endpoint did not answer ({why}): the tokens are unchanged; try \
         again later."
    ))
}

/// Maps an OAuth error code to Refused, Unsupported or Transient.
fn map_error(status: u16, code: &str, description: &str, grant: Grant) -> TokenError {
    tracing::debug!(status, code, "tiktok token endpoint answered an error");
    let shown = sanitize_platform_message(description);
    let shown = shown.trim_end_matches('.');
    let detail = if shown.is_empty() {
        format!(" ({code})")
    } else {
        format!(" ({code}: {shown})")
    };
    match code {
        "invalid_grant" | "access_denied" => TokenError::refused(match grant {
            Grant::Refresh => format!(
                "{PLATFORM} refused to refresh the account's token{detail}: the refresh token \
                 expired or was revoked. Reconnect the {PLATFORM} account."
            ),
            Grant::Code => format!(
                "{PLATFORM} refused the authorization code{detail}: it expired or was \
                 already used. Connect the {PLATFORM} account again."
            ),
        }),
        "invalid_client" | "unauthorized_client" => TokenError::unsupported(format!(
            "{PLATFORM} refused the app's credentials{detail}. Check \
             `platforms.tiktok.client_id` (the app's client key) and \
             `platforms.tiktok.client_secret`."
        )),
        "invalid_request" | "invalid_scope" | "unsupported_grant_type" if status < 500 => {
            match grant {
                Grant::Refresh if shown.to_ascii_lowercase().contains("token") => {
                    TokenError::refused(format!(
                        "{PLATFORM} refused to refresh the account's token{detail}. Reconnect \
                         the {PLATFORM} account."
                    ))
                }
                Grant::Code => TokenError::refused(format!(
                    "{PLATFORM} refused the authorization{detail}. Connect the {PLATFORM} \
                     account again."
                )),
                Grant::Refresh => TokenError::unsupported(format!(
                    "{PLATFORM} refused the token request{detail}. Check the \
                     `platforms.tiktok` settings."
                )),
            }
        }
        _ => TokenError::transient(format!(
            "{PLATFORM}'s token endpoint failed{detail}: the tokens are unchanged; try again \
             later."
        )),
    }
}

#[async_trait]
impl TokenProvider for TikTokTokens {
    async fn refresh(&self, connection: &Connection) -> Result<Connection, TokenError> {
        let (client_key, secret) = self.credentials()?;
        let Some(refresh_token) = connection.refresh_token.as_ref() else {
            return Err(TokenError::refused(format!(
                "The {PLATFORM} account has no refresh token, so its access token cannot be \
                 renewed. Reconnect the {PLATFORM} account."
            )));
        };
        let (answer, open_id) = self
            .token_call(
                &[
                    ("client_key", client_key),
                    ("client_secret", secret.expose_secret()),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                ],
                Grant::Refresh,
            )
            .await?;
        let mut refreshed = answer.renew(connection);
        if let Some(open_id) = open_id {
            refreshed
                .attributes
                .entry("open_id".to_string())
                .or_insert(open_id);
        }
        Ok(refreshed)
    }

    fn authorization_url(&self, request: &AuthorizationRequest<'_>) -> Result<Url, TokenError> {
        let client_key = self.client_id()?;
        let mut url = self.config.oauth_base().join(AUTHORIZE_PATH).map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} OAuth base URL cannot be combined with the authorization \
                 path; check `platforms.tiktok.oauth_base_url`."
            ))
        })?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_key", client_key)
                .append_pair("response_type", "code")
                .append_pair("scope", &self.config.scopes.join(","))
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("state", request.state);
            if let Some(challenge) = request.code_challenge {
                query
                    .append_pair("code_challenge", challenge)
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Ok(url)
    }

    fn supports_pkce(&self) -> bool {
        false
    }

    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<Connection, TokenError> {
        let (client_key, secret) = self.credentials()?;
        let mut form = vec![
            ("client_key", client_key),
            ("client_secret", secret.expose_secret()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier));
        }
        let (answer, open_id) = self.token_call(&form, Grant::Code).await?;
        let name = match self.display_name(&answer.access_token).await {
            Some(name) => name,
            None => open_id
                .clone()
                .unwrap_or_else(|| "TikTok account".to_string()),
        };
        let connection = answer.connect(name);
        Ok(match open_id {
            Some(open_id) => connection.with_attribute("open_id", open_id),
            None => connection,
        })
    }
}
