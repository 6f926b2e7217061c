//! [`AccountDirectory`] on PostgreSQL: the accounts, profiles and connections tables.
//!
//! An account is read in one `REPEATABLE READ` read-only transaction, so its profiles
//! and connections are one consistent snapshot. Writes lock the account's row first
//! (`upsert` by writing it, `save_connection` with `FOR UPDATE`), so writers of one
//! account, on any instance, take turns.

use std::collections::BTreeMap;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    Account, AccountDirectory, ApiKeyHash, Connection as SocialConnection, ConnectionLock, Plan,
    Profile, StoreError,
};
use tokio_postgres::IsolationLevel;

use crate::codec::{count_from_sql, count_to_sql, opt_time_from_text, time_to_text};
use crate::errors::{corrupt, failed};
use crate::store::{column, execute, query, query_opt, PostgresStore};

#[async_trait]
impl AccountDirectory for PostgresStore {
    async fn ready(&self) -> Result<(), StoreError> {
        self.check_ready().await
    }

    /// A session advisory lock on a connection detached from the pool, released when
    /// the lock is dropped (see the `locks` module); waits at most
    /// [`crate::PostgresOptions::lock_timeout`], then fails as unavailable.
    async fn lock_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
    ) -> Result<ConnectionLock, StoreError> {
        crate::locks::lock_connection(self, account, profile, platform).await
    }

    async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError> {
        let what = "look up an account by API key";
        let mut client = self.client(what).await?;
        let tx = read_tx(&mut client, what).await?;
        let row = query_opt(
            &tx,
            "SELECT name, api_key_hash FROM accounts WHERE api_key_hash = $1",
            &[&hash.to_hex()],
            what,
        )
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let name: String = column(&row, 0, "account name")?;
        let stored: String = column(&row, 1, "API key hash")?;
        // The index found it; confirm in constant time.
        let stored = ApiKeyHash::from_hex(&stored)
            .ok_or_else(|| corrupt(format_args!("API key hash of account {name}")))?;
        if !stored.ct_matches(hash) {
            return Ok(None);
        }
        let account = load_account(&tx, &name).await?;
        tx.commit().await.map_err(|e| failed(what, e))?;
        Ok(account)
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let what = format!("read account {name}");
        let mut client = self.client(&what).await?;
        let tx = read_tx(&mut client, &what).await?;
        let account = load_account(&tx, name).await?;
        tx.commit().await.map_err(|e| failed(&what, e))?;
        Ok(account)
    }

    async fn upsert(&self, account: Account) -> Result<(), StoreError> {
        let what = format!("store account {}", account.name);
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        write_account(&tx, &account, &what).await?;
        tx.commit().await.map_err(|e| failed(&what, e))
    }

    async fn remove(&self, name: &str) -> Result<bool, StoreError> {
        let what = format!("remove account {name}");
        let client = self.client(&what).await?;
        // Profiles and connections go with it (ON DELETE CASCADE). Usage counters stay,
        // so re-creating an account does not reset its limits.
        let removed = execute(
            &client,
            "DELETE FROM accounts WHERE name = $1",
            &[&name],
            &what,
        )
        .await?;
        Ok(removed > 0)
    }

    async fn save_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
        connection: SocialConnection,
    ) -> Result<(), StoreError> {
        let what = format!("save the {platform} connection of {account}/{profile}");
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        let exists = query_opt(
            &tx,
            "SELECT 1 FROM accounts WHERE name = $1 FOR UPDATE",
            &[&account],
            &what,
        )
        .await?
        .is_some();
        if !exists {
            return Err(StoreError::not_found(format!(
                "could not save the {platform} connection: no account named {account} — \
                 create the account first"
            )));
        }
        execute(
            &tx,
            "INSERT INTO profiles (account, username) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&account, &profile],
            &what,
        )
        .await?;
        write_connection(&tx, account, profile, platform, &connection, &what).await?;
        tx.commit().await.map_err(|e| failed(&what, e))
    }
}

/// A read-only snapshot for the several reads of an account.
async fn read_tx<'c>(
    client: &'c mut deadpool_postgres::Object,
    what: &str,
) -> Result<Transaction<'c>, StoreError> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| failed(what, e))
}

async fn write_account(
    tx: &Transaction<'_>,
    account: &Account,
    what: &str,
) -> Result<(), StoreError> {
    let monthly = count_to_sql(account.plan.monthly_uploads, "a monthly limit of")?;
    let daily = account
        .plan
        .daily_uploads_per_account
        .map(|d| count_to_sql(d, "a daily limit of"))
        .transpose()?;
    execute(
        tx,
        "INSERT INTO accounts
             (name, api_key_hash, api_key_expires_at, monthly_uploads, daily_uploads_per_account)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET
             api_key_hash = excluded.api_key_hash,
             api_key_expires_at = excluded.api_key_expires_at,
             monthly_uploads = excluded.monthly_uploads,
             daily_uploads_per_account = excluded.daily_uploads_per_account",
        &[
            &account.name,
            &account.api_key_hash.map(|h| h.to_hex()),
            &account.api_key_expires_at.as_ref().map(time_to_text),
            &monthly,
            &daily,
        ],
        what,
    )
    .await?;
    // Replace the profiles whole: the cascade removes their connections.
    execute(
        tx,
        "DELETE FROM profiles WHERE account = $1",
        &[&account.name],
        what,
    )
    .await?;
    for (username, profile) in &account.profiles {
        execute(
            tx,
            "INSERT INTO profiles (account, username) VALUES ($1, $2)",
            &[&account.name, username],
            what,
        )
        .await?;
        for (platform, connection) in &profile.connections {
            write_connection(tx, &account.name, username, platform, connection, what).await?;
        }
    }
    Ok(())
}

