//! Reads of files located by repository, package and version (the part of [`PackageStore`]
//! that joins all four): the download path, a name anywhere in a package, the files of
//! versions of one name by age, and a repository's flat listing.
//!
//! [`PackageStore`]: wharf_core::store::PackageStore

use sqlx::Row;
use wharf_core::Result;
use wharf_core::model::{FileEntry, LocatedFile};
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, BLOB_COLUMNS, FILE_COLUMNS};

/// Files with their blob, version and package (`f`, `b`, `v`, `p`), filtered by `filter`.
fn located(extra_columns: &str, filter: &str) -> String {
    format!(
        "SELECT {FILE_COLUMNS}, {BLOB_COLUMNS}{extra_columns} FROM files f \
         JOIN blobs b ON b.id = f.blob_id JOIN versions v ON v.id = f.version_id \
         JOIN packages p ON p.id = v.package_id WHERE {filter}"
    )
}

pub(crate) async fn file(
    db: &Db,
    repository_id: i64,
    package: &str,
    version: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    sqlx::query(&located(
        "",
        "p.repository_id = $1 AND p.lower_name = $2 AND v.lower_version = $3 AND f.lower_name = $4",
    ))
    .bind(repository_id)
    .bind(package.to_lowercase())
    .bind(version.to_lowercase())
    .bind(file.to_lowercase())
    .fetch_optional(&db.read)
    .await
    .map_err(db_err)?
    .as_ref()
    .map(rows::file)
    .transpose()
}

pub(crate) async fn package_file(
    db: &Db,
    repository_id: i64,
    package: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    sqlx::query(&located(
        "",
        "p.repository_id = $1 AND p.lower_name = $2 AND f.lower_name = $3 ORDER BY f.id LIMIT 1",
    ))
    .bind(repository_id)
    .bind(package.to_lowercase())
    .bind(file.to_lowercase())
    .fetch_optional(&db.read)
    .await
    .map_err(db_err)?
    .as_ref()
    .map(rows::file)
    .transpose()
}

pub(crate) async fn of_versions_named(
    db: &Db,
    repository_id: i64,
    version: &str,
    before: Timestamp,
    limit: u32,
) -> Result<Vec<FileEntry>> {
    let rows = sqlx::query(&located(
        "",
        "p.repository_id = $1 AND v.lower_version = $2 AND f.created_at < $3 \
         ORDER BY f.id LIMIT $4",
    ))
    .bind(repository_id)
    .bind(version.to_lowercase())
    .bind(before.0)
    .bind(i64::from(limit))
    .fetch_all(&db.read)
    .await
    .map_err(db_err)?;
    rows.iter().map(rows::file).collect()
}

pub(crate) async fn of_repository(db: &Db, repository_id: i64) -> Result<Vec<LocatedFile>> {
    let rows = sqlx::query(&located(
        ", p.name AS package_name, v.version",
        "p.repository_id = $1 ORDER BY p.lower_name, v.id, f.lower_name",
    ))
    .bind(repository_id)
    .fetch_all(&db.read)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            Ok(LocatedFile {
                package: row.try_get("package_name").map_err(db_err)?,
                version: row.try_get("version").map_err(db_err)?,
                file: rows::file(row)?,
            })
        })
        .collect()
}
