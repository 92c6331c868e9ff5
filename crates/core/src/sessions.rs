//! Sign-in sessions of the web UI: a random secret in an HttpOnly cookie, kept as its SHA-256,
//! with the CSRF token its forms carry. A session is not an API token and a token is not a
//! session.

use async_trait::async_trait;

use crate::Result;
use crate::model::User;
use crate::time::Timestamp;

/// A session to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Whose session it is.
    pub user_id: i64,
    /// SHA-256 (hex) of the cookie's secret.
    pub hash: String,
    /// The CSRF token of its forms.
    pub csrf: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Database id.
    pub id: i64,
    /// Its user.
    pub user: User,
    /// The CSRF token of its forms.
    pub csrf: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session.
    async fn create_session(&self, session: &NewSession) -> Result<i64>;
    /// The session with this hash, if it has not ended at `now` and its user is not disabled.
    async fn session_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<Session>>;
    /// Ends a session; `false` when there was none.
    async fn delete_session(&self, hash: &str) -> Result<bool>;
    /// Ends every session of a user (password reset, disabling); how many.
    async fn delete_user_sessions(&self, user_id: i64) -> Result<u64>;
    /// Removes the sessions that ended by `now`; how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;
}
