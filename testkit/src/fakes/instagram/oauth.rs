//! Facebook Login, as the fake serves it: the login dialog (auto-approving), the token
//! endpoint (`oauth/access_token`: code exchange and `fb_exchange_token`) and
//! `me/accounts` (the Page token and its Instagram account).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use url::Url;

use super::errors;
use super::graph::{params, request_token, Params};
use super::state::{new_id, Account, Inner, Shared};
use crate::fakes::oauth::{CodeRefusal, OAuthRules, Refusal, Shape};

/// Facebook Login's tokens (Page tokens `EAAP…` publish; user tokens `EAAU…` stand
/// for refresh tokens; codes `AQ…`) and rules: `fb_exchange_token` replaces the user
/// token; an expired user token is refused too; a code waits until it is used.
pub(crate) const RULES: OAuthRules = OAuthRules {
    access: Shape::new("EAAP", 16),
    refresh: Shape::new("EAAU", 16),
    code: Shape::new("AQ", 16),
    rotate: true,
    expiry_covers_refresh: true,
    code_lifetime: None,
};

/// Seconds a long-lived user token lasts (60 days).
pub(crate) const LONG_LIVED_SECS: i64 = 60 * 24 * 3600;
/// Seconds a short-lived user token (from a code) lasts.
pub(crate) const SHORT_LIVED_SECS: i64 = 3600;
/// Permissions the dialog insists on.
const REQUIRED_SCOPES: &[&str] = &["instagram_basic", "instagram_content_publish"];

/// Registers a Page token that publishes as `account_name`.
pub(crate) fn issue_page_token(inner: &mut Inner, account_name: &str) -> String {
    let user_id = inner.user_id(account_name);
    inner.oauth.issue_access(Account {
        name: account_name.to_string(),
        user_id,
    })
}

fn bad_request(code: i64, subcode: Option<i64>, message: &str) -> Response {
    errors::graph(StatusCode::BAD_REQUEST, code, subcode, message)
}

/// Graph's answer for a `client_id` that is not the app's.
fn invalid_app() -> Response {
    bad_request(
        101,
        None,
        "Error validating application. Invalid application ID.",
    )
}

/// Graph's answer for a refused user token.
fn refused(inner: &Inner, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Revoked => bad_request(
            190,
            Some(458),
            &format!(
                "Error validating access token: The user has not authorized application {}.",
                inner.oauth.client_id()
            ),
        ),
        Refusal::Expired => errors::expired_token(),
        Refusal::Unknown => errors::invalid_token(),
    }
}

/// The account of a live user token, or Graph's answer for a bad one.
fn user_account(inner: &Inner, token: &str) -> Result<String, Response> {
    inner
        .oauth
        .grant(token)
        .cloned()
        .map_err(|refusal| refused(inner, refusal))
}

/// `GET /dialog/oauth`: checks the request and approves at once with a `302` to
/// `redirect_uri?code=<code>&state=<state>`, connecting a new account.
pub(crate) async fn dialog(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match params(query, &HeaderMap::new(), Body::empty()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    if !inner.oauth.is_client_id(params.get("client_id")) {
        return invalid_app();
    }
    if params.get("response_type") != Some("code") {
        return errors::invalid_param("response_type must be code");
    }
    let Some(redirect) = params
        .get("redirect_uri")
        .and_then(|r| Url::parse(r).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return errors::invalid_param("redirect_uri must be an absolute http(s) URL");
    };
    let scopes: Vec<&str> = params
        .get("scope")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .collect();
    if let Some(missing) = REQUIRED_SCOPES.iter().find(|s| !scopes.contains(s)) {
        return errors::invalid_param(&format!("scope must include {missing}"));
    }
    let Some(state) = params.get("state").filter(|s| !s.is_empty()) else {
        return errors::invalid_param("state is required");
    };
    inner.dialog_accounts += 1;
    let account = format!("connected_{}", inner.dialog_accounts);
    let code = inner.oauth.issue_code(account, redirect.as_str());
    let mut location = redirect;
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.as_str().to_string())],
    )
        .into_response()
}

/// `GET|POST /oauth/access_token`: the code exchange (`client_id`, `client_secret`,
/// `redirect_uri`, `code`) and `grant_type=fb_exchange_token` (`fb_exchange_token`).
pub(crate) async fn access_token(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    if !inner.oauth.is_client_id(params.get("client_id")) {
        return invalid_app();
    }
    if !inner.oauth.is_client_secret(params.get("client_secret")) {
        // Graph answers this with code 1 and no `is_transient`.
        let body = json!({"error": {
            "message": "Error validating client secret.",
            "type": "OAuthException",
            "code": 1,
            "fbtrace_id": format!("A{:016x}", rand::random::<u64>()),
        }});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    match params.get("grant_type") {
        Some("fb_exchange_token") => exchange_token(&mut inner, &params),
        None | Some("authorization_code") => exchange_code(&mut inner, &params),
        Some(_) => errors::invalid_param("Unsupported grant_type"),
    }
}

fn token_answer(token: &str, expires_in: i64) -> Response {
    Json(json!({"access_token": token, "token_type": "bearer", "expires_in": expires_in}))
        .into_response()
}

/// A new long-lived user token for a live one; the old one stops working.
fn exchange_token(inner: &mut Inner, params: &Params) -> Response {
    inner.oauth.count_refresh();
    let Some(old) = params.get("fb_exchange_token") else {
        return errors::invalid_param("Missing parameter fb_exchange_token");
    };
    match inner.oauth.redeem(old, |_| true) {
        Ok((_, token)) => token_answer(&token, LONG_LIVED_SECS),
        Err(refusal) => refused(inner, refusal),
    }
}

/// A short-lived user token for a single-use code bound to its `redirect_uri`.
fn exchange_code(inner: &mut Inner, params: &Params) -> Response {
    let Some(code) = params.get("code") else {
        return errors::invalid_param("Missing parameter code");
    };
    match inner.oauth.redeem_code(code, params.get("redirect_uri")) {
        Ok(account) => token_answer(&inner.oauth.issue_refresh(account), SHORT_LIVED_SECS),
        Err(CodeRefusal::Invalid) => bad_request(
            100,
            Some(36009),
            "This authorization code has been used or is invalid.",
        ),
        Err(CodeRefusal::RedirectMismatch) => bad_request(
            100,
            Some(36008),
            "Error validating verification code. Please make sure your redirect_uri is \
             identical to the one you used in the OAuth dialog request",
        ),
    }
}

/// `GET /me/accounts?fields=access_token,instagram_business_account{id,username}`
/// with a user token: the account's Page, a fresh Page token, and its Instagram account.
pub(crate) async fn accounts(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let token = match request_token(&headers, &params) {
        Ok(token) => token,
        Err(r) => return r,
    };
    let fields = params.get("fields").unwrap_or_default();
    if !fields.contains("access_token") || !fields.contains("instagram_business_account") {
        return errors::invalid_param(
            "fields must name access_token and instagram_business_account",
        );
    }
    let mut inner = shared.lock();
    let account = match user_account(&inner, token) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page_token = issue_page_token(&mut inner, &account);
    let ig_id = inner.user_id(&account);
    Json(json!({"data": [{
        "id": new_id("1000"),
        "name": format!("{account} Page"),
        "access_token": page_token,
        "instagram_business_account": {"id": ig_id, "username": account},
    }]}))
    .into_response()
}
