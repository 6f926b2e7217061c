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
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;
use url::Url;

use super::state::{AuthCode, Member, RefreshGrant, Shared};
use crate::fakes::oauth::{self, CodeRefusal, OAuthRules, Shape};

/// LinkedIn's tokens (`AQV…` access, `AQX…` refresh, `AQT…` codes) and rules: a
/// refresh answers the same refresh token unless a test turns rotation on; "expired"
/// concerns access tokens only; a code lives 30 minutes.
pub(crate) const RULES: OAuthRules = OAuthRules {
    access: Shape::new("AQV", 16),
    refresh: Shape::new("AQX", 16),
    code: Shape::new("AQT", 16),
    rotate: false,
    expiry_covers_refresh: false,
    code_lifetime: Some(CODE_LIFETIME),
};

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

/// A bad code or refresh token: LinkedIn does not say which.
fn invalid_grant() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "The provided authorization grant or refresh token is invalid, expired or revoked",
    )
}

/// `GET /oauth/v2/authorization`: auto-approves and redirects with a code.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    if !shared.lock().oauth.is_client_id(Some(get("client_id"))) {
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
    let code = {
        let mut inner = shared.lock();
        inner.authorized_members += 1;
        let name = super::FakeLinkedIn::authorized_member_name(inner.authorized_members);
        let code = AuthCode {
            member: Member::named(&name),
            scope: scopes.join(" "),
        };
        inner.oauth.issue_code(code, redirect.as_str())
    };
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
    let Some(form) = oauth::form(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    };
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type == "refresh_token" {
        shared.lock().oauth.count_refresh();
    }
    for key in ["grant_type", "client_id", "client_secret"] {
        if form.get(key).is_none_or(|v| v.is_empty()) {
            return missing(key);
        }
    }
    let field = |key: &str| form.get(key).map(String::as_str);
    if !shared
        .lock()
        .oauth
        .is_client(field("client_id"), field("client_secret"))
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
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
    let field = |key: &str| form.get(key).map(String::as_str);
    let code = match inner
        .oauth
        .redeem_code(field("code").unwrap_or(""), field("redirect_uri"))
    {
        Ok(code) => code,
        Err(CodeRefusal::Invalid) => return invalid_grant(),
        Err(CodeRefusal::RedirectMismatch) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Unable to retrieve access token: appid/redirect uri/code verifier does not \
                 match authorization code. Or authorization code expired.",
            )
        }
    };
    let access = inner.oauth.issue_access(code.member.clone());
    let refresh = inner.oauth.issue_refresh(RefreshGrant {
        member: code.member,
        scope: code.scope.clone(),
        expires_at: Utc::now() + chrono::Duration::seconds(REFRESH_TOKEN_SECS),
    });
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
    let Ok((grant, refresh)) = inner.oauth.redeem(token, |grant| grant.expires_at > now) else {
        return invalid_grant();
    };
    let access = inner.oauth.issue_access(grant.member.clone());
    Json(json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECS,
        "refresh_token": refresh,
        "refresh_token_expires_in": (grant.expires_at - now).num_seconds().max(0),
        "scope": grant.scope,
    }))
    .into_response()
}
