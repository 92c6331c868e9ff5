//! [`DownloadStore`]: counts added with one upsert per (version, day) — or per (repository,
//! category, name, day) for reported events — so instances add to the same rows without
//! reading them first.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use wharf_core::Result;
use wharf_core::store::{DownloadCount, DownloadStore, EventCount};

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

    async fn repository_downloads(
        &self,
        repository_id: i64,
        since: i64,
    ) -> Result<Vec<(String, u64)>> {
        sqlx::query(
            "SELECT p.name, CAST(SUM(d.count) AS BIGINT) AS total FROM downloads d \
             JOIN versions v ON v.id = d.version_id JOIN packages p ON p.id = v.package_id \
             WHERE p.repository_id = $1 AND d.day >= $2 GROUP BY p.id, p.name",
        )
        .bind(repository_id)
        .bind(since)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(total)
        .collect()
    }

    async fn add_events(&self, events: &[EventCount]) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        for event in events {
            sqlx::query(
                "INSERT INTO analytics_events (repository_id, category, name, day, count) \
                 SELECT id, $2, $3, $4, $5 FROM repositories WHERE id = $1 \
                 ON CONFLICT (repository_id, category, name, day) \
                 DO UPDATE SET count = analytics_events.count + excluded.count",
            )
            .bind(event.repository_id)
            .bind(&event.category)
            .bind(&event.name)
            .bind(event.day)
            .bind(i64::try_from(event.count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn event_totals(
        &self,
        repository_id: i64,
        category: &str,
        since: i64,
    ) -> Result<Vec<(String, u64)>> {
        sqlx::query(
            "SELECT name, CAST(SUM(count) AS BIGINT) AS total FROM analytics_events \
             WHERE repository_id = $1 AND category = $2 AND day >= $3 GROUP BY name",
        )
        .bind(repository_id)
        .bind(category)
        .bind(since)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(total)
        .collect()
    }
}

/// A `(name, total)` row.
fn total(row: &AnyRow) -> Result<(String, u64)> {
    let total: i64 = row.try_get("total").map_err(db_err)?;
    Ok((
        row.try_get("name").map_err(db_err)?,
        u64::try_from(total).unwrap_or(0),
    ))
}
