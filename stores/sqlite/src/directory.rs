//! [`AccountDirectory`] on SQLite: accounts, profiles and connections tables.

use std::collections::BTreeMap;

use async_trait::async_trait;
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    Account, AccountDirectory, ApiKeyHash, Connection as SocialConnection, Plan, Profile,
    StoreError,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::codec::{count_from_sql, count_to_sql, opt_time_from_text, time_to_text};
use crate::errors::{corrupt, failed};
use crate::store::SqliteStore;

#[async_trait]
impl AccountDirectory for SqliteStore {
    async fn ready(&self) -> Result<(), StoreError> {
        self.check_ready().await
    }

    async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError> {
        let hash = *hash;
        self.with_conn(move |conn| {
            let tx = read_tx(conn)?;
            let row: Option<(String, String)> = tx
                .query_row(
                    "SELECT name, api_key_hash FROM accounts WHERE api_key_hash = ?1",
                    [hash.to_hex()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| failed("look up an account by API key", e))?;
            let Some((name, stored)) = row else {
                return Ok(None);
            };
            // The index found it; confirm in constant time.
            let stored = ApiKeyHash::from_hex(&stored)
                .ok_or_else(|| corrupt(format_args!("API key hash of account {name}")))?;
            if !stored.ct_matches(&hash) {
                return Ok(None);
            }
            load_account(&tx, &name)
        })
        .await
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let name = name.to_string();
        self.with_conn(move |conn| {
            let tx = read_tx(conn)?;
            load_account(&tx, &name)
        })
        .await
    }

    async fn upsert(&self, account: Account) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            let what = format!("store account {}", account.name);
            let tx = write_tx(conn, &what)?;
            write_account(&tx, &account)?;
            tx.commit().map_err(|e| failed(&what, e))
        })
        .await
    }

    async fn remove(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.with_conn(move |conn| {
            // Profiles and connections go with it (ON DELETE CASCADE). Usage counters
            // stay, so re-creating an account does not reset its limits.
            conn.execute("DELETE FROM accounts WHERE name = ?1", [&name])
                .map(|n| n > 0)
                .map_err(|e| failed(format_args!("remove account {name}"), e))
        })
        .await
    }

    async fn save_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
        connection: SocialConnection,
    ) -> Result<(), StoreError> {
        let (account, profile, platform) = (
            account.to_string(),
            profile.to_string(),
            platform.to_string(),
        );
        self.with_conn(move |conn| {
            let what = format!("save the {platform} connection of {account}/{profile}");
            let tx = write_tx(conn, &what)?;
            let exists = tx
                .query_row("SELECT 1 FROM accounts WHERE name = ?1", [&account], |_| {
                    Ok(())
                })
                .optional()
                .map_err(|e| failed(&what, e))?
                .is_some();
            if !exists {
                return Err(StoreError::not_found(format!(
                    "could not save the {platform} connection: no account named {account} \
                     — create the account first"
                )));
            }
            tx.execute(
                "INSERT OR IGNORE INTO profiles (account, username) VALUES (?1, ?2)",
                params![account, profile],
            )
            .map_err(|e| failed(&what, e))?;
            write_connection(&tx, &account, &profile, &platform, &connection)
                .map_err(|e| failed(&what, e))?;
            tx.commit().map_err(|e| failed(&what, e))
        })
        .await
    }
}

/// A deferred transaction: one consistent snapshot for the several reads of an account.
fn read_tx(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| failed("start a read transaction", e))
}

/// A write transaction that takes the write lock at once.
fn write_tx<'c>(conn: &'c mut Connection, what: &str) -> Result<Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failed(what, e))
}

