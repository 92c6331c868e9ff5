//! Deleting what a repository holds, the one way every path does it (a format's own protocol,
//! `/api/v1`, seed APIs): the metadata goes, blobs are left to GC, and in formats that keep
//! tombstones ([`crate::Format::keeps_tombstones`]) the deleted files' names and digests are
//! recorded first, so that a version never comes back with other content (unless the
//! repository allows overwrites).

use wharf_core::Result;
use wharf_core::model::Repository;

use crate::state::AppState;

impl AppState {
    /// Whether deletions in `repository` leave tombstones: its format keeps them and the
    /// repository does not allow overwrites (where a file may be replaced at will, a deleted
    /// one may come back too).
    #[must_use]
    pub fn keeps_tombstones(&self, repository: &Repository) -> bool {
        !repository.policy.allow_overwrite
            && self
                .format(&repository.format)
                .is_some_and(|f| f.keeps_tombstones)
    }

    /// Deletes a file of `repository`; an emptied version and package go too. `false` when
    /// it was not there.
    ///
    /// # Errors
    /// A metadata error.
    pub async fn remove_file(&self, repository: &Repository, file_id: i64) -> Result<bool> {
        if self.keeps_tombstones(repository) {
            self.store.tombstone_file(file_id).await?;
        }
        self.store.delete_file(file_id).await
    }

    /// Deletes a version of `repository` with its files; an emptied package goes too.
    ///
    /// # Errors
    /// A metadata error.
    pub async fn remove_version(&self, repository: &Repository, version_id: i64) -> Result<bool> {
        if self.keeps_tombstones(repository) {
            self.store.tombstone_version(version_id).await?;
        }
        self.store.delete_version(version_id).await
    }

    /// Deletes a package of `repository` with its versions and files.
    ///
    /// # Errors
    /// A metadata error.
    pub async fn remove_package(&self, repository: &Repository, package_id: i64) -> Result<bool> {
        if self.keeps_tombstones(repository) {
            self.store.tombstone_package(package_id).await?;
        }
        self.store.delete_package(package_id).await
    }
}
