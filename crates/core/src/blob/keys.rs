//! Object keys: where blobs and temporary uploads live in the storage backend.

use crate::digest::Sha256;

/// Prefix of committed blobs.
pub const BLOB_PREFIX: &str = "sha256/";
/// Prefix of uploads being staged.
pub const TEMP_PREFIX: &str = "tmp/";
/// Prefix of the kept parts of resumable uploads.
pub const UPLOAD_PREFIX: &str = "uploads/";

/// `sha256/ab/cd/<hex>`: the key of a blob.
#[must_use]
pub fn blob_key(sha256: &Sha256) -> String {
    let hex = sha256.hex();
    format!("{BLOB_PREFIX}{}/{}/{hex}", &hex[0..2], &hex[2..4])
}

/// The digest a blob key names, if it is one.
#[must_use]
pub fn sha256_of_key(key: &str) -> Option<Sha256> {
    let rest = key.strip_prefix(BLOB_PREFIX)?;
    let (dirs, hex) = rest.rsplit_once('/')?;
    let sha = Sha256::parse(hex).ok()?;
    (dirs == format!("{}/{}", &hex[0..2], &hex[2..4])).then_some(sha)
}

/// A new temporary key.
#[must_use]
pub fn temp_key() -> String {
    format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4())
}

/// A new key for a part of a resumable upload.
#[must_use]
pub fn upload_key() -> String {
    format!("{UPLOAD_PREFIX}{}", uuid::Uuid::new_v4())
}
