//! [`LeaseStore`]: one row per named job; taken when free, expired, or already ours.

use async_trait::async_trait;
use wharf_core::Result;
use wharf_core::store::LeaseStore;
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;

#[async_trait]
impl LeaseStore for Db {
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(until.0)
        .bind(now.0)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
