//! [`RepositoryStore`] for SQLite and PostgreSQL.

use async_trait::async_trait;
use wharf_core::Result;
use wharf_core::model::{NewRepository, RepoPolicy, Repository};
use wharf_core::store::RepositoryStore;
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, REPOSITORY_COLUMNS, i64_of};

#[async_trait]
impl RepositoryStore for Db {
    async fn create_repository(&self, new: &NewRepository) -> Result<Repository> {
        let members = serde_json::to_string(&new.members)
            .map_err(|e| wharf_core::Error::internal("encoding members", e))?;
        let row = sqlx::query(&format!(
            "INSERT INTO repositories (name, format, kind, upstream, members, allow_overwrite, max_upload_size, anonymous_read, retention_days, redirect_downloads, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {REPOSITORY_COLUMNS}"
        ))
        .bind(new.name.as_str())
        .bind(&new.format)
        .bind(new.kind.as_str())
        .bind(new.upstream.as_deref())
        .bind(members)
        .bind(i64::from(new.policy.allow_overwrite))
        .bind(new.policy.max_upload_size.map(i64_of))
        .bind(i64::from(new.policy.anonymous_read))
        .bind(new.policy.retention_days.map(i64::from))
        .bind(i64::from(new.policy.redirect_downloads))
        .bind(Timestamp::now().0)
        .fetch_one(&self.write)
        .await
        .map_err(|e| match db_err(e) {
            wharf_core::Error::Conflict(_) => wharf_core::Error::conflict(format!(
                "a {} repository named {} already exists",
                new.format, new.name
            )),
            other => other,
        })?;
        rows::repository(&row)
    }

    async fn repository(&self, format: &str, name: &str) -> Result<Option<Repository>> {
        sqlx::query(&format!(
            "SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE format = $1 AND name = $2"
        ))
        .bind(format)
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::repository)
        .transpose()
    }

    async fn list_repositories(&self) -> Result<Vec<Repository>> {
        sqlx::query(&format!(
            "SELECT {REPOSITORY_COLUMNS} FROM repositories ORDER BY format, name"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::repository)
        .collect()
    }

    async fn update_policy(&self, id: i64, policy: &RepoPolicy) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE repositories SET allow_overwrite = $1, max_upload_size = $2, anonymous_read = $3, retention_days = $4, redirect_downloads = $5 WHERE id = $6",
        )
        .bind(i64::from(policy.allow_overwrite))
        .bind(policy.max_upload_size.map(i64_of))
        .bind(i64::from(policy.anonymous_read))
        .bind(policy.retention_days.map(i64::from))
        .bind(i64::from(policy.redirect_downloads))
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_repository(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM repositories WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        self.packages_changed();
        Ok(done.rows_affected() == 1)
    }
}
