//! [`InstagramTokens`]: token refresh and account connection through Facebook Login.
//!
//! A connection holds a Page access token (what publishing uses) as its access token
//! and the long-lived (about 60 days) Facebook user token it was derived from as its
//! refresh token. Refreshing exchanges the user token for a new long-lived one
//! (`grant_type=fb_exchange_token`) and reads the Page token again from `me/accounts`;
//! connecting exchanges the code, then does the same.

use chrono::Utc;
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    async_trait, AuthorizationRequest, Connection, TokenError, TokenErrorKind, TokenProvider,
};
use fanout_kit::{sanitize_platform_message, NoAnswer, OAuthClient, Reply, TokenAnswer};
use serde::Deserialize;
use url::Url;

use crate::config::InstagramConfig;
use crate::errors::PLATFORM;

/// The fields read from `me/accounts`: each Page's token and its Instagram account.
const ACCOUNT_FIELDS: &str = "access_token,instagram_business_account{id,username}";

/// Instagram's [`TokenProvider`]: Facebook Login against the configured hosts.
///
/// Needs `client_id` and `client_secret`; without them every operation answers
/// [`Unsupported`](TokenErrorKind::Unsupported) naming the keys to set.
#[derive(Debug, Clone)]
pub struct InstagramTokens {
    config: InstagramConfig,
    oauth: OAuthClient,
}

/// `me/accounts`.
#[derive(Deserialize)]
struct Pages {
    #[serde(default)]
    data: Vec<Page>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    instagram_business_account: Option<IgAccount>,
}

#[derive(Deserialize)]
struct IgAccount {
    id: String,
    #[serde(default)]
    username: Option<String>,
}

/// Graph's `{"error": {...}}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<GraphError>,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
}

/// The Page token and Instagram account found for a user token.
struct Linked {
    page_token: String,
    ig_user_id: String,
    username: Option<String>,
}

impl InstagramTokens {
    /// Token operations with `config`'s hosts and credentials, over `http`.
    pub fn new(config: InstagramConfig, http: reqwest::Client) -> Self {
        let oauth = config.oauth_client(&http);
        Self { config, oauth }
    }

    fn client_id(&self) -> Result<&str, TokenError> {
        self.config.client_id().ok_or_else(missing_credentials)
    }

    fn credentials(&self) -> Result<(&str, &str), TokenError> {
        self.config
            .credentials()
            .map(|(id, secret)| (id, secret.expose_secret()))
            .ok_or_else(missing_credentials)
    }

    fn graph_url(&self, path: &str) -> Result<Url, TokenError> {
        self.config.api_base().join(path).map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} base URL cannot be combined with `{path}`; check \
                 `platforms.instagram.base_url`."
            ))
        })
    }

    /// `POST oauth/access_token` with `params` and the app credentials.
    async fn token_call(
        &self,
        params: &[(&str, &str)],
        what: &str,
    ) -> Result<TokenAnswer, TokenError> {
        let (client_id, client_secret) = self.credentials()?;
        let mut form: Vec<(&str, &str)> =
            vec![("client_id", client_id), ("client_secret", client_secret)];
        form.extend_from_slice(params);
        let reply = self
            .oauth
            .post_form(self.graph_url("oauth/access_token")?, &form, &[])
            .await
            .map_err(|e| no_answer(e, what))?;
        let reply = answered(reply, what)?;
        TokenAnswer::parse(&reply.body).ok_or_else(|| unreadable(what))
    }

    /// Exchanges a user token for a long-lived one: (token, seconds it lasts).
    async fn long_lived(&self, user_token: &str, what: &str) -> Result<TokenAnswer, TokenError> {
        self.token_call(
            &[
                ("grant_type", "fb_exchange_token"),
                ("fb_exchange_token", user_token),
            ],
            what,
        )
        .await
    }

    /// The Page token and Instagram account for `user_token`: the Page linked to
    /// `ig_user_id` when given, else the first Page with an Instagram account.
    async fn linked_account(
        &self,
        user_token: &str,
        ig_user_id: Option<&str>,
        what: &str,
    ) -> Result<Linked, TokenError> {
        let mut url = self.graph_url("me/accounts")?;
        url.query_pairs_mut().append_pair("fields", ACCOUNT_FIELDS);
        let reply = self
            .oauth
            .get(url, user_token)
            .await
            .map_err(|e| no_answer(e, what))?;
        let reply = answered(reply, what)?;
        let pages: Pages = reply.json().ok_or_else(|| unreadable(what))?;
        pages
            .data
            .into_iter()
            .filter_map(|page| {
                let account = page.instagram_business_account?;
                let page_token = page.access_token.filter(|t| !t.is_empty())?;
                Some(Linked {
                    page_token,
                    ig_user_id: account.id,
                    username: account.username,
                })
            })
            .find(|linked| ig_user_id.is_none() || ig_user_id == Some(linked.ig_user_id.as_str()))
            .ok_or_else(|| {
                TokenError::refused(format!(
                    "None of the Facebook Pages this login manages has the {PLATFORM} \
                     professional account linked any more; link it to a Page in Meta Business \
                     Suite and reconnect the {PLATFORM} account."
                ))
            })
    }
}

