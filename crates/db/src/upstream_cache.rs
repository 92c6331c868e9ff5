//! [`UpstreamCacheStore`]: upstream metadata documents of proxy repositories.

use async_trait::async_trait;
use sqlx::Row;
use wharf_core::Result;
use wharf_core::store::{CachedDocument, UpstreamCacheStore};
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;

#[async_trait]
impl UpstreamCacheStore for Db {
    async fn cached(&self, repository_id: i64, key: &str) -> Result<Option<CachedDocument>> {
        let row = sqlx::query(
            "SELECT status, etag, last_modified, fetched_at, body FROM upstream_cache \
             WHERE repository_id = $1 AND key = $2",
        )
        .bind(repository_id)
        .bind(key)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok(CachedDocument {
                status: u16::try_from(r.try_get::<i64, _>("status").map_err(db_err)?).unwrap_or(0),
                etag: r.try_get("etag").map_err(db_err)?,
                last_modified: r.try_get("last_modified").map_err(db_err)?,
                fetched_at: Timestamp(r.try_get("fetched_at").map_err(db_err)?),
                body: r.try_get("body").map_err(db_err)?,
            })
        })
        .transpose()
    }

    async fn store_cached(
        &self,
        repository_id: i64,
        key: &str,
        doc: &CachedDocument,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO upstream_cache (repository_id, key, status, etag, last_modified, fetched_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (repository_id, key) DO UPDATE SET \
             status = excluded.status, etag = excluded.etag, last_modified = excluded.last_modified, \
             fetched_at = excluded.fetched_at, body = excluded.body",
        )
        .bind(repository_id)
        .bind(key)
        .bind(i64::from(doc.status))
        .bind(doc.etag.as_deref())
        .bind(doc.last_modified.as_deref())
        .bind(doc.fetched_at.0)
        .bind(doc.body.as_slice())
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn touch_cached(&self, repository_id: i64, key: &str, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE upstream_cache SET fetched_at = $1 WHERE repository_id = $2 AND key = $3",
        )
        .bind(at.0)
        .bind(repository_id)
        .bind(key)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