async fn write_connection(
    tx: &Transaction<'_>,
    account: &str,
    profile: &str,
    platform: &str,
    c: &SocialConnection,
    what: &str,
) -> Result<(), StoreError> {
    // A BTreeMap<String, String> always serialises; fall back to `{}` regardless.
    let attributes = serde_json::to_string(&c.attributes).unwrap_or_else(|_| "{}".into());
    execute(
        tx,
        "INSERT INTO connections
             (account, profile, platform, account_name, access_token, refresh_token,
              expires_at, attributes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::TEXT::JSONB)
         ON CONFLICT (account, profile, platform) DO UPDATE SET
             account_name = excluded.account_name,
             access_token = excluded.access_token,
             refresh_token = excluded.refresh_token,
             expires_at = excluded.expires_at,
             attributes = excluded.attributes",
        &[
            &account,
            &profile,
            &platform,
            &c.account_name,
            &c.access_token.expose_secret(),
            &c.refresh_token.as_ref().map(|t| t.expose_secret()),
            &c.expires_at.as_ref().map(time_to_text),
            &attributes,
        ],
        what,
    )
    .await?;
    Ok(())
}

/// Reads one account with its profiles and connections.
async fn load_account(tx: &impl GenericClient, name: &str) -> Result<Option<Account>, StoreError> {
    let what = format!("read account {name}");
    let row = query_opt(
        tx,
        "SELECT api_key_hash, api_key_expires_at, monthly_uploads, daily_uploads_per_account
         FROM accounts WHERE name = $1",
        &[&name],
        &what,
    )
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let hash: Option<String> = column(&row, 0, &what)?;
    let expires: Option<String> = column(&row, 1, &what)?;
    let monthly: i64 = column(&row, 2, &what)?;
    let daily: Option<i64> = column(&row, 3, &what)?;
    let api_key_hash = hash
        .map(|h| {
            ApiKeyHash::from_hex(&h)
                .ok_or_else(|| corrupt(format_args!("API key hash of account {name}")))
        })
        .transpose()?;
    let plan = Plan {
        monthly_uploads: count_from_sql(monthly, &format!("monthly limit of account {name}"))?,
        daily_uploads_per_account: daily
            .map(|d| count_from_sql(d, &format!("daily limit of account {name}")))
            .transpose()?,
    };
    let mut profiles = BTreeMap::new();
    for row in query(
        tx,
        "SELECT username FROM profiles WHERE account = $1",
        &[&name],
        &what,
    )
    .await?
    {
        let username: String = column(&row, 0, &what)?;
        profiles.insert(
            username.clone(),
            Profile {
                username,
                connections: BTreeMap::new(),
            },
        );
    }
    load_connections(tx, name, &mut profiles).await?;
    Ok(Some(Account {
        name: name.to_string(),
        api_key_hash,
        api_key_expires_at: opt_time_from_text(
            expires,
            &format!("API key expiry of account {name}"),
        )?,
        plan,
        profiles,
    }))
}

async fn load_connections(
    tx: &impl GenericClient,
    name: &str,
    profiles: &mut BTreeMap<String, Profile>,
) -> Result<(), StoreError> {
    let what = format!("read the connections of account {name}");
    let rows = query(
        tx,
        "SELECT profile, platform, account_name, access_token, refresh_token, expires_at,
                attributes::TEXT
         FROM connections WHERE account = $1",
        &[&name],
        &what,
    )
    .await?;
    for row in rows {
        let profile: String = column(&row, 0, &what)?;
        let platform: String = column(&row, 1, &what)?;
        let context = format!("{platform} connection of {name}/{profile}");
        let attributes: String = column(&row, 6, &context)?;
        let attributes: BTreeMap<String, String> = serde_json::from_str(&attributes)
            .map_err(|_| corrupt(format_args!("attributes of the {context}")))?;
        let connection = SocialConnection {
            account_name: column(&row, 2, &context)?,
            access_token: SecretString::from(column::<String>(&row, 3, &context)?),
            refresh_token: column::<Option<String>>(&row, 4, &context)?.map(SecretString::from),
            expires_at: opt_time_from_text(
                column(&row, 5, &context)?,
                &format!("expiry of the {context}"),
            )?,
            attributes,
        };
        let Some(p) = profiles.get_mut(&profile) else {
            return Err(corrupt(format_args!("{context} (its profile is missing)")));
        };
        p.connections.insert(platform, connection);
    }
    Ok(())
}