#[async_trait]
impl TokenProvider for InstagramTokens {
    async fn refresh(&self, connection: &Connection) -> Result<Connection, TokenError> {
        self.credentials()?;
        let Some(user_token) = connection.refresh_token.as_ref() else {
            return Err(TokenError::unsupported(format!(
                "This {PLATFORM} connection has no Facebook user token to refresh from; \
                 reconnect the {PLATFORM} account to keep it working."
            )));
        };
        let what = "refresh the login";
        let long_lived = self.long_lived(user_token.expose_secret(), what).await?;
        let new_user_token = long_lived.access_token.clone();
        let expires_at = long_lived.expires_at();
        let mut refreshed = connection.clone();
        refreshed.refresh_token = Some(SecretString::from(new_user_token.clone()));
        match self
            .linked_account(&new_user_token, connection.attribute("user_id"), what)
            .await
        {
            Ok(linked) => {
                refreshed.access_token = SecretString::from(linked.page_token);
                refreshed.expires_at = expires_at;
                refreshed
                    .attributes
                    .insert("user_id".to_string(), linked.ig_user_id);
            }
            // The new user token is already issued (the old one may be gone): keep it,
            // with the old Page token, due for another refresh at once.
            Err(err) if err.kind() == TokenErrorKind::Transient => {
                let reason = err.message();
                tracing::warn!(
                    platform = PLATFORM,
                    account = %connection.account_name,
                    %reason,
                    "login refreshed but the Page token could not be read; keeping the old one"
                );
                refreshed.expires_at = Some(Utc::now());
            }
            Err(other) => return Err(other),
        }
        Ok(refreshed)
    }

    fn authorization_url(&self, request: &AuthorizationRequest<'_>) -> Result<Url, TokenError> {
        let client_id = self.client_id()?;
        let mut url = self.config.oauth_base().join("dialog/oauth").map_err(|_| {
            TokenError::unsupported(format!(
                "The {PLATFORM} login dialog URL cannot be built; check \
                 `platforms.instagram.oauth_base_url`."
            ))
        })?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("state", request.state)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.config.scopes.join(","));
        Ok(url)
    }

    fn supports_pkce(&self) -> bool {
        // Facebook Login's PKCE is only documented for its OIDC flow, still in testing.
        false
    }

    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        _code_verifier: Option<&str>,
    ) -> Result<Connection, TokenError> {
        let what = "connect the account";
        let short_lived = self
            .token_call(&[("redirect_uri", redirect_uri), ("code", code)], what)
            .await?;
        let long_lived = self.long_lived(&short_lived.access_token, what).await?;
        let expires_at = long_lived.expires_at();
        let user_token = long_lived.access_token;
        let linked = self.linked_account(&user_token, None, what).await?;
        let name = linked
            .username
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| linked.ig_user_id.clone());
        let mut connection =
            Connection::new(name, linked.page_token).with_attribute("user_id", linked.ig_user_id);
        connection.refresh_token = Some(SecretString::from(user_token));
        connection.expires_at = expires_at;
        Ok(connection)
    }
}

