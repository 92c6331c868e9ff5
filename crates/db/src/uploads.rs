//! [`UploadStore`]: resumable upload sessions; a part is appended only at the offset the
//! appender saw, so concurrent appends through different instances cannot interleave.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use wharf_core::time::Timestamp;
use wharf_core::uploads::{UploadPart, UploadSession, UploadStore};
use wharf_core::{Error, Result};

use crate::Db;
use crate::error::db_err;

fn size_param(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn session(row: &AnyRow) -> Result<UploadSession> {
    let parts: String = row.try_get("parts").map_err(db_err)?;
    let parts: Vec<UploadPart> = serde_json::from_str(&parts)
        .map_err(|e| Error::internal("database: an upload session's parts", e))?;
    Ok(UploadSession {
        id: row.try_get("id").map_err(db_err)?,
        repository_id: row.try_get("repository_id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        size: u64::try_from(row.try_get::<i64, _>("size").map_err(db_err)?).unwrap_or(0),
        parts,
        created_at: Timestamp(row.try_get("created_at").map_err(db_err)?),
        updated_at: Timestamp(row.try_get("updated_at").map_err(db_err)?),
    })
}

fn parts_json(parts: &[UploadPart]) -> Result<String> {
    serde_json::to_string(parts).map_err(|e| Error::internal("encoding upload parts", e))
}

#[async_trait]
impl UploadStore for Db {
    async fn create_upload(&self, session: &UploadSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO upload_sessions (id, repository_id, name, size, parts, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&session.id)
        .bind(session.repository_id)
        .bind(&session.name)
        .bind(size_param(session.size))
        .bind(parts_json(&session.parts)?)
        .bind(session.created_at.0)
        .bind(session.updated_at.0)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn upload(&self, id: &str) -> Result<Option<UploadSession>> {
        sqlx::query("SELECT * FROM upload_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.write)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(session)
            .transpose()
    }

    async fn append_upload_part(
        &self,
        id: &str,
        offset: u64,
        part: &UploadPart,
        now: Timestamp,
    ) -> Result<bool> {
        let Some(mut current) = self.upload(id).await? else {
            return Ok(false);
        };
        if current.size != offset {
            return Ok(false);
        }
        current.parts.push(part.clone());
        let done = sqlx::query(
            "UPDATE upload_sessions SET parts = $1, size = $2, updated_at = $3 \
             WHERE id = $4 AND size = $5",
        )
        .bind(parts_json(&current.parts)?)
        .bind(size_param(offset + part.size))
        .bind(now.0)
        .bind(id)
        .bind(size_param(offset))
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_upload(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM upload_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn expire_uploads(&self, before: Timestamp) -> Result<Vec<String>> {
        let rows = sqlx::query("DELETE FROM upload_sessions WHERE created_at < $1 RETURNING parts")
            .bind(before.0)
            .fetch_all(&self.write)
            .await
            .map_err(db_err)?;
        let mut keys = Vec::new();
        for row in &rows {
            let parts: String = row.try_get("parts").map_err(db_err)?;
            let parts: Vec<UploadPart> = serde_json::from_str(&parts)
                .map_err(|e| Error::internal("database: an upload session's parts", e))?;
            keys.extend(parts.into_iter().map(|p| p.key));
        }
        Ok(keys)
    }
}
