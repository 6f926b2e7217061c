//! LinkedIn's OAuth 2.0 endpoints (served on `www.linkedin.com` by LinkedIn, on the
//! fake's one host here):
//!
//! - `GET /oauth/v2/authorization` approves at once: it checks `response_type=code`,
//!   the app's `client_id`, an absolute `redirect_uri` without a fragment, a non-empty
//!   `state` and known scopes, connects a new member and answers `302` to
//!   `redirect_uri?code=<code>&state=<state>` (an unknown scope redirects with
//!   `error=invalid_scope` instead, a bad client or redirect URI answers 400).
//! - `POST /oauth/v2/accessToken` (form-urlencoded) with `grant_type`
//!   `authorization_code` (`code`, `redirect_uri`, `client_id`, `client_secret`; the
//!   code works once, for the redirect URI it was issued to, for 30 minutes) or
//!   `refresh_token` (`refresh_token`, `client_id`, `client_secret`). Answers
//!   `{"access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
//!   "scope"}`; the refresh token keeps the lifetime of the original consent (a year),
//!   and is the same one after a refresh unless a test turns rotation on. Errors are
//!   `{"error", "error_description"}`: 400 `invalid_request` / `invalid_grant` /
//!   `unsupported_grant_type`, 401 `invalid_client`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;
use url::Url;

use super::state::{person_id, AuthCode, Member, RefreshGrant, Shared};

/// Access tokens live 60 days.
pub(crate) const ACCESS_TOKEN_SECS: i64 = 60 * 24 * 3600;
/// Refresh tokens live 365 days from the original consent.
pub(crate) const REFRESH_TOKEN_SECS: i64 = 365 * 24 * 3600;
/// Authorization codes live 30 minutes.
const CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The scopes the fake knows.
const KNOWN_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "w_member_social",
    "r_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
    "r_basicprofile",
    "r_liteprofile",
    "r_emailaddress",
];

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// A new opaque token with LinkedIn's look (`AQ…`).
fn new_token(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// `GET /oauth/v2/authorization`: auto-approves and redirects with a code.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    let client_id = shared.lock().client_id.clone();
    if get("client_id") != client_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "The passed in client_id is invalid",
        );
    }
    let redirect = match Url::parse(get("redirect_uri")) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.fragment().is_none()
                && url.host().is_some() =>
        {
            url
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The redirect_uri does not match the registered value",
            )
        }
    };
    let state = get("state");
    let fail = |error: &str, description: &str| {
        let mut to = redirect.clone();
        to.query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", description);
        if !state.is_empty() {
            to.query_pairs_mut().append_pair("state", state);
        }
        redirect_to(&to)
    };
    if get("response_type") != "code" {
        return fail(
            "unsupported_response_type",
            "response_type must be \"code\"",
        );
    }
    if state.is_empty() {
        return fail(
            "invalid_request",
            "A required parameter \"state\" is missing",
        );
    }
    let scopes: Vec<&str> = get("scope").split(' ').filter(|s| !s.is_empty()).collect();
    if scopes.is_empty() {
        return fail("invalid_scope", "A required parameter \"scope\" is missing");
    }
    if let Some(bad) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(s)) {
        return fail(
            "invalid_scope",
            &format!("Scope \"{bad}\" is not authorized for your application"),
        );
    }
    let code = new_token("AQT");
    {
        let mut inner = shared.lock();
        inner.authorized_members += 1;
        let name = super::FakeLinkedIn::authorized_member_name(inner.authorized_members);
        let member = Member {
            person_id: person_id(&name),
            name,
        };
        inner.codes.insert(
            code.clone(),
            AuthCode {
                member,
                redirect_uri: redirect.as_str().to_string(),
                scope: scopes.join(" "),
                expires_at: Instant::now() + CODE_LIFETIME,
            },
        );
    }
    let mut to = redirect;
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    redirect_to(&to)
}

fn redirect_to(url: &Url) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, url.as_str().to_string())],
    )
        .into_response()
}

/// `POST /oauth/v2/accessToken`.
pub(crate) async fn access_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type == "refresh_token" {
        shared.lock().refresh_calls += 1;
    }
    for key in ["grant_type", "client_id", "client_secret"] {
        if form.get(key).is_none_or(|v| v.is_empty()) {
            return missing(key);
        }
    }
    {
        let inner = shared.lock();
        if form.get("client_id") != Some(&inner.client_id)
            || form.get("client_secret") != Some(&inner.client_secret)
        {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            );
        }
    }
    match grant_type {
        "authorization_code" => exchange_code(&shared, &form),
        "refresh_token" => refresh(&shared, &form),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant_type is not supported",
        ),
    }
}

fn missing(key: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("A required parameter \"{key}\" is missing"),
    )
}

fn exchange_code(shared: &Shared, form: &HashMap<String, String>) -> Response {
    for key in ["code", "redirect_uri"] {
        if form.get(key).is_none_or(|v| v.is_empty()) {
            return missing(key);
        }
    }
    let mut inner = shared.lock();
    // A code works once, whatever the outcome of its exchange.
    let Some(code) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The provided authorization grant or refresh token is invalid, expired or revoked",
        );
    };
    if code.expires_at <= Instant::now() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The provided authorization grant or refresh token is invalid, expired or revoked",
        );
    }
    if form.get("redirect_uri") != Some(&code.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Unable to retrieve access token: appid/redirect uri/code verifier does not \
             match authorization code. Or authorization code expired.",
        );
    }
    let access = new_token("AQV");
    let refresh = new_token("AQX");
    let expires_at = Utc::now() + chrono::Duration::seconds(REFRESH_TOKEN_SECS);
    inner.tokens.insert(access.clone(), code.member.clone());
    inner.refresh_tokens.insert(
        refresh.clone(),
        RefreshGrant {
            member: code.member,
            scope: code.scope.clone(),
            expires_at,
        },
    );
    Json(json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECS,
        "refresh_token": refresh,
        "refresh_token_expires_in": REFRESH_TOKEN_SECS,
        "scope": code.scope,
    }))
    .into_response()
}

fn refresh(shared: &Shared, form: &HashMap<String, String>) -> Response {
    let Some(token) = form.get("refresh_token").filter(|t| !t.is_empty()) else {
        return missing("refresh_token");
    };
    let mut inner = shared.lock();
    let now = Utc::now();
    let grant = match inner.refresh_tokens.get(token) {
        Some(grant) if grant.expires_at > now => grant.clone(),
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The provided authorization grant or refresh token is invalid, expired or \
                 revoked",
            )
        }
    };
    let access = new_token("AQV");
    inner.tokens.insert(access.clone(), grant.member.clone());
    let refresh = if inner.rotate_refresh_tokens {
        inner.refresh_tokens.remove(token);
        let fresh = new_token("AQX");
        inner.refresh_tokens.insert(fresh.clone(), grant.clone());
        fresh
    } else {
        token.clone()
    };
    Json(json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECS,
        "refresh_token": refresh,
        "refresh_token_expires_in": (grant.expires_at - now).num_seconds().max(0),
        "scope": grant.scope,
    }))
    .into_response()
}
