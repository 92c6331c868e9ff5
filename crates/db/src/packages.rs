//! [`PackageStore`]: packages, versions, files and properties (publishing is in
//! [`crate::publish_tx`]).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use wharf_core::Result;
use wharf_core::model::{FileEntry, LocatedFile, Package, PackageFile, PropertyOwner, Version};
use wharf_core::store::{PackageStore, PublishTx};
use wharf_core::time::Timestamp;

use crate::error::db_err;
use crate::package_cache::{self, PackageCache};
use crate::publish_tx::{Publish, bump_revision, property_table, upsert_property};
use crate::rows::{self, BLOB_COLUMNS, FILE_COLUMNS, PACKAGE_COLUMNS};
use crate::{Db, files};

const FILE_JOIN: &str = "FROM files f JOIN blobs b ON b.id = f.blob_id";

/// Removes a version left without files, then a package left without versions.
async fn prune_empty(
    tx: &mut Transaction<'static, Any>,
    version_id: Option<i64>,
    package_id: i64,
) -> Result<()> {
    if let Some(version_id) = version_id {
        sqlx::query("DELETE FROM versions WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM files WHERE version_id = $1)")
            .bind(version_id)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    sqlx::query("DELETE FROM packages WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM versions WHERE package_id = $1)")
        .bind(package_id)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl Db {
    /// A package looked up by `sql` (`$1` repository, `$2` name), through the package cache
    /// where there is one.
    async fn cached_package(&self, sql: &str, key: package_cache::Key) -> Result<Option<Package>> {
        let cache = self.packages.as_deref();
        if let Some(hit) = cache.and_then(|c| c.get(&key)) {
            return Ok(hit.0);
        }
        let generation = cache.map(PackageCache::generation);
        let package = sqlx::query(sql)
            .bind(key.0)
            .bind(&key.2)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::package)
            .transpose()?;
        if let (Some(cache), Some(generation)) = (cache, generation) {
            cache.put(generation, key, package.clone());
        }
        Ok(package)
    }

    /// Called after every committed write that can change a package row.
    pub(crate) fn packages_changed(&self) {
        if let Some(cache) = &self.packages {
            cache.changed();
        }
    }
}

#[async_trait]
impl PackageStore for Db {
    async fn begin_publish(&self) -> Result<Box<dyn PublishTx>> {
        let tx = self.write.begin().await.map_err(db_err)?;
        Ok(Box::new(Publish {
            tx,
            db: self.clone(),
        }))
    }

    async fn list_packages(
        &self,
        repository_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Package>> {
        sqlx::query(&format!(
            "SELECT {PACKAGE_COLUMNS} FROM packages \
             WHERE repository_id = $1 AND lower_name > $2 ORDER BY lower_name LIMIT $3"
        ))
        .bind(repository_id)
        .bind(after.map(str::to_lowercase).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::package)
        .collect()
    }

    async fn package(&self, repository_id: i64, name: &str) -> Result<Option<Package>> {
        let sql = format!(
            "SELECT {PACKAGE_COLUMNS} FROM packages WHERE repository_id = $1 AND lower_name = $2"
        );
        self.cached_package(&sql, (repository_id, false, name.to_lowercase()))
            .await
    }

    async fn package_by_canonical(
        &self,
        repository_id: i64,
        canonical: &str,
    ) -> Result<Option<Package>> {
        let sql = format!(
            "SELECT {PACKAGE_COLUMNS} FROM packages \
             WHERE repository_id = $1 AND canonical_name = $2"
        );
        self.cached_package(&sql, (repository_id, true, canonical.to_owned()))
            .await
    }

    async fn versions_with_properties(
        &self,
        package_id: i64,
    ) -> Result<Vec<(Version, Vec<(String, String)>)>> {
        let rows = sqlx::query(
            "SELECT v.id, v.package_id, v.version, v.created_at, p.name AS property, p.value \
             FROM versions v LEFT JOIN version_properties p ON p.owner_id = v.id \
             WHERE v.package_id = $1 ORDER BY v.created_at, v.id, p.name",
        )
        .bind(package_id)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        let mut out: Vec<(Version, Vec<(String, String)>)> = Vec::new();
        for row in &rows {
            let version = rows::version(row)?;
            let property: Option<String> = row.try_get("property").map_err(db_err)?;
            let value: Option<String> = row.try_get("value").map_err(db_err)?;
            if out.last().is_none_or(|(v, _)| v.id != version.id) {
                out.push((version, Vec::new()));
            }
            if let (Some(name), Some(value), Some((_, props))) = (property, value, out.last_mut()) {
                props.push((name, value));
            }
        }
        Ok(out)
    }

    async fn package_files(
        &self,
        package_id: i64,
        properties: &[&str],
    ) -> Result<Vec<PackageFile>> {
        let wanted = if properties.is_empty() {
            "1 = 0".to_owned()
        } else {
            let marks: Vec<String> = (2..properties.len() + 2).map(|i| format!("${i}")).collect();
            format!("fp.name IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT {FILE_COLUMNS}, {BLOB_COLUMNS}, v.package_id, v.version, \
             v.created_at AS version_created_at, fp.name AS property, fp.value {FILE_JOIN} \
             JOIN versions v ON v.id = f.version_id \
             LEFT JOIN file_properties fp ON fp.owner_id = f.id AND {wanted} \
             WHERE v.package_id = $1 ORDER BY v.created_at, v.id, f.lower_name, fp.name"
        );
        let mut query = sqlx::query(&sql).bind(package_id);
        for name in properties {
            query = query.bind(*name);
        }
        let rows = query.fetch_all(&self.read).await.map_err(db_err)?;
        let mut out: Vec<PackageFile> = Vec::new();
        for row in &rows {
            let file = rows::file(row)?;
            if out.last().is_none_or(|f| f.file.id != file.id) {
                let version = Version {
                    id: file.version_id,
                    package_id: row.try_get("package_id").map_err(db_err)?,
                    version: row.try_get("version").map_err(db_err)?,
                    created_at: Timestamp(row.try_get("version_created_at").map_err(db_err)?),
                };
                out.push(PackageFile {
                    version,
                    file,
                    properties: Vec::new(),
                });
            }
            let property: Option<String> = row.try_get("property").map_err(db_err)?;
            let value: Option<String> = row.try_get("value").map_err(db_err)?;
            if let (Some(name), Some(value), Some(last)) = (property, value, out.last_mut()) {
                last.properties.push((name, value));
            }
        }
        Ok(out)
    }

    async fn joined_version_property(
        &self,
        package_id: i64,
        joined: &str,
        maximum: &str,
    ) -> Result<(Option<String>, Option<i64>)> {
        let concat = match self.engine {
            crate::Engine::Sqlite => "group_concat(l.value, char(10) ORDER BY v.id)",
            crate::Engine::Postgres => "string_agg(l.value, chr(10) ORDER BY v.id)",
        };
        let row = sqlx::query(&format!(
            "SELECT {concat} AS joined, MAX(CAST(m.value AS BIGINT)) AS maximum FROM versions v \
             JOIN version_properties l ON l.owner_id = v.id AND l.name = $2 \
             LEFT JOIN version_properties m ON m.owner_id = v.id AND m.name = $3 \
             WHERE v.package_id = $1"
        ))
        .bind(package_id)
        .bind(joined)
        .bind(maximum)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        Ok((
            row.try_get("joined").map_err(db_err)?,
            row.try_get("maximum").map_err(db_err)?,
        ))
    }

    async fn gathered_version_properties(
        &self,
        package_id: i64,
        names: &[&str],
    ) -> Result<Vec<Option<String>>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let concat = match self.engine {
            crate::Engine::Sqlite => "group_concat(l.value, char(10))",
            crate::Engine::Postgres => "string_agg(l.value, chr(10))",
        };
        let marks: Vec<String> = (2..names.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT l.name AS name, {concat} AS joined FROM versions v \
             JOIN version_properties l ON l.owner_id = v.id AND l.name IN ({}) \
             WHERE v.package_id = $1 GROUP BY l.name",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(package_id);
        for name in names {
            query = query.bind(*name);
        }
        let mut found = HashMap::new();
        for row in query.fetch_all(&self.read).await.map_err(db_err)? {
            let name: String = row.try_get("name").map_err(db_err)?;
            let joined: Option<String> = row.try_get("joined").map_err(db_err)?;
            found.insert(name, joined);
        }
        Ok(names
            .iter()
            .map(|name| found.remove(*name).flatten())
            .collect())
    }

    async fn list_versions(&self, package_id: i64) -> Result<Vec<Version>> {
        sqlx::query("SELECT id, package_id, version, created_at FROM versions WHERE package_id = $1 ORDER BY created_at, id")
            .bind(package_id)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::version)
            .collect()
    }

    async fn versions_with_prefix(&self, package_id: i64, prefix: &str) -> Result<Vec<Version>> {
        let escaped = prefix
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sqlx::query(
            "SELECT id, package_id, version, created_at FROM versions \
             WHERE package_id = $1 AND lower_version LIKE $2 ESCAPE '\\' ORDER BY id",
        )
        .bind(package_id)
        .bind(format!("{escaped}%"))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::version)
        .collect()
    }

    async fn versions_before(
        &self,
        repository_id: i64,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Version>> {
        sqlx::query(
            "SELECT v.id, v.package_id, v.version, v.created_at FROM versions v \
             JOIN packages p ON p.id = v.package_id \
             WHERE p.repository_id = $1 AND v.created_at < $2 ORDER BY v.created_at, v.id LIMIT $3",
        )
        .bind(repository_id)
        .bind(before.0)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::version)
        .collect()
    }

    async fn version(&self, package_id: i64, version: &str) -> Result<Option<Version>> {
        sqlx::query("SELECT id, package_id, version, created_at FROM versions WHERE package_id = $1 AND lower_version = $2")
            .bind(package_id)
            .bind(version.to_lowercase())
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::version)
            .transpose()
    }

    async fn list_files(&self, version_id: i64) -> Result<Vec<FileEntry>> {
        sqlx::query(&format!(
            "SELECT {FILE_COLUMNS}, {BLOB_COLUMNS} {FILE_JOIN} WHERE f.version_id = $1 ORDER BY f.lower_name"
        ))
        .bind(version_id)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::file)
        .collect()
    }

    async fn file(
        &self,
        repository_id: i64,
        package: &str,
        version: &str,
        file: &str,
    ) -> Result<Option<FileEntry>> {
        files::file(self, repository_id, package, version, file).await
    }

    async fn package_file(
        &self,
        repository_id: i64,
        package: &str,
        file: &str,
    ) -> Result<Option<FileEntry>> {
        files::package_file(self, repository_id, package, file).await
    }

    async fn files_of_versions_named(
        &self,
        repository_id: i64,
        version: &str,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<FileEntry>> {
        files::of_versions_named(self, repository_id, version, before, limit).await
    }

    async fn list_repository_files(&self, repository_id: i64) -> Result<Vec<LocatedFile>> {
        files::of_repository(self, repository_id).await
    }

    async fn delete_file(&self, file_id: i64) -> Result<bool> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let Some(row) = sqlx::query(
            "SELECT f.version_id, v.package_id FROM files f JOIN versions v ON v.id = f.version_id WHERE f.id = $1",
        )
        .bind(file_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        else {
            return Ok(false);
        };
        let version_id: i64 = row.try_get("version_id").map_err(db_err)?;
        let package_id: i64 = row.try_get("package_id").map_err(db_err)?;
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(file_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        bump_revision(&mut tx, PropertyOwner::Package(package_id)).await?;
        prune_empty(&mut tx, Some(version_id), package_id).await?;
        tx.commit().await.map_err(db_err)?;
        self.packages_changed();
        Ok(true)
    }

    async fn delete_version(&self, version_id: i64) -> Result<bool> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let Some(row) = sqlx::query("DELETE FROM versions WHERE id = $1 RETURNING package_id")
            .bind(version_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
        else {
            return Ok(false);
        };
        let package_id: i64 = row.try_get("package_id").map_err(db_err)?;
        bump_revision(&mut tx, PropertyOwner::Package(package_id)).await?;
        prune_empty(&mut tx, None, package_id).await?;
        tx.commit().await.map_err(db_err)?;
        self.packages_changed();
        Ok(true)
    }

    async fn delete_package(&self, package_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM packages WHERE id = $1")
            .bind(package_id)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        self.packages_changed();
        Ok(done.rows_affected() == 1)
    }

    async fn properties(&self, owner: PropertyOwner) -> Result<Vec<(String, String)>> {
        let (table, id) = property_table(owner);
        sqlx::query(&format!(
            "SELECT name, value FROM {table} WHERE owner_id = $1 ORDER BY name"
        ))
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("name").map_err(db_err)?,
                r.try_get("value").map_err(db_err)?,
            ))
        })
        .collect()
    }

    async fn set_property(&self, owner: PropertyOwner, name: &str, value: &str) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let (sql, id) = upsert_property(owner);
        sqlx::query(&sql)
            .bind(id)
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        bump_revision(&mut tx, owner).await?;
        tx.commit().await.map_err(db_err)?;
        self.packages_changed();
        Ok(())
    }

    async fn delete_property(&self, owner: PropertyOwner, name: &str) -> Result<bool> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let (table, id) = property_table(owner);
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE owner_id = $1 AND name = $2"
        ))
        .bind(id)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        bump_revision(&mut tx, owner).await?;
        tx.commit().await.map_err(db_err)?;
        self.packages_changed();
        Ok(done.rows_affected() == 1)
    }
}
