//! TikTok's OAuth routes: the authorization page (auto-approving), the token endpoint
//! (authorization code and refresh token grants, rotating refresh tokens) and the
//! user info a connection reads its display name from.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::api::authenticate;
use super::errors;
use super::state::{random_hex, Account, Grant, Inner, PendingCode, Shared};
use crate::fakes::oauth::{self, CodeRefusal, OAuthRules, Shape};

/// TikTok's tokens (`act.…`, `rft.…`) and rules: a refresh rotates the refresh token;
/// "expired" concerns access tokens only; a code waits until it is used.
pub(crate) const RULES: OAuthRules = OAuthRules {
    access: Shape::new("act.", 24),
    refresh: Shape::new("rft.", 24),
    code: Shape::new("", 20),
    rotate: true,
    expiry_covers_refresh: false,
    code_lifetime: None,
};

/// Scopes TikTok knows (the fake refuses others).
const KNOWN_SCOPES: &[&str] = &[
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
];

/// `expires_in` of a refresh token, in seconds (365 days).
const REFRESH_LIFETIME_SECS: u64 = 31_536_000;

/// An OAuth error in TikTok's shape: `{"error", "error_description", "log_id"}`.
fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let log_id = format!("2024{:020}", rand::random::<u64>());
    (
        status,
        Json(json!({ "error": code, "error_description": description, "log_id": log_id })),
    )
        .into_response()
}

/// A refused authorization request: TikTok shows an error page; the fake answers 400
/// with the reason (there is no valid redirect to send it to).
fn authorize_error(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Issues a fresh access token for `grant` and answers with it and `refresh`.
fn issue(inner: &mut Inner, grant: Grant, refresh: String) -> Response {
    let access = inner.oauth.issue_access(grant.account.clone());
    let expires_in = inner.access_token_lifetime_secs;
    Json(json!({
        "access_token": access,
        "expires_in": expires_in,
        "open_id": grant.account.open_id,
        "refresh_expires_in": REFRESH_LIFETIME_SECS,
        "refresh_token": refresh,
        "scope": grant.scope,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Base64url without padding (RFC 7636's S256 challenge encoding).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// `GET /v2/auth/authorize/`: validates the request and approves it at once, answering
/// `302` to `redirect_uri?code=…&scopes=…&state=…` for a new fake account.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    if !shared.lock().oauth.is_client_id(Some(get("client_key"))) {
        return authorize_error("client_key is missing or unknown.");
    }
    if get("response_type") != "code" {
        return authorize_error("response_type must be code.");
    }
    let Ok(mut redirect) = Url::parse(get("redirect_uri")) else {
        return authorize_error("redirect_uri must be an absolute URL.");
    };
    if redirect.fragment().is_some() || redirect.query().is_some() {
        return authorize_error("redirect_uri must not carry a query or a fragment.");
    }
    let scope = get("scope");
    if scope.is_empty() || scope.split(',').any(|s| !KNOWN_SCOPES.contains(&s.trim())) {
        return authorize_error("scope is missing or names an unknown scope.");
    }
    let state = get("state");
    if state.is_empty() {
        return authorize_error("state is missing.");
    }
    let code_challenge = match (query.get("code_challenge"), get("code_challenge_method")) {
        (None, "") => None,
        (Some(challenge), "S256") if !challenge.is_empty() => Some(challenge.clone()),
        _ => return authorize_error("code_challenge needs code_challenge_method=S256."),
    };
    let account = Account {
        name: format!("creator_{}", random_hex(4)),
        open_id: format!("-000{}", random_hex(12)),
    };
    let pending = PendingCode {
        grant: Grant {
            account,
            scope: scope.to_string(),
        },
        code_challenge,
    };
    let code = shared.lock().oauth.issue_code(pending, redirect.as_str());
    redirect
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("scopes", scope)
        .append_pair("state", state);
    (
        StatusCode::FOUND,
        [(header::LOCATION, redirect.to_string())],
    )
        .into_response()
}

/// `POST /v2/oauth/token/` (form-urlencoded): `grant_type=authorization_code` or
/// `refresh_token`, with the app's `client_key` and `client_secret`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(form) = oauth::form(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded.",
        );
    };
    let get = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let grant_type = get("grant_type");
    if grant_type == "refresh_token" {
        shared.lock().oauth.count_refresh();
    }
    let (key, secret) = (get("client_key"), get("client_secret"));
    if !shared.lock().oauth.is_client(Some(key), Some(secret)) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client key or secret is invalid.",
        );
    }
    match grant_type {
        "refresh_token" => {
            let mut inner = shared.lock();
            match inner.oauth.redeem(get("refresh_token"), |_| true) {
                Ok((grant, refresh)) => issue(&mut inner, grant, refresh),
                // TikTok answers this one with HTTP 200.
                Err(_) => oauth_error(
                    StatusCode::OK,
                    "invalid_grant",
                    "Refresh token is invalid or expired.",
                ),
            }
        }
        "authorization_code" => {
            // A code works once, whatever the outcome.
            let redeemed = shared
                .lock()
                .oauth
                .redeem_code(get("code"), Some(get("redirect_uri")));
            let pending = match redeemed {
                Ok(pending) => pending,
                Err(CodeRefusal::Invalid) => {
                    return oauth_error(
                        StatusCode::OK,
                        "invalid_grant",
                        "Authorization code is expired or was already used.",
                    )
                }
                Err(CodeRefusal::RedirectMismatch) => {
                    return oauth_error(
                        StatusCode::OK,
                        "invalid_grant",
                        "redirect_uri does not match the authorization request.",
                    )
                }
            };
            if let Some(challenge) = &pending.code_challenge {
                let verifier = get("code_verifier");
                if base64url(&Sha256::digest(verifier.as_bytes())) != *challenge {
                    return oauth_error(
                        StatusCode::OK,
                        "invalid_grant",
                        "Code verifier or code challenge is invalid.",
                    );
                }
            }
            let mut inner = shared.lock();
            let refresh = inner.oauth.issue_refresh(pending.grant.clone());
            issue(&mut inner, pending.grant, refresh)
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        ),
    }
}

/// `GET /v2/user/info/?fields=…`: the token's user (`open_id`, `display_name`, …).
pub(crate) async fn user_info(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let account = match authenticate(&shared, &headers) {
        Ok(account) => account,
        Err(r) => return r,
    };
    let Some(fields) = query.get("fields").filter(|f| !f.is_empty()) else {
        return errors::invalid_params("fields is required.");
    };
    let mut user = serde_json::Map::new();
    for field in fields.split(',') {
        let value = match field {
            "open_id" => json!(account.open_id),
            "union_id" => json!(format!("union{}", account.open_id)),
            "display_name" => json!(account.name),
            "avatar_url" => json!(format!(
                "https://p16.tiktokcdn.test/{}.jpeg",
                account.open_id
            )),
            _ => return errors::invalid_params("fields names an unknown field."),
        };
        user.insert(field.to_string(), value);
    }
    errors::ok(json!({ "user": Value::Object(user) }))
}

#[cfg(test)]
mod tests {
    use super::base64url;
    use sha2::{Digest, Sha256};

    #[test]
    fn s256_matches_rfc_7636() {
        assert_eq!(
            base64url(&Sha256::digest(
                b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            )),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
    }
}