fn write_account(tx: &Transaction<'_>, account: &Account) -> Result<(), StoreError> {
    let what = format!("store account {}", account.name);
    let monthly = count_to_sql(account.plan.monthly_uploads, "a monthly limit of")?;
    let daily = account
        .plan
        .daily_uploads_per_account
        .map(|d| count_to_sql(d, "a daily limit of"))
        .transpose()?;
    tx.execute(
        "INSERT INTO accounts
             (name, api_key_hash, api_key_expires_at, monthly_uploads, daily_uploads_per_account)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET
             api_key_hash = excluded.api_key_hash,
             api_key_expires_at = excluded.api_key_expires_at,
             monthly_uploads = excluded.monthly_uploads,
             daily_uploads_per_account = excluded.daily_uploads_per_account",
        params![
            account.name,
            account.api_key_hash.map(|h| h.to_hex()),
            account.api_key_expires_at.as_ref().map(time_to_text),
            monthly,
            daily,
        ],
    )
    .map_err(|e| failed(&what, e))?;
    // Replace the profiles whole: the cascade removes their connections.
    tx.execute("DELETE FROM profiles WHERE account = ?1", [&account.name])
        .map_err(|e| failed(&what, e))?;
    for (username, profile) in &account.profiles {
        tx.execute(
            "INSERT INTO profiles (account, username) VALUES (?1, ?2)",
            params![account.name, username],
        )
        .map_err(|e| failed(&what, e))?;
        for (platform, connection) in &profile.connections {
            write_connection(tx, &account.name, username, platform, connection)
                .map_err(|e| failed(&what, e))?;
        }
    }
    Ok(())
}

fn write_connection(
    tx: &Transaction<'_>,
    account: &str,
    profile: &str,
    platform: &str,
    c: &SocialConnection,
) -> rusqlite::Result<()> {
    // A BTreeMap<String, String> always serialises; fall back to `{}` regardless.
    let attributes = serde_json::to_string(&c.attributes).unwrap_or_else(|_| "{}".into());
    tx.execute(
        "INSERT INTO connections
             (account, profile, platform, account_name, access_token, refresh_token,
              expires_at, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (account, profile, platform) DO UPDATE SET
             account_name = excluded.account_name,
             access_token = excluded.access_token,
             refresh_token = excluded.refresh_token,
             expires_at = excluded.expires_at,
             attributes = excluded.attributes",
        params![
            account,
            profile,
            platform,
            c.account_name,
            c.access_token.expose_secret(),
            c.refresh_token.as_ref().map(|t| t.expose_secret()),
            c.expires_at.as_ref().map(time_to_text),
            attributes,
        ],
    )?;
    Ok(())
}

/// Reads one account with its profiles and connections.
fn load_account(tx: &Transaction<'_>, name: &str) -> Result<Option<Account>, StoreError> {
    let what = format!("read account {name}");
    let row = tx
        .query_row(
            "SELECT api_key_hash, api_key_expires_at, monthly_uploads, daily_uploads_per_account
             FROM accounts WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()
        .map_err(|e| failed(&what, e))?;
    let Some((hash, expires, monthly, daily)) = row else {
        return Ok(None);
    };
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
    let mut stmt = tx
        .prepare_cached("SELECT username FROM profiles WHERE account = ?1")
        .map_err(|e| failed(&what, e))?;
    let usernames = stmt
        .query_map([name], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| failed(&what, e))?;
    for username in usernames {
        profiles.insert(
            username.clone(),
            Profile {
                username,
                connections: BTreeMap::new(),
            },
        );
    }
    load_connections(tx, name, &mut profiles)?;
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

/// One row of the connections table.
type ConnectionRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn load_connections(
    tx: &Transaction<'_>,
    name: &str,
    profiles: &mut BTreeMap<String, Profile>,
) -> Result<(), StoreError> {
    let what = format!("read the connections of account {name}");
    let mut stmt = tx
        .prepare_cached(
            "SELECT profile, platform, account_name, access_token, refresh_token, expires_at,
                    attributes
             FROM connections WHERE account = ?1",
        )
        .map_err(|e| failed(&what, e))?;
    let rows: Vec<ConnectionRow> = stmt
        .query_map([name], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| failed(&what, e))?;
    for (profile, platform, account_name, access, refresh, expires, attributes) in rows {
        let context = format!("{platform} connection of {name}/{profile}");
        let attributes: BTreeMap<String, String> = serde_json::from_str(&attributes)
            .map_err(|_| corrupt(format_args!("attributes of the {context}")))?;
        let connection = SocialConnection {
            account_name,
            access_token: SecretString::from(access),
            refresh_token: refresh.map(SecretString::from),
            expires_at: opt_time_from_text(expires, &format!("expiry of the {context}"))?,
            attributes,
        };
        let Some(p) = profiles.get_mut(&profile) else {
            return Err(corrupt(format_args!("{context} (its profile is missing)")));
        };
        p.connections.insert(platform, connection);
    }
    Ok(())
}
