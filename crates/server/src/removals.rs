//! Deleting what a repository holds, the one way every path does it (a format's own protocol,
//! `/api/v1`, seed APIs): the metadata goes, blobs are left to GC, and in formats that keep
//! tombstones ([`crate::Format::keeps_tombstones`]) the deleted files' names and digests are
//! recorded first, so that a version never comes back with other content (unless the
//! repository allows overwrites); and after versions went, the format repairs what named them
//! ([`crate::format::Removals`]: npm's dist-tags, OCI's tags).

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

    /// Deletes a file of the package `package` of `repository`; an emptied version and
    /// package go too. `false` when it was not there.
    ///
    /// # Errors
    /// A metadata error, or what the format's repair fails with.
    pub async fn remove_file(
        &self,
        repository: &Repository,
        package: &str,
        file_id: i64,
    ) -> Result<bool> {
        if self.keeps_tombstones(repository) {
            self.store.tombstone_file(file_id).await?;
        }
        let removed = self.store.delete_file(file_id).await?;
        self.repair(repository, package).await?;
        Ok(removed)
    }

    /// Deletes a version of the package `package` of `repository` with its files; an emptied
    /// package goes too.
    ///
    /// # Errors
    /// A metadata error, or what the format's repair fails with.
    pub async fn remove_version(
        &self,
        repository: &Repository,
        package: &str,
        version_id: i64,
    ) -> Result<bool> {
        if self.keeps_tombstones(repository) {
            self.store.tombstone_version(version_id).await?;
        }
        let removed = self.store.delete_version(version_id).await?;
        self.repair(repository, package).await?;
        Ok(removed)
    }

    /// Lets the format repair a package that lost versions, if it remains.
    async fn repair(&self, repository: &Repository, package: &str) -> Result<()> {
        let Some(removals) = self.format(&repository.format).and_then(|f| f.removals) else {
            return Ok(());
        };
        match self.store.package(repository.id, package).await? {
            Some(package) => removals.versions_removed(self, repository, &package).await,
            None => Ok(()),
        }
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
