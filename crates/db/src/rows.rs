//! Decoding rows into model types. Column lists are kept beside the decoders that read them.

use sqlx::Row;
use sqlx::any::AnyRow;
use wharf_core::digest::Sha256;
use wharf_core::model::{
    BlobRecord, FileEntry, Package, RepoKind, RepoPolicy, Repository, Scope, TokenInfo, User,
    Version,
};
use wharf_core::names::RepoName;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

use crate::error::db_err;

pub(crate) const PACKAGE_COLUMNS: &str =
    "id, repository_id, name, created_at, revision, updated_at";
pub(crate) const REPOSITORY_COLUMNS: &str = "id, name, format, kind, upstream, members, allow_overwrite, max_upload_size, anonymous_read, retention_days, redirect_downloads, created_at";

fn corrupt(what: &str) -> Error {
    Error::internal_msg(format!("database holds an invalid {what}"))
}

pub(crate) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn repository(row: &AnyRow) -> Result<Repository> {
    let name: String = row.try_get("name").map_err(db_err)?;
    let kind: String = row.try_get("kind").map_err(db_err)?;
    let members: String = row.try_get("members").map_err(db_err)?;
    let max: Option<i64> = row.try_get("max_upload_size").map_err(db_err)?;
    let retention: Option<i64> = row.try_get("retention_days").map_err(db_err)?;
    Ok(Repository {
        id: row.try_get("id").map_err(db_err)?,
        name: RepoName::new(name).map_err(|_| corrupt("repository name"))?,
        format: row.try_get("format").map_err(db_err)?,
        kind: RepoKind::parse(&kind).ok_or_else(|| corrupt("repository kind"))?,
        upstream: row.try_get("upstream").map_err(db_err)?,
        members: serde_json::from_str(&members).map_err(|_| corrupt("member list"))?,
        policy: RepoPolicy {
            allow_overwrite: row.try_get::<i64, _>("allow_overwrite").map_err(db_err)? != 0,
            max_upload_size: max.map(u64_of),
            anonymous_read: row.try_get::<i64, _>("anonymous_read").map_err(db_err)? != 0,
            retention_days: retention.and_then(|d| u32::try_from(d).ok()),
            redirect_downloads: row
                .try_get::<i64, _>("redirect_downloads")
                .map_err(db_err)?
                != 0,
        },
        created_at: Timestamp(row.try_get("created_at").map_err(db_err)?),
    })
}

pub(crate) fn package(row: &AnyRow) -> Result<Package> {
    Ok(Package {
        id: row.try_get("id").map_err(db_err)?,
        repository_id: row.try_get("repository_id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        created_at: Timestamp(row.try_get("created_at").map_err(db_err)?),
        revision: row.try_get("revision").map_err(db_err)?,
        updated_at: Timestamp(row.try_get("updated_at").map_err(db_err)?),
    })
}

pub(crate) fn version(row: &AnyRow) -> Result<Version> {
    Ok(Version {
        id: row.try_get("id").map_err(db_err)?,
        package_id: row.try_get("package_id").map_err(db_err)?,
        version: row.try_get("version").map_err(db_err)?,
        created_at: Timestamp(row.try_get("created_at").map_err(db_err)?),
    })
}

pub(crate) const BLOB_COLUMNS: &str =
    "b.id AS blob_id, b.sha256, b.sha1, b.md5, b.sha512, b.size, b.created_at AS blob_created_at";

pub(crate) fn blob(row: &AnyRow) -> Result<BlobRecord> {
    let sha: String = row.try_get("sha256").map_err(db_err)?;
    Ok(BlobRecord {
        id: row.try_get("blob_id").map_err(db_err)?,
        sha256: Sha256::parse(&sha).map_err(|_| corrupt("blob digest"))?,
        sha1: row.try_get("sha1").map_err(db_err)?,
        md5: row.try_get("md5").map_err(db_err)?,
        sha512: row.try_get("sha512").map_err(db_err)?,
        size: u64_of(row.try_get("size").map_err(db_err)?),
        created_at: Timestamp(row.try_get("blob_created_at").map_err(db_err)?),
    })
}

pub(crate) const FILE_COLUMNS: &str =
    "f.id AS file_id, f.version_id, f.name AS file_name, f.created_at AS file_created_at";

pub(crate) fn file(row: &AnyRow) -> Result<FileEntry> {
    Ok(FileEntry {
        id: row.try_get("file_id").map_err(db_err)?,
        version_id: row.try_get("version_id").map_err(db_err)?,
        name: row.try_get("file_name").map_err(db_err)?,
        created_at: Timestamp(row.try_get("file_created_at").map_err(db_err)?),
        blob: blob(row)?,
    })
}

pub(crate) const USER_COLUMNS: &str = "u.id AS user_id, u.name AS user_name, u.role, u.created_at AS user_created_at, u.disabled AS user_disabled";

pub(crate) fn user(row: &AnyRow) -> Result<User> {
    let role: String = row.try_get("role").map_err(db_err)?;
    Ok(User {
        id: row.try_get("user_id").map_err(db_err)?,
        name: row.try_get("user_name").map_err(db_err)?,
        role: Scope::parse(&role).ok_or_else(|| corrupt("user role"))?,
        created_at: Timestamp(row.try_get("user_created_at").map_err(db_err)?),
        disabled: row.try_get::<i64, _>("user_disabled").map_err(db_err)? != 0,
    })
}

pub(crate) const TOKEN_COLUMNS: &str = "t.id AS token_id, t.user_id AS token_user_id, t.name AS token_name, t.scope, t.repository_id, t.expires_at, t.created_at AS token_created_at";

pub(crate) fn token(row: &AnyRow) -> Result<TokenInfo> {
    let scope: String = row.try_get("scope").map_err(db_err)?;
    let expires: Option<i64> = row.try_get("expires_at").map_err(db_err)?;
    Ok(TokenInfo {
        id: row.try_get("token_id").map_err(db_err)?,
        user_id: row.try_get("token_user_id").map_err(db_err)?,
        name: row.try_get("token_name").map_err(db_err)?,
        scope: Scope::parse(&scope).ok_or_else(|| corrupt("token scope"))?,
        repository_id: row.try_get("repository_id").map_err(db_err)?,
        expires_at: expires.map(Timestamp),
        created_at: Timestamp(row.try_get("token_created_at").map_err(db_err)?),
    })
}
