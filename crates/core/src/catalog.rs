//! What people browse: repositories with their counts, the newest versions, and packages
//! listed, sorted, filtered and paged in the database — the reads behind the web UI, bounded
//! whatever the size of a repository.

use async_trait::async_trait;

use crate::Result;
use crate::model::Package;
use crate::time::Timestamp;

/// The package property formats keep a package's one-line description in (what its latest
/// publish said), for lists and search.
pub const DESCRIPTION: &str = "description";

/// How many packages and versions a repository holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepositoryCounts {
    /// The repository.
    pub repository_id: i64,
    /// Its packages.
    pub packages: u64,
    /// Its versions.
    pub versions: u64,
}

/// A version as lists of new publishes show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentVersion {
    /// Its repository.
    pub repository_id: i64,
    /// Its package's name.
    pub package: String,
    /// The version.
    pub version: String,
    /// When it was published.
    pub created_at: Timestamp,
}

/// The order of a package list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PackageSort {
    /// By name, case-insensitively.
    #[default]
    Name,
    /// The most recently changed first.
    Updated,
    /// The most downloaded first.
    Downloads,
    /// For searches: an exact name first, then names that start with the first word, then
    /// names that contain it, then matches of the description; by name without words.
    Relevance,
}

/// Which packages to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageQuery<'a> {
    /// The repositories to list from.
    pub repository_ids: &'a [i64],
    /// Words the name or the [`DESCRIPTION`] must contain (case-insensitively), all of them.
    pub words: &'a [String],
    /// The order.
    pub sort: PackageSort,
    /// How many to skip.
    pub offset: u64,
    /// How many at most.
    pub limit: u32,
}

/// A package as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRow {
    /// The package.
    pub package: Package,
    /// Its [`DESCRIPTION`], empty when it has none.
    pub description: String,
    /// Its downloads, all days.
    pub downloads: u64,
}

/// A page of packages and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePage {
    /// The packages of the page.
    pub rows: Vec<PackageRow>,
    /// How many packages match.
    pub total: u64,
}

/// Reads for browsing, each a bounded number of queries.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Package and version counts of every repository.
    async fn repository_counts(&self) -> Result<Vec<RepositoryCounts>>;
    /// The newest versions of `repository_ids`, newest first.
    async fn recent_versions(
        &self,
        repository_ids: &[i64],
        limit: u32,
    ) -> Result<Vec<RecentVersion>>;
    /// A page of the packages `query` selects.
    async fn packages_page(&self, query: &PackageQuery<'_>) -> Result<PackagePage>;
}
