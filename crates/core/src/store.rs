//! The metadata store, as traits split by aggregate. The `db` crate implements them for SQLite
//! and PostgreSQL; use cases and the server only see these traits.

use async_trait::async_trait;

use crate::Result;
use crate::digest::{Digests, Sha256};
use crate::model::{
    BlobRecord, FileEntry, LocatedFile, NewRepository, NewToken, Package, PackageFile,
    PropertyOwner, RepoPolicy, Repository, Scope, TokenInfo, User, Version,
};
use crate::time::Timestamp;

/// Repositories.
#[async_trait]
pub trait RepositoryStore: Send + Sync {
    /// Creates a repository. [`crate::Error::Conflict`] when the name is taken in the format.
    async fn create_repository(&self, new: &NewRepository) -> Result<Repository>;
    /// A repository by format and name.
    async fn repository(&self, format: &str, name: &str) -> Result<Option<Repository>>;
    /// Every repository, by format then name.
    async fn list_repositories(&self) -> Result<Vec<Repository>>;
    /// Replaces a repository's policies; `false` when it does not exist.
    async fn update_policy(&self, id: i64, policy: &RepoPolicy) -> Result<bool>;
    /// Deletes a repository and everything in it (blobs are left to GC); `false` when absent.
    async fn delete_repository(&self, id: i64) -> Result<bool>;
}

