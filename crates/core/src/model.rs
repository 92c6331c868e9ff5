//! The package model, after Forgejo's: a repository holds packages, a package holds versions,
//! a version holds files, and each file points at a content-addressed blob.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::names::RepoName;
use crate::time::Timestamp;

/// How a repository gets its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// Packages are published to it.
    Hosted,
    /// A cache of an upstream registry.
    Proxy,
    /// Several repositories merged, in order.
    Group,
}

impl RepoKind {
    /// The stored and wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "hosted",
            Self::Proxy => "proxy",
            Self::Group => "group",
        }
    }

    /// Parses the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hosted" => Some(Self::Hosted),
            "proxy" => Some(Self::Proxy),
            "group" => Some(Self::Group),
            _ => None,
        }
    }
}

/// What a repository allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoPolicy {
    /// Whether a file may be replaced by a new upload of the same name.
    pub allow_overwrite: bool,
    /// The largest accepted upload in bytes; `None` for the server default.
    pub max_upload_size: Option<u64>,
    /// Whether reads need no token.
    pub anonymous_read: bool,
    /// Days a version is kept after it was published; `None` keeps it for ever.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Whether downloads answer 307 to a presigned URL of the storage (where it signs them)
    /// rather than streaming through Wharf.
    #[serde(default)]
    pub redirect_downloads: bool,
}

impl Default for RepoPolicy {
    fn default() -> Self {
        Self {
            allow_overwrite: false,
            max_upload_size: None,
            anonymous_read: true,
            retention_days: None,
            redirect_downloads: false,
        }
    }
}

/// A repository as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Database id.
    pub id: i64,
    /// Its name, unique within its format.
    pub name: RepoName,
    /// The format key (`generic`, `npm`, …).
    pub format: String,
    /// Hosted, proxy or group.
    pub kind: RepoKind,
    /// The upstream URL of a proxy repository.
    pub upstream: Option<String>,
    /// The member repository names of a group, in order.
    pub members: Vec<String>,
    /// Its policies.
    pub policy: RepoPolicy,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Repository {
    /// Refuses uploads to repositories that are not hosted.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the kind.
    pub fn ensure_hosted(&self) -> crate::Result<()> {
        if self.kind == RepoKind::Hosted {
            Ok(())
        } else {
            Err(crate::Error::invalid(format!(
                "repository {} is a {} repository: publish to a hosted repository",
                self.name,
                self.kind.as_str()
            )))
        }
    }
}

/// What is needed to create a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRepository {
    /// Its name.
    pub name: RepoName,
    /// The format key.
    pub format: String,
    /// Hosted, proxy or group.
    pub kind: RepoKind,
    /// The upstream URL of a proxy.
    pub upstream: Option<String>,
    /// Members of a group.
    pub members: Vec<String>,
    /// Policies.
    pub policy: RepoPolicy,
}

/// A package as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Database id.
    pub id: i64,
    /// The repository it belongs to.
    pub repository_id: i64,
    /// Its name as first published.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Bumped by every change to its versions, files or properties.
    pub revision: i64,
    /// When one of those changes last happened.
    pub updated_at: Timestamp,
}

impl Package {
    /// A validator of the package's current content, unique across deletions and
    /// re-creations (ids can be reused; a package starts at a random revision): for entity
    /// tags and caches of rendered documents.
    #[must_use]
    pub fn content_tag(&self) -> String {
        format!("{}.{}.{}", self.id, self.created_at.0, self.revision)
    }
}

/// A version as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Database id.
    pub id: i64,
    /// The package it belongs to.
    pub package_id: i64,
    /// The version string as published.
    pub version: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A blob's record: its digests and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// Database id.
    pub id: i64,
    /// SHA-256, the address.
    pub sha256: Sha256,
    /// SHA-1 hex.
    pub sha1: String,
    /// MD5 hex.
    pub md5: String,
    /// SHA-512 hex.
    pub sha512: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was first stored.
    pub created_at: Timestamp,
}

/// A file with its blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Database id.
    pub id: i64,
    /// The version it belongs to.
    pub version_id: i64,
    /// Its name.
    pub name: String,
    /// When it was published.
    pub created_at: Timestamp,
    /// Its content.
    pub blob: BlobRecord,
}

/// A file located in its repository: package and version names beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocatedFile {
    /// Package name.
    pub package: String,
    /// Version string.
    pub version: String,
    /// The file.
    pub file: FileEntry,
}

/// A file of a package with its version and some of its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// The version it belongs to.
    pub version: Version,
    /// The file.
    pub file: FileEntry,
    /// The requested properties it has, by name.
    pub properties: Vec<(String, String)>,
}

/// What a property hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyOwner {
    /// A package id.
    Package(i64),
    /// A version id.
    Version(i64),
    /// A file id.
    File(i64),
}

/// How much a token or user may do. Ordered: `Read < Write < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read packages.
    Read,
    /// Read and publish/delete packages.
    Write,
    /// Everything, including repositories, users and tokens.
    Admin,
}

impl Scope {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// Parses the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// The most a password login of this user may do.
    pub role: Scope,
    /// When it was created.
    pub created_at: Timestamp,
    /// A disabled user signs in with nothing: no password, token or session is accepted.
    pub disabled: bool,
}

/// A token's record, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Database id.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// A label.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// The repository it is limited to, if any.
    pub repository_id: Option<i64>,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// What is needed to store a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The owner.
    pub user_id: i64,
    /// A label.
    pub name: String,
    /// SHA-256 hex of the secret.
    pub hash: String,
    /// What it may do.
    pub scope: Scope,
    /// The repository it is limited to.
    pub repository_id: Option<i64>,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
}
