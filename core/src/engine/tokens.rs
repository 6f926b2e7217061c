//! Keeping tokens fresh: refresh shortly before expiry and once after a refusal, one
//! refresh per connection at a time (single flight), new tokens written back at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::future::{BoxFuture, FutureExt, Shared};

use crate::accounts::{AccountDirectory, Connection};
use crate::error::PublishError;
use crate::publisher::Publisher;
use crate::tokens::{TokenError, TokenErrorKind};

/// The attribute a definitively refused refresh sets on a connection: it stays
/// unusable until the account is reconnected.
pub const NEEDS_RECONNECT: &str = "needs_reconnect";

/// Which stored connection a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ConnectionKey {
    pub account: String,
    pub profile: String,
    pub platform: String,
}

type Refresh = Shared<BoxFuture<'static, Result<Connection, TokenError>>>;

/// Refreshes tokens for the engine.
pub(crate) struct TokenKeeper {
    directory: Arc<dyn AccountDirectory>,
    margin: Duration,
    inflight: Mutex<HashMap<ConnectionKey, Refresh>>,
}

impl TokenKeeper {
    pub(crate) fn new(directory: Arc<dyn AccountDirectory>, margin: Duration) -> Self {
        Self {
            directory,
            margin,
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// A connection fit to publish with: refreshed first when its access token
    /// expires within the margin and the publisher can refresh.
    pub(crate) async fn before_publish(
        &self,
        key: &ConnectionKey,
        publisher: &Arc<dyn Publisher>,
        connection: Connection,
    ) -> Result<Connection, PublishError> {
        if connection.attribute(NEEDS_RECONNECT) == Some("true") {
            return Err(PublishError::token_expired(publisher.display_name()));
        }
        let expiring = connection.expires_at.is_some_and(|at| {
            let margin =
                chrono::Duration::from_std(self.margin).unwrap_or(chrono::Duration::zero());
            at - margin <= Utc::now()
        });
        if !expiring || !can_refresh(publisher, &connection) {
            return Ok(connection);
        }
        match self.refresh(key, publisher, &connection).await {
            Ok(fresh) => Ok(fresh),
            // Without client credentials the current token may still work: try it.
            Err(err) if err.kind() == TokenErrorKind::Unsupported => Ok(connection),
            Err(err) => Err(self
                .to_publish_error(key, publisher, &connection, err)
                .await),
        }
    }

    /// After the platform refused `stale`'s access token: one refresh, or the error to
    /// report. `None` when this publisher cannot refresh.
    pub(crate) async fn after_refusal(
        &self,
        key: &ConnectionKey,
        publisher: &Arc<dyn Publisher>,
        stale: &Connection,
    ) -> Option<Result<Connection, PublishError>> {
        if !can_refresh(publisher, stale) {
            return None;
        }
        Some(match self.refresh(key, publisher, stale).await {
            Ok(fresh) => Ok(fresh),
            Err(err) if err.kind() == TokenErrorKind::Unsupported => {
                Err(PublishError::token_expired(publisher.display_name()))
            }
            Err(err) => Err(self.to_publish_error(key, publisher, stale, err).await),
        })
    }

    /// One refresh per connection at a time: concurrent callers share its outcome.
    async fn refresh(
        &self,
        key: &ConnectionKey,
        publisher: &Arc<dyn Publisher>,
        stale: &Connection,
    ) -> Result<Connection, TokenError> {
        let shared = {
            let mut inflight = self
                .inflight
                .lock()
                .map_err(|_| TokenError::transient("the token refresher is unavailable"))?;
            inflight
                .entry(key.clone())
                .or_insert_with(|| {
                    refresh_once(
                        Arc::clone(&self.directory),
                        key.clone(),
                        Arc::clone(publisher),
                        stale.clone(),
                        self.margin,
                    )
                    .boxed()
                    .shared()
                })
                .clone()
        };
        let outcome = shared.clone().await;
        if let Ok(mut inflight) = self.inflight.lock() {
            if inflight.get(key).is_some_and(|f| f.ptr_eq(&shared)) {
                inflight.remove(key);
            }
        }
        outcome
    }

    async fn to_publish_error(
        &self,
        key: &ConnectionKey,
        publisher: &Arc<dyn Publisher>,
        connection: &Connection,
        err: TokenError,
    ) -> PublishError {
        let name = publisher.display_name();
        let reason = err.message();
        match err.kind() {
            TokenErrorKind::Refused => {
                tracing::warn!(platform = publisher.id(), %reason, "refresh refused: the account must be reconnected");
                let marked = connection.clone().with_attribute(NEEDS_RECONNECT, "true");
                if let Err(err) = self
                    .directory
                    .save_connection(&key.account, &key.profile, &key.platform, marked)
                    .await
                {
                    tracing::error!(%err, "could not mark a connection as needing reconnection");
                }
                PublishError::token_expired(name)
            }
            TokenErrorKind::Transient => PublishError::transient(format!(
                "Could not refresh the {name} access token ({reason}); every token was kept. \
                 Try again in a few minutes."
            )),
            TokenErrorKind::Unsupported => PublishError::rejected(reason),
        }
    }
}

fn can_refresh(publisher: &Arc<dyn Publisher>, connection: &Connection) -> bool {
    publisher.tokens().is_some() && connection.refresh_token.is_some()
}

/// Reads the store first (another request or instance may have refreshed already),
/// then refreshes and writes the new tokens back before anyone uses them.
async fn refresh_once(
    directory: Arc<dyn AccountDirectory>,
    key: ConnectionKey,
    publisher: Arc<dyn Publisher>,
    stale: Connection,
    margin: Duration,
) -> Result<Connection, TokenError> {
    // Other instances on the same store wait here while one refreshes.
    let _lock = directory
        .lock_connection(&key.account, &key.profile, &key.platform)
        .await
        .map_err(|e| {
            TokenError::transient(format!("could not lock the connection: {e}")).with_source(e)
        })?;
    if let Some(stored) = stored_connection(directory.as_ref(), &key).await {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::zero());
        let newer = stored.access_token() != stale.access_token();
        let usable = stored.expires_at.is_none_or(|at| at - margin > Utc::now());
        if newer && usable && stored.attribute(NEEDS_RECONNECT).is_none() {
            return Ok(stored);
        }
    }
    let provider = publisher.tokens().ok_or_else(|| {
        TokenError::unsupported(format!(
            "{} cannot refresh tokens",
            publisher.display_name()
        ))
    })?;
    let fresh = provider.refresh(&stale).await?;
    let mut last_error = None;
    for _ in 0..3 {
        match directory
            .save_connection(&key.account, &key.profile, &key.platform, fresh.clone())
            .await
        {
            Ok(()) => return Ok(fresh),
            Err(err) => last_error = Some(err),
        }
    }
    let reason = last_error
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default();
    tracing::error!(platform = publisher.id(), err = %reason, "refreshed tokens could not be saved");
    let err = TokenError::transient(format!("the new tokens could not be saved: {reason}"));
    Err(match last_error {
        Some(source) => err.with_source(source),
        None => err,
    })
}

async fn stored_connection(
    directory: &dyn AccountDirectory,
    key: &ConnectionKey,
) -> Option<Connection> {
    let account = directory.find_by_name(&key.account).await.ok()??;
    account
        .profiles
        .get(&key.profile)?
        .connections
        .get(&key.platform)
        .cloned()
}