/// One publish, or one change of a package's metadata, as one transaction: dropped without
/// [`PublishTx::commit`], it leaves no trace.
#[async_trait]
pub trait PublishTx: Send {
    /// The package's id, creating it (`true`) when new, with `canonical` as its canonical
    /// name, and bumps its revision. Names compare case-insensitively.
    async fn package(
        &mut self,
        repository_id: i64,
        name: &str,
        canonical: &str,
    ) -> Result<(i64, bool)>;
    /// The version's id, creating it (`true`) when new.
    async fn version(&mut self, package_id: i64, version: &str) -> Result<(i64, bool)>;
    /// An existing file of that name in the version: `(file id, blob id)`.
    async fn file(&mut self, version_id: i64, name: &str) -> Result<Option<(i64, i64)>>;
    /// Removes a file (for overwrites).
    async fn remove_file(&mut self, file_id: i64) -> Result<()>;
    /// Adds a file. [`crate::Error::Conflict`] when the name exists in the version.
    async fn insert_file(&mut self, version_id: i64, name: &str, blob_id: i64) -> Result<i64>;
    /// Sets a property, replacing a previous value of the same name.
    async fn set_property(&mut self, owner: PropertyOwner, name: &str, value: &str) -> Result<()>;
    /// The SHA-256 (hex) a deleted file of these keys held, if the repository keeps its
    /// tombstone ([`TombstoneStore`]).
    async fn tombstone(
        &mut self,
        repository_id: i64,
        package_key: &str,
        version_key: &str,
        file_key: &str,
    ) -> Result<Option<String>>;
    /// Deletes a version with its files and properties, first recording their tombstones when
    /// `tombstone` is set ([`TombstoneStore`]); `false` when it was not there. The package stays,
    /// even if emptied: callers that change a package keep at least one version.
    async fn delete_version(&mut self, version_id: i64, tombstone: bool) -> Result<bool>;
    /// Removes a property; `false` when it was not set.
    async fn delete_property(&mut self, owner: PropertyOwner, name: &str) -> Result<bool>;
    /// Bumps a package's revision (what a change without [`PublishTx::package`] calls once).
    async fn touch_package(&mut self, package_id: i64) -> Result<()>;
    /// Drops a blob pin, in the same transaction that references the blob.
    async fn release_pin(&mut self, pin_id: i64) -> Result<()>;
    /// Makes everything visible at once.
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Packages, versions and files.
#[async_trait]
pub trait PackageStore: Send + Sync {
    /// Starts a publish transaction.
    async fn begin_publish(&self) -> Result<Box<dyn PublishTx>>;
    /// Packages of a repository by name, after `after` (a name), at most `limit`.
    async fn list_packages(
        &self,
        repository_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Package>>;
    /// Every package of a repository by name, read a thousand at a time.
    async fn all_packages(&self, repository_id: i64) -> Result<Vec<Package>> {
        const PAGE: u32 = 1000;
        let mut all: Vec<Package> = Vec::new();
        loop {
            let after = all.last().map(|p| p.name.clone());
            let page = self
                .list_packages(repository_id, after.as_deref(), PAGE)
                .await?;
            let full = page.len() == PAGE as usize;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }
    /// A package by name (case-insensitive). Its revision is bumped by every publish,
    /// deletion and property change inside it.
    async fn package(&self, repository_id: i64, name: &str) -> Result<Option<Package>>;
    /// A package by its canonical name (as the format defined it at creation).
    async fn package_by_canonical(
        &self,
        repository_id: i64,
        canonical: &str,
    ) -> Result<Option<Package>>;
    /// The versions of a package, oldest first.
    async fn list_versions(&self, package_id: i64) -> Result<Vec<Version>>;
    /// In one row from the database: the values of the version property `joined` across a
    /// package's versions, oldest first, joined by newlines (`None` when no version has it),
    /// and the largest integer value of the version property `maximum`. The fast path of
    /// documents made of one line per version, such as cargo index files.
    async fn joined_version_property(
        &self,
        package_id: i64,
        joined: &str,
        maximum: &str,
    ) -> Result<(Option<String>, Option<i64>)>;
    /// In one query: for each of `names`, the values of that version property across a
    /// package's versions, in no particular order, joined by newlines (`None` when no version
    /// has it). The fastest read of documents whose members are keyed, such as npm packuments.
    async fn gathered_version_properties(
        &self,
        package_id: i64,
        names: &[&str],
    ) -> Result<Vec<Option<String>>>;
    /// The versions of a package, oldest first, each with its properties, in one query (the
    /// path that renders a format's metadata document).
    async fn versions_with_properties(
        &self,
        package_id: i64,
    ) -> Result<Vec<(Version, Vec<(String, String)>)>>;
    /// Every file of a package, oldest version first, each with its version and those of its
    /// properties named in `properties`, in one query (the path that renders listings of
    /// many files, such as PyPI's simple pages).
    async fn package_files(&self, package_id: i64, properties: &[&str])
    -> Result<Vec<PackageFile>>;
    /// The versions whose string starts with `prefix` (case-insensitive), e.g. every build of
    /// one semver version.
    async fn versions_with_prefix(&self, package_id: i64, prefix: &str) -> Result<Vec<Version>>;
    /// A version by its string (case-insensitive).
    async fn version(&self, package_id: i64, version: &str) -> Result<Option<Version>>;
    /// Up to `limit` versions of a repository published before `before`, oldest first (what
    /// a retention period removes).
    async fn versions_before(
        &self,
        repository_id: i64,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Version>>;
    /// The files of a version, by name.
    async fn list_files(&self, version_id: i64) -> Result<Vec<FileEntry>>;
    /// One file by package, version and file name, in one query (the download path).
    async fn file(
        &self,
        repository_id: i64,
        package: &str,
        version: &str,
        file: &str,
    ) -> Result<Option<FileEntry>>;
    /// A file of that name in any version of a package (the first stored), in one query: a
    /// content-addressed name (an OCI blob's digest) is found wherever the package holds it.
    async fn package_file(
        &self,
        repository_id: i64,
        package: &str,
        file: &str,
    ) -> Result<Option<FileEntry>>;
    /// Up to `limit` files published before `before` in the versions named `version` of a
    /// repository's packages, oldest first (what a format's upkeep expires, such as OCI blobs
    /// no manifest took).
    async fn files_of_versions_named(
        &self,
        repository_id: i64,
        version: &str,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<FileEntry>>;
    /// Every file of a repository with its package and version (for flat listings).
    async fn list_repository_files(&self, repository_id: i64) -> Result<Vec<LocatedFile>>;
    /// Deletes a file; an emptied version and package go with it. `false` when absent.
    async fn delete_file(&self, file_id: i64) -> Result<bool>;
    /// Deletes a version and its files; an emptied package goes with it.
    async fn delete_version(&self, version_id: i64) -> Result<bool>;
    /// Deletes a package with its versions and files.
    async fn delete_package(&self, package_id: i64) -> Result<bool>;
    /// The properties of something, by name.
    async fn properties(&self, owner: PropertyOwner) -> Result<Vec<(String, String)>>;
    /// Sets a property outside a publish (yank flags, owners).
    async fn set_property(&self, owner: PropertyOwner, name: &str, value: &str) -> Result<()>;
    /// Removes a property; `false` when it was not set.
    async fn delete_property(&self, owner: PropertyOwner, name: &str) -> Result<bool>;
}

/// A publisher's hold on a blob row: while the pin lives, GC cannot condemn the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobClaim {
    /// The blob's id.
    pub blob_id: i64,
    /// The pin's id, released when the file referencing the blob is committed.
    pub pin_id: i64,
}

/// A blob that garbage collection may remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcCandidate {
    /// The blob.
    pub blob: BlobRecord,
    /// Its claim counter when it was listed; condemning checks it has not moved.
    pub claim_seq: i64,
    /// Whether an interrupted collection already condemned it.
    pub condemned: bool,
}

/// Blob records, and the garbage collector's side of the blob lifecycle.
///
/// The race between a publish and GC is closed by construction: a publish first claims the
/// blob (one atomic upsert that bumps `claim_seq` and adds a pin, refused while the blob is
/// condemned), then stores the object, then references the blob and drops the pin in one
/// transaction. GC condemns a blob only with one atomic update that re-checks `claim_seq`, the
/// absence of live pins and of references; it deletes the object only after that, and the row
/// last. So every state a reader can see has either a pin, a reference, or a condemned row
/// that publishers wait for.
#[async_trait]
pub trait BlobIndex: Send + Sync {
    /// A blob by digest.
    async fn blob(&self, sha256: &Sha256) -> Result<Option<BlobRecord>>;
    /// Records (or finds) a blob and pins it until `pin_until`. `None` while GC has it
    /// condemned: the caller waits and tries again.
    async fn claim_blob(
        &self,
        digests: &Digests,
        size: u64,
        now: Timestamp,
        pin_until: Timestamp,
    ) -> Result<Option<BlobClaim>>;
    /// Drops a pin after a failed publish.
    async fn release_pin(&self, pin_id: i64) -> Result<()>;
    /// Blobs with id above `after_id` that no file references, no live pin holds, and nobody
    /// claimed since `before` — plus blobs left condemned by an interrupted collection.
    async fn gc_candidates(
        &self,
        before: Timestamp,
        now: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<GcCandidate>>;
    /// Condemns a candidate if it is still unreferenced, unpinned and unclaimed since it was
    /// listed (`claim_seq` unchanged). `false` when anything moved.
    async fn condemn_blob(&self, id: i64, claim_seq: i64, now: Timestamp) -> Result<bool>;
    /// Removes a condemned blob's row once its object is gone.
    async fn forget_blob(&self, id: i64) -> Result<()>;
    /// Every blob record by id, after `after_id`, at most `limit` (for fsck).
    async fn blobs_after(&self, after_id: i64, limit: u32) -> Result<Vec<BlobRecord>>;
    /// Whether any file references the blob.
    async fn blob_referenced(&self, id: i64) -> Result<bool>;
    /// Number of blobs and their total size.
    async fn blob_totals(&self) -> Result<(u64, u64)>;
}

/// What an admin changes of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    /// A new role.
    pub role: Option<Scope>,
    /// A new password's argon2 hash.
    pub password_hash: Option<String>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

/// Users and API tokens.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user. [`crate::Error::Conflict`] when the name is taken.
    async fn create_user(&self, name: &str, password_hash: &str, role: Scope) -> Result<User>;
    /// A user with its password hash.
    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Every user.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Deletes a user and their tokens.
    async fn delete_user(&self, id: i64) -> Result<bool>;
    /// A user by id.
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    /// Changes what `change` sets of a user; `false` when there is no such user.
    async fn update_user(&self, id: i64, change: &UserChange) -> Result<bool>;
    /// Stores a token's hash.
    async fn create_token(&self, token: &NewToken) -> Result<TokenInfo>;
    /// The token with this hash and its user, if it has not expired at `now`.
    async fn token_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<(TokenInfo, User)>>;
    /// A user's tokens.
    async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>>;
    /// Deletes one of a user's tokens.
    async fn delete_token(&self, user_id: i64, token_id: i64) -> Result<bool>;
    /// Removes the tokens that expired by `now` (registry logins mint short-lived ones);
    /// how many.
    async fn delete_expired_tokens(&self, now: Timestamp) -> Result<u64>;
    /// Number of users, to tell a fresh installation.
    async fn count_users(&self) -> Result<u64>;
}

/// A metadata document fetched from a proxy repository's upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedDocument {
    /// The upstream's status: 200, or 404 remembered for a while.
    pub status: u16,
    /// The upstream's `ETag`, to revalidate with.
    pub etag: Option<String>,
    /// The upstream's `Last-Modified`, to revalidate with.
    pub last_modified: Option<String>,
    /// When it was fetched or last revalidated.
    pub fetched_at: Timestamp,
    /// The document.
    pub body: Vec<u8>,
}

/// The cache of upstream metadata documents, keyed by repository and a format-defined key.
#[async_trait]
pub trait UpstreamCacheStore: Send + Sync {
    /// A cached document.
    async fn cached(&self, repository_id: i64, key: &str) -> Result<Option<CachedDocument>>;
    /// Stores (or replaces) a document.
    async fn store_cached(&self, repository_id: i64, key: &str, doc: &CachedDocument)
    -> Result<()>;
    /// Marks a document as revalidated at `at`.
    async fn touch_cached(&self, repository_id: i64, key: &str, at: Timestamp) -> Result<()>;
}

/// Leases: exactly one holder at a time does a named background job.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes or renews the lease `name` for `holder` until `until`, if it is free, expired, or
    /// already held by `holder`.
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool>;
    /// Gives the lease up if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
}

/// Downloads of one version on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadCount {
    /// The version string.
    pub version: String,
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// How many downloads.
    pub count: u64,
}

