//! What people browse: repositories with their counts, the newest versions, and packages
//! listed, sorted, filtered and paged in the database — the reads behind the web UI, bounded
//! whatever the size of a repository.

use async_trait::async_trait;

use crate::Result;
use crate::model::Package;
use crate::time::Timestamp;
use crate::usecases::PropertyTarget;

/// The package property formats keep a package's one-line description in (what its latest
/// publish said), for lists and search.
pub const DESCRIPTION: &str = "description";
/// The package property formats keep a package's keywords in, separated by spaces, for search.
pub const KEYWORDS: &str = "keywords";

/// The longest description kept, in characters.
const MAX_DESCRIPTION: usize = 1000;
/// The most keywords kept.
const MAX_KEYWORDS: usize = 50;

/// The package properties a publish sets so that lists and search show the package: its
/// [`DESCRIPTION`] (whitespace collapsed, at most 1,000 characters) and its [`KEYWORDS`]
/// (lower case, at most 50). Empty values are set too, so a new publish without them clears
/// the old ones.
pub fn listing<'a>(
    description: Option<&str>,
    keywords: impl IntoIterator<Item = &'a str>,
) -> Vec<(PropertyTarget, String, String)> {
    let description: String = description
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_DESCRIPTION)
        .collect();
    let keywords: Vec<String> = keywords
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(str::to_lowercase)
        .take(MAX_KEYWORDS)
        .collect();
    vec![
        (PropertyTarget::Package, DESCRIPTION.to_owned(), description),
        (
            PropertyTarget::Package,
            KEYWORDS.to_owned(),
            keywords.join(" "),
        ),
    ]
}

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
    /// Words the name, the [`DESCRIPTION`] or the [`KEYWORDS`] must contain
    /// (case-insensitively), all of them.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_tidy_and_bounded() {
        let long = "x".repeat(2000);
        let set = listing(Some("  A  pad\n\tfor strings "), ["Pad", "left pad"]);
        assert_eq!(set[0].2, "A pad for strings");
        assert_eq!(set[1].2, "pad left pad");
        let bounded = listing(Some(&long), std::iter::repeat_n("k", 80));
        assert_eq!(bounded[0].2.len(), 1000);
        assert_eq!(bounded[1].2.split(' ').count(), 50);
        assert_eq!(listing(None, [])[0].2, "");
    }
}
