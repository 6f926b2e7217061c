//! [`MediaLinkStore`] on PostgreSQL: live media links in `media_links`, so a link
//! minted by the instance running a publish is served by whichever instance the
//! platform's fetch reaches.
//!
//! Only the SHA-256 of a link's token is stored (the token is a bearer secret), with
//! the medium's place in the shared media store and the link's expiry (nanoseconds
//! since the Unix epoch). `find_link` ignores expired rows; `insert_link` sweeps them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fanout_core::{MediaLink, MediaLinkStore, StoreError, StoredMedia};

use crate::codec::{count_from_sql, count_to_sql, from_nanos, nanos};
use crate::errors::failed;
use crate::store::{column, execute, query_opt, PostgresStore};

#[async_trait]
impl MediaLinkStore for PostgresStore {
    async fn insert_link(&self, link: MediaLink) -> Result<(), StoreError> {
        let what = "keep a media link";
        let expires_at = nanos(&link.expires_at, "a media link expiring at")?;
        let len = count_to_sql(link.media.len, "a medium of length")?;
        let now = nanos(&Utc::now(), "the time")?;
        let mut client = self.client(what).await?;
        let tx = client.transaction().await.map_err(|e| failed(what, e))?;
        execute(
            &tx,
            "DELETE FROM media_links WHERE expires_at_ns <= $1",
            &[&now],
            what,
        )
        .await?;
        execute(
            &tx,
            "INSERT INTO media_links
                 (token_hash, media_key, media_len, media_sha256, content_type, file_name,
                  expires_at_ns)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (token_hash) DO UPDATE SET
                 media_key = excluded.media_key,
                 media_len = excluded.media_len,
                 media_sha256 = excluded.media_sha256,
                 content_type = excluded.content_type,
                 file_name = excluded.file_name,
                 expires_at_ns = excluded.expires_at_ns",
            &[
                &link.token_hash,
                &link.media.key,
                &len,
                &link.media.sha256,
                &link.media.content_type,
                &link.media.file_name,
                &expires_at,
            ],
            what,
        )
        .await?;
        tx.commit().await.map_err(|e| failed(what, e))
    }

    async fn find_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MediaLink>, StoreError> {
        let what = "look up a media link";
        let now = nanos(&now, "the time")?;
        let client = self.client(what).await?;
        let Some(row) = query_opt(
            &client,
            "SELECT token_hash, media_key, media_len, media_sha256, content_type, file_name,
                    expires_at_ns
             FROM media_links WHERE token_hash = $1 AND expires_at_ns > $2",
            &[&token_hash, &now],
            what,
        )
        .await?
        else {
            return Ok(None);
        };
        let len: i64 = column(&row, 2, "media link's length")?;
        let expires_at: i64 = column(&row, 6, "media link's expiry")?;
        Ok(Some(MediaLink {
            token_hash: column(&row, 0, "media link's token hash")?,
            media: StoredMedia {
                key: column(&row, 1, "media link's key")?,
                len: count_from_sql(len, "media link's length")?,
                sha256: column(&row, 3, "media link's SHA-256")?,
                content_type: column(&row, 4, "media link's content type")?,
                file_name: column(&row, 5, "media link's file name")?,
            },
            expires_at: from_nanos(expires_at),
        }))
    }

    async fn remove_link(&self, token_hash: &str) -> Result<(), StoreError> {
        let what = "remove a media link";
        let client = self.client(what).await?;
        execute(
            &client,
            "DELETE FROM media_links WHERE token_hash = $1",
            &[&token_hash],
            what,
        )
        .await?;
        Ok(())
    }
}
