//! Wire types of the management API.

use serde::{Deserialize, Serialize};

use super::whole;
use utoipa::ToSchema;
use wharf_core::model::{FileEntry, Package, Repository, TokenInfo, User, Version};

/// A repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryView {
    /// Name, unique within the format.
    pub name: String,
    /// Format key (`generic`, `npm`, …).
    pub format: String,
    /// `hosted`, `proxy` or `group`.
    pub kind: String,
    /// Upstream URL of a proxy.
    pub upstream: Option<String>,
    /// Members of a group, in order.
    pub members: Vec<String>,
    /// Whether files may be replaced.
    pub allow_overwrite: bool,
    /// Upload limit in bytes (`null`: the server default).
    pub max_upload_size: Option<u64>,
    /// Whether reads need no token.
    pub anonymous_read: bool,
    /// Days a version is kept after its publish (`null`: for ever).
    pub retention_days: Option<u32>,
    /// Whether downloads answer 307 to a presigned storage URL.
    pub redirect_downloads: bool,
    /// Where clients find it, relative to the server.
    pub path: String,
    /// RFC 3339.
    pub created_at: String,
}

impl RepositoryView {
    /// The view of `r`, its path from its format's URL prefix.
    #[must_use]
    pub fn of(r: &Repository, state: &crate::AppState) -> Self {
        let prefix = state
            .format(&r.format)
            .map_or_else(|| format!("/{}/", r.format), |f| f.url_prefix);
        Self {
            name: r.name.to_string(),
            format: r.format.clone(),
            kind: r.kind.as_str().to_owned(),
            upstream: r.upstream.clone(),
            members: r.members.clone(),
            allow_overwrite: r.policy.allow_overwrite,
            max_upload_size: r.policy.max_upload_size,
            anonymous_read: r.policy.anonymous_read,
            retention_days: r.policy.retention_days,
            redirect_downloads: r.policy.redirect_downloads,
            path: format!("{prefix}{}/", r.name),
            created_at: r.created_at.rfc3339(),
        }
    }
}

/// A new repository.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepository {
    /// Name: 1–64 ASCII letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Format key; one of the compiled-in formats.
    pub format: String,
    /// `hosted` (default), `proxy` or `group`, where the format implements it.
    #[serde(default)]
    pub kind: Option<String>,
    /// Upstream URL (proxy); default: the format's public registry, where it has one.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Member repository names (group).
    #[serde(default)]
    pub members: Vec<String>,
    /// Default `false`.
    #[serde(default)]
    pub allow_overwrite: Option<bool>,
    /// Upload limit in bytes; default (or `0`): the server's limit.
    #[serde(default, deserialize_with = "whole::option")]
    pub max_upload_size: Option<u64>,
    /// Default `true`.
    #[serde(default)]
    pub anonymous_read: Option<bool>,
    /// Days a version is kept after its publish; default (or `0`): for ever.
    #[serde(default, deserialize_with = "whole::option")]
    pub retention_days: Option<u32>,
    /// Answer downloads with 307 to a presigned storage URL (S3); default `false`.
    #[serde(default)]
    pub redirect_downloads: Option<bool>,
}

/// A change of policies; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepository {
    /// Whether files may be replaced.
    #[serde(default)]
    pub allow_overwrite: Option<bool>,
    /// Upload limit in bytes; `0` restores the server default.
    #[serde(default, deserialize_with = "whole::option")]
    pub max_upload_size: Option<u64>,
    /// Whether reads need no token.
    #[serde(default)]
    pub anonymous_read: Option<bool>,
    /// Days a version is kept after its publish; `0` keeps versions for ever.
    #[serde(default, deserialize_with = "whole::option")]
    pub retention_days: Option<u32>,
    /// Answer downloads with 307 to a presigned storage URL (S3).
    #[serde(default)]
    pub redirect_downloads: Option<bool>,
}

/// A package, with its versions when asked for one package.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageView {
    /// Name as first published.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// Versions, oldest first (only on the single-package route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionSummary>>,
}

impl PackageView {
    pub(crate) fn new(p: &Package, versions: Option<Vec<VersionSummary>>) -> Self {
        Self {
            name: p.name.clone(),
            created_at: p.created_at.rfc3339(),
            versions,
        }
    }
}

