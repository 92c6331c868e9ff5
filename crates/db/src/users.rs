//! [`UserStore`]: users with argon2 password hashes, and API tokens stored as SHA-256.

use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{NewToken, Scope, TokenInfo, User};
use wharf_core::store::{UserChange, UserStore};
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, TOKEN_COLUMNS, USER_COLUMNS, u64_of};

#[async_trait]
impl UserStore for Db {
    async fn create_user(&self, name: &str, password_hash: &str, role: Scope) -> Result<User> {
        let row = sqlx::query(
            "INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id AS user_id, name AS user_name, role, created_at AS user_created_at, \
             disabled AS user_disabled",
        )
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(Timestamp::now().0)
        .fetch_one(&self.write)
        .await
        .map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::conflict(format!("user {name} already exists")),
            other => other,
        })?;
        rows::user(&row)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((rows::user(&r)?, r.try_get("password_hash").map_err(db_err)?)))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::user)
        .collect()
    }

    async fn delete_user(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn update_user(&self, id: i64, change: &UserChange) -> Result<bool> {
        // One statement: each field is set to the new value or kept.
        let done = sqlx::query(
            "UPDATE users SET role = COALESCE($2, role), password_hash = COALESCE($3, password_hash), \
             disabled = COALESCE($4, disabled) WHERE id = $1",
        )
        .bind(id)
        .bind(change.role.map(Scope::as_str))
        .bind(change.password_hash.as_deref())
        .bind(change.disabled.map(i64::from))
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_token(&self, token: &NewToken) -> Result<TokenInfo> {
        let row = sqlx::query(
            "INSERT INTO tokens (user_id, name, token_hash, scope, repository_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id AS token_id, user_id AS token_user_id, \
             name AS token_name, scope, repository_id, expires_at, created_at AS token_created_at",
        )
        .bind(token.user_id)
        .bind(&token.name)
        .bind(&token.hash)
        .bind(token.scope.as_str())
        .bind(token.repository_id)
        .bind(token.expires_at.map(|t| t.0))
        .bind(Timestamp::now().0)
        .fetch_one(&self.write)
        .await
        .map_err(db_err)?;
        rows::token(&row)
    }

    async fn token_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<(TokenInfo, User)>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)"
        ))
        .bind(hash)
        .bind(now.0)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((rows::token(&r)?, rows::user(&r)?)))
            .transpose()
    }

    async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.user_id = $1 ORDER BY t.id"
        ))
        .bind(user_id)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::token)
        .collect()
    }

    async fn delete_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_expired_tokens(&self, now: Timestamp) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1")
                .bind(now.0)
                .execute(&self.write)
                .await
                .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn count_users(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(u64_of(row.try_get("n").map_err(db_err)?))
    }
}
