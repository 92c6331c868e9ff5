//! Resumable upload sessions (the OCI distribution spec's chunked blob uploads): what was
//! received so far, kept in the database so that any instance can continue a session and a
//! restart loses nothing. The bytes of each part live in storage under `uploads/`
//! ([`crate::blob::BlobStore::stage_part`]); garbage collection expires abandoned sessions
//! and their parts after [`UPLOAD_MAX_AGE`].

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::digest::Digests;
use crate::time::Timestamp;

/// How long a session may take from its start: GC then removes it and its parts. Counting
/// from the start (not the last part) means no part older than this belongs to a live
/// session, so GC may also remove such parts when no session lists them.
pub const UPLOAD_MAX_AGE: Duration = Duration::from_hours(24);

/// One received part: an object in storage and what hashing it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPart {
    /// The object's key.
    pub key: String,
    /// Its size.
    pub size: u64,
    /// Its digests (a one-part upload is committed as it is, without reading it again).
    pub digests: Digests,
}

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    /// The session's id (a UUID, also the last URL segment clients see).
    pub id: String,
    /// The repository it uploads to.
    pub repository_id: i64,
    /// The name inside the repository (an image name) it was opened for.
    pub name: String,
    /// Bytes received: the sum of the parts' sizes, the offset the next part starts at.
    pub size: u64,
    /// The parts, in order.
    pub parts: Vec<UploadPart>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last received a part.
    pub updated_at: Timestamp,
}

/// Upload sessions in the metadata store.
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Records a new, empty session.
    async fn create_upload(&self, session: &UploadSession) -> Result<()>;
    /// A session by id.
    async fn upload(&self, id: &str) -> Result<Option<UploadSession>>;
    /// Appends `part` if the session still holds exactly `offset` bytes: `false` when another
    /// request appended first (or the session is gone), and nothing changed.
    async fn append_upload_part(
        &self,
        id: &str,
        offset: u64,
        part: &UploadPart,
        now: Timestamp,
    ) -> Result<bool>;
    /// Removes a session (finished or cancelled); `false` if it was not there.
    async fn delete_upload(&self, id: &str) -> Result<bool>;
    /// Removes the sessions started before `before`, returning their parts' keys.
    async fn expire_uploads(&self, before: Timestamp) -> Result<Vec<String>>;
}
