//! The OCI format's upkeep ([`wharf_server::format::Upkeep`]): blobs pushed or mounted into an
//! image of a hosted repository and left unreferenced by any manifest for longer than the GC
//! grace period are unlinked from the image's uploads version; the collection that follows
//! frees those no other file references. Proxies keep what they cached.

use std::time::Duration;

use async_trait::async_trait;
use wharf_core::Result;
use wharf_core::model::RepoKind;
use wharf_core::time::Timestamp;
use wharf_server::AppState;
use wharf_server::format::Upkeep;

use crate::FORMAT;
use crate::images::UPLOADS;

/// Files handled per query.
const PAGE: u32 = 500;

/// Unlinks abandoned uploads.
pub(crate) struct AbandonedUploads;

#[async_trait]
impl Upkeep for AbandonedUploads {
    async fn run(&self, state: &AppState, grace: Duration) -> Result<u64> {
        let before = Timestamp::now().minus(grace);
        let mut removed = 0;
        for repo in state.store.list_repositories().await? {
            if repo.format != FORMAT || repo.kind != RepoKind::Hosted {
                continue;
            }
            loop {
                let files = state
                    .store
                    .files_of_versions_named(repo.id, UPLOADS, before, PAGE)
                    .await?;
                for file in &files {
                    if state.store.delete_file(file.id).await? {
                        removed += 1;
                    }
                }
                if files.len() < PAGE as usize {
                    break;
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "unlinked blobs no manifest took");
        }
        Ok(removed)
    }
}