/// A version in a package listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    /// The version string.
    pub version: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&Version> for VersionSummary {
    fn from(v: &Version) -> Self {
        Self {
            version: v.version.clone(),
            created_at: v.created_at.rfc3339(),
        }
    }
}

/// A version with its files.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// Package name.
    pub package: String,
    /// The version string.
    pub version: String,
    /// RFC 3339.
    pub created_at: String,
    /// Its files.
    pub files: Vec<FileView>,
}

/// A file with its digests.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 hex.
    pub sha256: String,
    /// SHA-1 hex; absent when the file's format does not compute it (OCI, cargo, PyPI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// MD5 hex; absent when the file's format does not compute it (OCI, cargo, npm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// SHA-512 hex; absent when the file's format does not compute it (OCI, cargo, PyPI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&FileEntry> for FileView {
    fn from(f: &FileEntry) -> Self {
        let known = |hex: &str| (!hex.is_empty()).then(|| hex.to_owned());
        Self {
            name: f.name.clone(),
            size: f.blob.size,
            sha256: f.blob.sha256.to_string(),
            sha1: known(&f.blob.sha1),
            md5: known(&f.blob.md5),
            sha512: known(&f.blob.sha512),
            created_at: f.created_at.rfc3339(),
        }
    }
}

/// Why a version is yanked.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct YankRequest {
    /// A reason shown to users (PyPI shows it; cargo has none).
    #[serde(default)]
    pub reason: Option<String>,
}

/// How a version is deleted.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Admins only: delete without leaving a tombstone, and remove the tombstones of a
    /// version deleted before, so that the version may be published anew with other content.
    #[serde(default)]
    pub purge: bool,
}

/// Paging of package listings.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Return packages whose name sorts after this one.
    pub after: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Login name.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            role: u.role.as_str().to_owned(),
            created_at: u.created_at.rfc3339(),
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name.
    pub name: String,
    /// Password (at least 8 characters).
    pub password: String,
    /// `read`, `write` (default) or `admin`.
    #[serde(default)]
    pub role: Option<String>,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// Login name.
    pub name: String,
    /// The user's role.
    pub role: String,
    /// What this request may do.
    pub scope: String,
    /// `token` or `password`.
    pub authenticated_by: String,
}

/// A token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Id, for deletion.
    pub id: i64,
    /// Label.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// `format/name` of the only repository it works on, if limited.
    pub repository: Option<String>,
    /// RFC 3339, if it expires.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl TokenView {
    pub(crate) fn new(t: &TokenInfo, repository: Option<String>) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            scope: t.scope.as_str().to_owned(),
            repository,
            expires_at: t.expires_at.map(wharf_core::time::Timestamp::rfc3339),
            created_at: t.created_at.rfc3339(),
        }
    }
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Label.
    pub name: String,
    /// `read`, `write` or `admin`; at most the caller's own. Default `write`.
    #[serde(default)]
    pub scope: Option<String>,
    /// `format/name` to limit the token to one repository.
    #[serde(default)]
    pub repository: Option<String>,
    /// Lifetime such as `30d` or `12h`; none for a token that does not expire.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// A created token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, to send as `Authorization: Bearer …`.
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub info: TokenView,
}

/// Options of a collection.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GcRequest {
    /// Keep unreferenced blobs younger than this (`0s` for none); default: the server's.
    #[serde(default)]
    pub grace: Option<String>,
}

/// What a collection did.
#[derive(Debug, Serialize, ToSchema)]
pub struct GcResult {
    /// Blobs deleted.
    pub deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Temporary objects of crashed uploads removed.
    pub temp_removed: u64,
    /// Versions removed because their repository's retention period had passed.
    pub versions_expired: u64,
    /// Parts of abandoned resumable uploads (OCI upload sessions) removed.
    pub upload_parts_removed: u64,
    /// Expired tokens removed (registry logins mint short-lived ones).
    pub tokens_expired: u64,
    /// What the formats' upkeep unlinked before the collection (OCI: blobs pushed and left
    /// unreferenced by any manifest for longer than the grace period).
    pub upkeep_removed: u64,
}
