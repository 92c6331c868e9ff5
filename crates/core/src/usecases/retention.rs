//! Retention: a repository with `retention_days` keeps each version that long after its
//! publish. Expired versions are deleted like an unpublish (files, properties and download
//! counts with them; an emptied package goes too); their blobs are then ordinary garbage.
//! Runs inside garbage collection, under its lease.

use std::time::Duration;

use crate::Result;
use crate::store::MetadataStore;
use crate::time::Timestamp;

const PAGE: u32 = 500;

/// Deletes every version older than its repository's retention period at `now`; returns how
/// many went.
///
/// # Errors
/// A metadata error; versions deleted before it stay deleted.
pub async fn expire_versions(store: &dyn MetadataStore, now: Timestamp) -> Result<u64> {
    let mut expired = 0;
    for repo in store.list_repositories().await? {
        let Some(days) = repo.policy.retention_days else {
            continue;
        };
        let before = now.minus(Duration::from_hours(24 * u64::from(days)));
        let mut removed = 0;
        loop {
            let page = store.versions_before(repo.id, before, PAGE).await?;
            for version in &page {
                if store.delete_version(version.id).await? {
                    removed += 1;
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        if removed > 0 {
            tracing::info!(repository = %repo.name, format = %repo.format, removed, "versions past their retention removed");
        }
        expired += removed;
    }
    Ok(expired)
}