/// Analytics events clients reported for one name of a repository on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    /// The repository they were reported to.
    pub repository_id: i64,
    /// What happened (`install`, `install_on_request`, `build_error`).
    pub category: String,
    /// The package name, which need not be stored.
    pub name: String,
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// How many.
    pub count: u64,
}

/// Download counts, per version and day, and reported analytics events, per name and day;
/// several instances add to them.
#[async_trait]
pub trait DownloadStore: Send + Sync {
    /// Adds `(version id, day, count)` counts in one transaction (versions deleted meanwhile
    /// are skipped).
    async fn add_downloads(&self, counts: &[(i64, i64, u64)]) -> Result<()>;
    /// A package's counts from day `since` on, by day then version.
    async fn downloads(&self, package_id: i64, since: i64) -> Result<Vec<DownloadCount>>;
    /// Downloads from day `since` on of each package of a repository that has any, by name.
    async fn repository_downloads(
        &self,
        repository_id: i64,
        since: i64,
    ) -> Result<Vec<(String, u64)>>;
    /// Adds event counts in one transaction (repositories deleted meanwhile are skipped).
    async fn add_events(&self, events: &[EventCount]) -> Result<()>;
    /// Events of `category` reported to a repository from day `since` on, by name.
    async fn event_totals(
        &self,
        repository_id: i64,
        category: &str,
        since: i64,
    ) -> Result<Vec<(String, u64)>>;
}

