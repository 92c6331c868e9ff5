//! [`SessionStore`]: web UI sessions, kept as the SHA-256 of their secret.

use async_trait::async_trait;
use sqlx::Row;
use wharf_core::Result;
use wharf_core::sessions::{NewSession, Session, SessionStore};
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, USER_COLUMNS};

#[async_trait]
impl SessionStore for Db {
    async fn create_session(&self, session: &NewSession) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&session.hash)
        .bind(session.user_id)
        .bind(&session.csrf)
        .bind(Timestamp::now().0)
        .bind(session.expires_at.0)
        .fetch_one(&self.write)
        .await
        .map_err(db_err)?;
        row.try_get("id").map_err(db_err)
    }

    async fn session_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<Session>> {
        let row = sqlx::query(&format!(
            "SELECT s.id AS session_id, s.csrf, s.expires_at, {USER_COLUMNS} FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0"
        ))
        .bind(hash)
        .bind(now.0)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok(Session {
                id: r.try_get("session_id").map_err(db_err)?,
                user: rows::user(&r)?,
                csrf: r.try_get("csrf").map_err(db_err)?,
                expires_at: Timestamp(r.try_get("expires_at").map_err(db_err)?),
            })
        })
        .transpose()
    }

    async fn delete_session(&self, hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
