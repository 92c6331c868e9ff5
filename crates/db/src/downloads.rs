//! [`DownloadStore`]: counts added with one upsert per (version, day), so instances add to the
//! same rows without reading them first.

use async_trait::async_trait;
use sqlx::Row;
use wharf_core::Result;
use wharf_core::store::{DownloadCount, DownloadStore};

use crate::Db;
use crate::error::db_err;

#[async_trait]
impl DownloadStore for Db {
    async fn add_downloads(&self, counts: &[(i64, i64, u64)]) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        for &(version_id, day, count) in counts {
            sqlx::query(
                "INSERT INTO downloads (version_id, day, count) \
                 SELECT id, $2, $3 FROM versions WHERE id = $1 \
                 ON CONFLICT (version_id, day) DO UPDATE SET count = downloads.count + excluded.count",
            )
            .bind(version_id)
            .bind(day)
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn downloads(&self, package_id: i64, since: i64) -> Result<Vec<DownloadCount>> {
        sqlx::query(
            "SELECT v.version, d.day, d.count FROM downloads d JOIN versions v ON v.id = d.version_id \
             WHERE v.package_id = $1 AND d.day >= $2 ORDER BY d.day, v.id",
        )
        .bind(package_id)
        .bind(since)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            let count: i64 = row.try_get("count").map_err(db_err)?;
            Ok(DownloadCount {
                version: row.try_get("version").map_err(db_err)?,
                day: row.try_get("day").map_err(db_err)?,
                count: u64::try_from(count).unwrap_or(0),
            })
        })
        .collect()
    }
}