/// Where a deleted file's name stays taken: formats whose versions may never come back with
/// other content (cargo, npm, PyPI) keep a tombstone of every file they delete — the package's
/// canonical name, the lower-case version and file names, and the SHA-256 it held. A publish of
/// the same names with another SHA-256 is refused in its transaction
/// ([`PublishTx::tombstone`]).
#[async_trait]
pub trait TombstoneStore: Send + Sync {
    /// Records the tombstone of a file.
    async fn tombstone_file(&self, file_id: i64) -> Result<()>;
    /// Records the tombstones of every file of a version.
    async fn tombstone_version(&self, version_id: i64) -> Result<()>;
    /// Records the tombstones of every file of every version of a package.
    async fn tombstone_package(&self, package_id: i64) -> Result<()>;
    /// Removes the tombstones of `version` of the package named `package` (its canonical or
    /// its lower-case name) in a repository, so that the version may be published anew;
    /// how many went.
    async fn purge_tombstones(
        &self,
        repository_id: i64,
        package: &str,
        version: &str,
    ) -> Result<u64>;
}

/// The whole metadata store.
#[async_trait]
pub trait MetadataStore:
    RepositoryStore
    + PackageStore
    + BlobIndex
    + UserStore
    + LeaseStore
    + UpstreamCacheStore
    + DownloadStore
    + TombstoneStore
    + crate::uploads::UploadStore
    + crate::catalog::CatalogStore
    + crate::sessions::SessionStore
{
    /// Answers when the database does (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    /// Which engine this is (`sqlite` or `postgres`).
    fn backend(&self) -> &'static str;
}
