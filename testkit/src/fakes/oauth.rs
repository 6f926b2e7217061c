//! The OAuth state every strict fake keeps, in one type: access tokens and the account
//! each belongs to, refresh grants, single-use authorization codes, the app's client
//! credentials, the expired and revoked sets, and the count of refresh requests.
//!
//! What differs between platforms is data ([`OAuthRules`]: token shapes, whether a
//! refresh rotates its token, whether "expired" covers refresh tokens too, how long a
//! code lives) and the types a fake stores: its account (`A`), what a refresh token
//! grants (`G`) and what a code carries besides its redirect URI (`C`). Each fake keeps
//! its own routes and error bodies, and maps a [`Refusal`] or [`CodeRefusal`] to them.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};

/// How one kind of token looks: `prefix` then `bytes` random bytes in lowercase hex.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// What every such token starts with (may be empty).
    pub(crate) prefix: &'static str,
    /// Random bytes after it (twice as many hex digits).
    pub(crate) bytes: usize,
}

impl Shape {
    /// Tokens of `prefix` then `bytes` random bytes in hex.
    pub(crate) const fn new(prefix: &'static str, bytes: usize) -> Self {
        Self { prefix, bytes }
    }

    /// A fresh token of this shape.
    pub(crate) fn mint(self) -> String {
        format!("{}{}", self.prefix, random_hex(self.bytes))
    }
}

/// A token endpoint's form-urlencoded body, or `None` when the `Content-Type` is not
/// `application/x-www-form-urlencoded`.
pub(crate) fn form(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("application/x-www-form-urlencoded"))
        .map(|_| url::form_urlencoded::parse(body).into_owned().collect())
}

/// `n` random bytes in lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A platform's OAuth rules, as data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OAuthRules {
    /// Access tokens the fake issues.
    pub(crate) access: Shape,
    /// Refresh tokens (or what stands for them) the fake issues.
    pub(crate) refresh: Shape,
    /// Authorization codes the fake issues.
    pub(crate) code: Shape,
    /// A refresh replaces the refresh token (the old one stops working) rather than
    /// answering the same one again. Changeable with [`OAuthState::set_rotate`].
    pub(crate) rotate: bool,
    /// Tokens declared expired ([`OAuthState::expire`]) are refused as refresh tokens
    /// too, not only as access tokens.
    pub(crate) expiry_covers_refresh: bool,
    /// How long a code may wait for its exchange; `None`: until it is used.
    pub(crate) code_lifetime: Option<Duration>,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Declared expired (or an access token starting with `expired`), or a refresh
    /// grant its fake's liveness check refused.
    Expired,
    /// A refresh token [`OAuthState::revoke`]d.
    Revoked,
    /// Never issued, or no longer live.
    Unknown,
}

/// Why an authorization code exchange is refused. The code is used up either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeRefusal {
    /// Unknown, already used or past its lifetime.
    Invalid,
    /// The exchange does not repeat the `redirect_uri` the code was issued to.
    RedirectMismatch,
}

/// An authorization code waiting for its exchange.
#[derive(Debug, Clone)]
struct PendingCode<C> {
    /// What the fake keeps with it (account, scopes, PKCE challenge…).
    grant: C,
    /// The `redirect_uri` of the authorization request.
    redirect_uri: String,
    /// When it stops working, if ever.
    expires_at: Option<Instant>,
}

/// One fake's OAuth state: access tokens → account `A`, refresh tokens → grant `G`,
/// codes carrying `C`. Lives behind the fake's lock.
#[derive(Debug)]
pub(crate) struct OAuthState<A, G, C = G> {
    rules: OAuthRules,
    client_id: String,
    client_secret: String,
    tokens: HashMap<String, A>,
    expired: HashSet<String>,
    grants: HashMap<String, G>,
    revoked: HashSet<String>,
    codes: HashMap<String, PendingCode<C>>,
    refresh_calls: usize,
}

impl<A: Clone, G: Clone, C> OAuthState<A, G, C> {
    /// Empty state accepting the app `client_id` / `client_secret`.
    pub(crate) fn new(rules: OAuthRules, client_id: &str, client_secret: &str) -> Self {
        Self {
            rules,
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            tokens: HashMap::new(),
            expired: HashSet::new(),
            grants: HashMap::new(),
            revoked: HashSet::new(),
            codes: HashMap::new(),
            refresh_calls: 0,
        }
    }

    /// Replaces the app credentials the OAuth endpoints accept.
    pub(crate) fn set_client(&mut self, client_id: &str, client_secret: &str) {
        self.client_id = client_id.to_string();
        self.client_secret = client_secret.to_string();
    }

    /// The app's client id.
    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether `id` is the app's client id.
    pub(crate) fn is_client_id(&self, id: Option<&str>) -> bool {
        id == Some(self.client_id.as_str())
    }

    /// Whether `secret` is the app's client secret.
    pub(crate) fn is_client_secret(&self, secret: Option<&str>) -> bool {
        secret == Some(self.client_secret.as_str())
    }