fn missing_credentials() -> TokenError {
    TokenError::unsupported(format!(
        "{PLATFORM} tokens cannot be refreshed or accounts connected without the Meta app's \
         credentials; set `platforms.instagram.client_id` and \
         `platforms.instagram.client_secret`."
    ))
}

/// A call that brought no answer back: nothing changed.
fn no_answer(no_answer: NoAnswer, what: &str) -> TokenError {
    let how = no_answer.why();
    no_answer.transient(format!(
        "{PLATFORM} did not answer the request to {what} ({how}); every token was kept, try \
         again later."
    ))
}

/// A 2xx reply, or the error its body says.
fn answered(reply: Reply, what: &str) -> Result<Reply, TokenError> {
    if reply.is_success() {
        Ok(reply)
    } else {
        Err(classify(reply.status, &reply.body, what))
    }
}

fn unreadable(what: &str) -> TokenError {
    TokenError::transient(format!(
        "{PLATFORM} answered the request to {what} with something unreadable; every token was \
         kept, try again later."
    ))
}

/// Maps a token endpoint's or `me/accounts`' error answer.
fn classify(status: u16, body: &[u8], what: &str) -> TokenError {
    let error = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.error)
        .unwrap_or_default();
    let detail = sanitize_platform_message(&error.message);
    let detail = if detail.is_empty() {
        format!("HTTP {status}")
    } else {
        detail
    };
    match error.code {
        _ if status >= 500 || status == 429 => TokenError::transient(format!(
            "{PLATFORM} could not {what} right now ({detail}); every token was kept, try again \
             later."
        )),
        Some(190) => {
            let why = match error.error_subcode {
                Some(463) => "the login expired",
                Some(460) => "the password was changed",
                Some(458) => "the app was removed from the account",
                Some(459) | Some(464) => "the account needs attention on Facebook",
                _ => "the login is no longer valid or was revoked",
            };
            TokenError::refused(format!(
                "{PLATFORM} refused to {what}: {why} ({detail}). Reconnect the {PLATFORM} \
                 account."
            ))
        }
        Some(100) => TokenError::refused(format!(
            "{PLATFORM} refused to {what} ({detail}); reconnect the {PLATFORM} account."
        )),
        Some(code)
            if code == 101
                || (code == 1 && detail.to_ascii_lowercase().contains("client secret")) =>
        {
            TokenError::transient(format!(
                "{PLATFORM} refused the app credentials ({detail}); check \
                 `platforms.instagram.client_id` and `platforms.instagram.client_secret`. \
                 Every token was kept."
            ))
        }
        _ => TokenError::transient(format!(
            "{PLATFORM} could not {what} ({detail}); every token was kept, try again later."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, subcode: Option<i64>, message: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"error": {
            "message": message, "type": "OAuthException", "code": code,
            "error_subcode": subcode, "fbtrace_id": "Ax"}}))
        .unwrap()
    }

    #[test]
    fn code_190_is_refused_with_the_reason() {
        let err = classify(400, &body(190, Some(463), "Session has expired"), "refresh");
        assert_eq!(
            err,
            TokenError::refused(
                "Instagram refused to refresh: the login expired (Session has expired). \
                 Reconnect the Instagram account."
            )
        );
    }

    #[test]
    fn server_errors_and_rate_limits_are_transient() {
        assert_eq!(
            classify(500, &body(2, None, "Unexpected"), "refresh").kind(),
            TokenErrorKind::Transient
        );
        assert_eq!(
            classify(429, b"", "refresh").kind(),
            TokenErrorKind::Transient
        );
        assert_eq!(
            classify(400, &body(4, None, "limit"), "refresh").kind(),
            TokenErrorKind::Transient
        );
    }

    #[test]
    fn bad_client_secret_names_the_config_keys() {
        let err = classify(
            400,
            &body(1, None, "Error validating client secret."),
            "refresh",
        );
        assert_eq!(err.kind(), TokenErrorKind::Transient, "{err:?}");
        let msg = err.message();
        assert!(msg.contains("platforms.instagram.client_secret"), "{msg}");
    }
}
