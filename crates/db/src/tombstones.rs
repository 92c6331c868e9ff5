//! [`TombstoneStore`] and the tombstone lookup of a publish: one row per deleted file of the
//! formats that keep them, so that a version's names never come back with other content.

use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use wharf_core::Result;
use wharf_core::store::TombstoneStore;
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;

/// The tombstones of the files `filter` selects (`$1` its id), inserted or refreshed.
fn record(filter: &str) -> String {
    format!(
        "INSERT INTO tombstones (repository_id, package_key, package_lower, version_key, file_key, sha256, deleted_at) \
         SELECT p.repository_id, COALESCE(p.canonical_name, p.lower_name), p.lower_name, v.lower_version, f.lower_name, b.sha256, $2 \
         FROM files f JOIN versions v ON v.id = f.version_id JOIN packages p ON p.id = v.package_id \
         JOIN blobs b ON b.id = f.blob_id WHERE {filter} = $1 \
         ON CONFLICT (repository_id, package_key, version_key, file_key) \
         DO UPDATE SET sha256 = excluded.sha256, deleted_at = excluded.deleted_at"
    )
}

impl Db {
    async fn record_tombstones(&self, filter: &str, id: i64) -> Result<()> {
        sqlx::query(&record(filter))
            .bind(id)
            .bind(Timestamp::now().0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// The same inside a transaction (`filter` as in [`record`]).
pub(crate) async fn record_in(
    tx: &mut Transaction<'static, Any>,
    filter: &str,
    id: i64,
) -> Result<()> {
    sqlx::query(&record(filter))
        .bind(id)
        .bind(Timestamp::now().0)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl TombstoneStore for Db {
    async fn tombstone_file(&self, file_id: i64) -> Result<()> {
        self.record_tombstones("f.id", file_id).await
    }

    async fn tombstone_version(&self, version_id: i64) -> Result<()> {
        self.record_tombstones("v.id", version_id).await
    }

    async fn tombstone_package(&self, package_id: i64) -> Result<()> {
        self.record_tombstones("p.id", package_id).await
    }

    async fn purge_tombstones(
        &self,
        repository_id: i64,
        package: &str,
        version: &str,
    ) -> Result<u64> {
        let package = package.to_lowercase();
        let done = sqlx::query(
            "DELETE FROM tombstones WHERE repository_id = $1 AND version_key = $2 \
             AND (package_key = $3 OR package_lower = $3)",
        )
        .bind(repository_id)
        .bind(version.to_lowercase())
        .bind(package)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The SHA-256 a deleted file of these keys held, read inside a publish's transaction.
pub(crate) async fn held(
    tx: &mut Transaction<'static, Any>,
    repository_id: i64,
    package_key: &str,
    version_key: &str,
    file_key: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT sha256 FROM tombstones WHERE repository_id = $1 AND package_key = $2 \
         AND version_key = $3 AND file_key = $4",
    )
    .bind(repository_id)
    .bind(package_key)
    .bind(version_key)
    .bind(file_key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.map(|r| r.try_get("sha256").map_err(db_err)).transpose()
}