    /// Whether `id` and `secret` are the app's credentials.
    pub(crate) fn is_client(&self, id: Option<&str>, secret: Option<&str>) -> bool {
        self.is_client_id(id) && self.is_client_secret(secret)
    }

    /// Accepts the access token `token` for `account`.
    pub(crate) fn accept(&mut self, token: &str, account: A) {
        self.tokens.insert(token.to_string(), account);
    }

    /// Issues a fresh access token for `account`.
    pub(crate) fn issue_access(&mut self, account: A) -> String {
        let token = self.rules.access.mint();
        self.accept(&token, account);
        token
    }

    /// The account of the access token `token`, as the API routes check it: a token
    /// starting with `expired` or declared expired is [`Refusal::Expired`], one never
    /// issued [`Refusal::Unknown`].
    pub(crate) fn authenticate(&self, token: &str) -> Result<A, Refusal> {
        if token.starts_with("expired") || self.expired.contains(token) {
            return Err(Refusal::Expired);
        }
        self.account(token).cloned().ok_or(Refusal::Unknown)
    }

    /// The account of the access token `token`, with no expiry check.
    pub(crate) fn account(&self, token: &str) -> Option<&A> {
        self.tokens.get(token)
    }

    /// Every account an access token or a refresh grant belongs to, as `account_of`
    /// finds it in a grant.
    pub(crate) fn accounts<'a>(
        &'a self,
        account_of: impl Fn(&'a G) -> &'a A,
    ) -> impl Iterator<Item = &'a A> {
        self.tokens
            .values()
            .chain(self.grants.values().map(account_of))
    }

    /// From now on `token` is answered as expired.
    pub(crate) fn expire(&mut self, token: &str) {
        self.expired.insert(token.to_string());
    }

    /// Issues a fresh refresh token for `grant`.
    pub(crate) fn issue_refresh(&mut self, grant: G) -> String {
        let token = self.rules.refresh.mint();
        self.grants.insert(token.clone(), grant);
        token
    }

    /// From now on the refresh token `token` is refused as [`Refusal::Revoked`].
    pub(crate) fn revoke(&mut self, token: &str) {
        self.grants.remove(token);
        self.revoked.insert(token.to_string());
    }

    /// What the live refresh token `token` grants, without using it.
    pub(crate) fn grant(&self, token: &str) -> Result<&G, Refusal> {
        if self.revoked.contains(token) {
            return Err(Refusal::Revoked);
        }
        if self.rules.expiry_covers_refresh && self.expired.contains(token) {
            return Err(Refusal::Expired);
        }
        self.grants.get(token).ok_or(Refusal::Unknown)
    }

    /// Uses the refresh token `token`: its grant, if live and `live` agrees, and the
    /// refresh token to answer (a fresh one when the rules rotate, the old one then
    /// stops working; else `token` again).
    pub(crate) fn redeem(
        &mut self,
        token: &str,
        live: impl FnOnce(&G) -> bool,
    ) -> Result<(G, String), Refusal> {
        let grant = self.grant(token)?.clone();
        if !live(&grant) {
            return Err(Refusal::Expired);
        }
        if !self.rules.rotate {
            return Ok((grant, token.to_string()));
        }
        self.grants.remove(token);
        let fresh = self.issue_refresh(grant.clone());
        Ok((grant, fresh))
    }

    /// Whether a refresh replaces the refresh token.
    pub(crate) fn set_rotate(&mut self, rotate: bool) {
        self.rules.rotate = rotate;
    }

    /// Counts a refresh request that reached the token endpoint.
    pub(crate) fn count_refresh(&mut self) {
        self.refresh_calls += 1;
    }

    /// Refresh requests counted so far.
    pub(crate) fn refresh_calls(&self) -> usize {
        self.refresh_calls
    }

    /// Issues a fresh single-use code carrying `grant`, bound to `redirect_uri`.
    pub(crate) fn issue_code(&mut self, grant: C, redirect_uri: &str) -> String {
        let code = self.rules.code.mint();
        let pending = PendingCode {
            grant,
            redirect_uri: redirect_uri.to_string(),
            expires_at: self.rules.code_lifetime.map(|d| Instant::now() + d),
        };
        self.codes.insert(code.clone(), pending);
        code
    }

    /// Exchanges `code`, which works once whatever the outcome: what it carries, if it
    /// is known, within its lifetime and `redirect_uri` repeats the one it was issued to.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<C, CodeRefusal> {
        let pending = self.codes.remove(code).ok_or(CodeRefusal::Invalid)?;
        if pending.expires_at.is_some_and(|at| at <= Instant::now()) {
            return Err(CodeRefusal::Invalid);
        }
        if redirect_uri != Some(pending.redirect_uri.as_str()) {
            return Err(CodeRefusal::RedirectMismatch);
        }
        Ok(pending.grant)
    }
}
