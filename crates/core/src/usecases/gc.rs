//! Garbage collection, under a lease so that only one process collects at a time: first the
//! versions past their repository's retention (see [`super::retention`]), then blobs no file
//! references, after a grace period. See [`crate::store::BlobIndex`] for why a
//! concurrent publish can never lose its blob.

use std::time::Duration;

use serde::Serialize;

use crate::Result;
use crate::blob::BlobStore;
use crate::store::MetadataStore;
use crate::time::Timestamp;
use crate::uploads::UPLOAD_MAX_AGE;

/// The lease name for collection.
pub const GC_LEASE: &str = "gc";
/// How long a collector holds the lease between renewals.
const LEASE_TTL: Duration = Duration::from_mins(5);
/// Temporary uploads older than this are leftovers of a crash.
pub const TEMP_MAX_AGE: Duration = Duration::from_hours(24);
const PAGE: u32 = 500;

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// Blobs deleted.
    pub deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Temporary objects of crashed uploads removed.
    pub temp_removed: u64,
    /// Versions removed because their repository's retention period had passed.
    pub versions_expired: u64,
    /// Parts of abandoned resumable uploads removed (see [`crate::uploads`]).
    pub upload_parts_removed: u64,
    /// Expired tokens removed.
    pub tokens_expired: u64,
}

/// Collects garbage once. `Ok(None)` when another process holds the lease.
///
/// # Errors
/// A metadata or storage error; blobs handled before it stay handled.
pub async fn collect_garbage(
    store: &dyn MetadataStore,
    blobs: &BlobStore,
    grace: Duration,
    holder: &str,
) -> Result<Option<GcReport>> {
    let now = Timestamp::now();
    if !store
        .try_lease(GC_LEASE, holder, now, now.plus(LEASE_TTL))
        .await?
    {
        return Ok(None);
    }
    let result = collect(store, blobs, grace, holder, now).await;
    store.release_lease(GC_LEASE, holder).await?;
    let report = result?;
    if report.deleted > 0
        || report.temp_removed > 0
        || report.versions_expired > 0
        || report.upload_parts_removed > 0
    {
        tracing::info!(
            deleted = report.deleted,
            bytes = report.bytes_freed,
            temp = report.temp_removed,
            expired = report.versions_expired,
            upload_parts = report.upload_parts_removed,
            "garbage collected"
        );
    }
    Ok(Some(report))
}

async fn collect(
    store: &dyn MetadataStore,
    blobs: &BlobStore,
    grace: Duration,
    holder: &str,
    now: Timestamp,
) -> Result<GcReport> {
    let mut report = GcReport {
        versions_expired: super::retention::expire_versions(store, now).await?,
        ..GcReport::default()
    };
    let before = now.minus(grace);
    let mut after_id = 0;
    loop {
        let page = store.gc_candidates(before, now, after_id, PAGE).await?;
        for c in &page {
            after_id = after_id.max(c.blob.id);
            if c.condemned || store.condemn_blob(c.blob.id, c.claim_seq, now).await? {
                blobs.delete(&c.blob.sha256).await?;
                store.forget_blob(c.blob.id).await?;
                report.deleted += 1;
                report.bytes_freed += c.blob.size;
            }
        }
        let renewed = Timestamp::now();
        store
            .try_lease(GC_LEASE, holder, renewed, renewed.plus(LEASE_TTL))
            .await?;
        if page.len() < PAGE as usize {
            break;
        }
    }
    report.temp_removed = blobs.sweep_temp(now.minus(TEMP_MAX_AGE)).await?;
    let abandoned = now.minus(UPLOAD_MAX_AGE);
    let parts = store.expire_uploads(abandoned).await?;
    blobs.delete_parts(&parts).await?;
    report.upload_parts_removed = parts.len() as u64 + blobs.sweep_parts(abandoned).await?;
    report.tokens_expired = store.delete_expired_tokens(now).await?;
    Ok(report)
}
