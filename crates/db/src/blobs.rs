//! [`BlobIndex`]: blob rows, publisher pins, and GC's condemn-then-forget steps. Each step is
//! one atomic statement (or one transaction), which is what makes the publish/GC race safe on
//! both engines; see the trait's documentation.

use async_trait::async_trait;
use sqlx::Row;
use wharf_core::Result;
use wharf_core::digest::{Digests, Sha256};
use wharf_core::model::BlobRecord;
use wharf_core::store::{BlobClaim, BlobIndex, GcCandidate};
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, BLOB_COLUMNS, i64_of, u64_of};

const CONDEMNED: i64 = 1;

/// Unreferenced and unpinned at `$now`.
const UNUSED: &str = "NOT EXISTS (SELECT 1 FROM files f WHERE f.blob_id = b.id) \
     AND NOT EXISTS (SELECT 1 FROM blob_pins p WHERE p.blob_id = b.id AND p.expires_at > $NOW)";

#[async_trait]
impl BlobIndex for Db {
    async fn blob(&self, sha256: &Sha256) -> Result<Option<BlobRecord>> {
        sqlx::query(&format!(
            "SELECT {BLOB_COLUMNS} FROM blobs b WHERE b.sha256 = $1 AND b.state = 0"
        ))
        .bind(sha256.hex())
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::blob)
        .transpose()
    }

    async fn claim_blob(
        &self,
        digests: &Digests,
        size: u64,
        now: Timestamp,
        pin_until: Timestamp,
    ) -> Result<Option<BlobClaim>> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let row = sqlx::query(
            "INSERT INTO blobs (sha256, sha1, md5, sha512, size, state, claim_seq, claimed_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $6) \
             ON CONFLICT (sha256) DO UPDATE SET claim_seq = blobs.claim_seq + 1, claimed_at = excluded.claimed_at, \
             sha1 = CASE WHEN blobs.sha1 = '' THEN excluded.sha1 ELSE blobs.sha1 END, \
             md5 = CASE WHEN blobs.md5 = '' THEN excluded.md5 ELSE blobs.md5 END, \
             sha512 = CASE WHEN blobs.sha512 = '' THEN excluded.sha512 ELSE blobs.sha512 END \
             WHERE blobs.state = 0 RETURNING id",
        )
        .bind(digests.sha256.hex())
        .bind(&digests.sha1)
        .bind(&digests.md5)
        .bind(&digests.sha512)
        .bind(i64_of(size))
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let blob_id: i64 = row.try_get("id").map_err(db_err)?;
        let pin_id: i64 =
            sqlx::query("INSERT INTO blob_pins (blob_id, expires_at) VALUES ($1, $2) RETURNING id")
                .bind(blob_id)
                .bind(pin_until.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?
                .try_get("id")
                .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(BlobClaim { blob_id, pin_id }))
    }

    async fn release_pin(&self, pin_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM blob_pins WHERE id = $1")
            .bind(pin_id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn gc_candidates(
        &self,
        before: Timestamp,
        now: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<GcCandidate>> {
        let sql = format!(
            "SELECT {BLOB_COLUMNS}, b.claim_seq, b.state FROM blobs b WHERE b.id > $1 \
             AND (b.state = {CONDEMNED} OR (b.claimed_at < $2 AND {})) ORDER BY b.id LIMIT $4",
            UNUSED.replace("$NOW", "$3")
        );
        let rows = sqlx::query(&sql)
            .bind(after_id)
            .bind(before.0)
            .bind(now.0)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(GcCandidate {
                    blob: rows::blob(row)?,
                    claim_seq: row.try_get("claim_seq").map_err(db_err)?,
                    condemned: row.try_get::<i64, _>("state").map_err(db_err)? == CONDEMNED,
                })
            })
            .collect()
    }

    async fn condemn_blob(&self, id: i64, claim_seq: i64, now: Timestamp) -> Result<bool> {
        let sql = format!(
            "UPDATE blobs SET state = {CONDEMNED} WHERE id = $1 AND state = 0 AND claim_seq = $2 \
             AND id IN (SELECT b.id FROM blobs b WHERE b.id = $1 AND {})",
            UNUSED.replace("$NOW", "$3")
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(claim_seq)
            .bind(now.0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_blob(&self, id: i64) -> Result<()> {
        sqlx::query(&format!(
            "DELETE FROM blobs WHERE id = $1 AND state = {CONDEMNED}"
        ))
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn blobs_after(&self, after_id: i64, limit: u32) -> Result<Vec<BlobRecord>> {
        sqlx::query(&format!(
            "SELECT {BLOB_COLUMNS} FROM blobs b WHERE b.id > $1 AND b.state = 0 ORDER BY b.id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::blob)
        .collect()
    }

    async fn blob_referenced(&self, id: i64) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM files WHERE blob_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn blob_totals(&self) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM blobs WHERE state = 0",
        )
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        Ok((
            u64_of(row.try_get("n").map_err(db_err)?),
            u64_of(row.try_get("bytes").map_err(db_err)?),
        ))
    }
}
