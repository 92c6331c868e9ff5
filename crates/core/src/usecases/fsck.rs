//! Consistency check: every blob record a file references has its object with the right size
//! and SHA-256, and every object has a record (orphans are listed, not deleted).

use std::collections::HashSet;

use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest as _, Sha256 as Sha256Hasher};

use crate::Result;
use crate::blob::BlobStore;
use crate::digest::Sha256;
use crate::store::MetadataStore;

/// What fsck found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FsckReport {
    /// Blob records checked.
    pub checked: u64,
    /// Records a file references whose object is missing.
    pub missing: Vec<Sha256>,
    /// Records no file references whose object is missing: a publish that stopped between
    /// claiming the blob and storing it (its process died), or one still under way. Nothing
    /// depends on them; garbage collection removes them.
    pub unfinished: Vec<Sha256>,
    /// Records whose object has another size: `(digest, recorded, found)`.
    pub wrong_size: Vec<(Sha256, u64, u64)>,
    /// Records whose object hashes to something else.
    pub corrupt: Vec<Sha256>,
    /// Objects without a record (harmless; a crash between storing and recording leaves them).
    pub orphans: Vec<Sha256>,
}

impl FsckReport {
    /// Whether anything referenced is damaged.
    #[must_use]
    pub fn damaged(&self) -> bool {
        !(self.missing.is_empty() && self.wrong_size.is_empty() && self.corrupt.is_empty())
    }
}

/// Checks every blob.
///
/// # Errors
/// A metadata or storage error that stops the check itself.
pub async fn fsck(store: &dyn MetadataStore, blobs: &BlobStore) -> Result<FsckReport> {
    let mut report = FsckReport::default();
    let mut known = HashSet::new();
    let mut after_id = 0;
    loop {
        let page = store.blobs_after(after_id, 500).await?;
        for blob in &page {
            after_id = blob.id;
            report.checked += 1;
            known.insert(blob.sha256.clone());
            match blobs.stat(&blob.sha256).await? {
                None if store.blob_referenced(blob.id).await? => {
                    report.missing.push(blob.sha256.clone());
                }
                None => report.unfinished.push(blob.sha256.clone()),
                Some(stat) if stat.size != blob.size => {
                    report
                        .wrong_size
                        .push((blob.sha256.clone(), blob.size, stat.size));
                }
                Some(_) => {
                    let mut hasher = Sha256Hasher::new();
                    let mut stream = blobs.read(&blob.sha256, 0..blob.size).await?;
                    while let Some(chunk) = stream
                        .try_next()
                        .await
                        .map_err(|e| crate::Error::internal("fsck: reading blob", e))?
                    {
                        hasher.update(&chunk);
                    }
                    if hex::encode(hasher.finalize()) != blob.sha256.hex() {
                        report.corrupt.push(blob.sha256.clone());
                    }
                }
            }
        }
        if page.len() < 500 {
            break;
        }
    }
    report.orphans = blobs
        .list_blobs()
        .await?
        .into_iter()
        .filter(|sha| !known.contains(sha))
        .collect();
    Ok(report)
}
