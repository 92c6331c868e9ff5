//! The [`PublishTx`] of both engines: one database transaction per publish, and the helpers
//! it shares with the package store (property tables and statements).

use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use wharf_core::model::PropertyOwner;
use wharf_core::store::PublishTx;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

use crate::error::db_err;

/// A publish in progress: one database transaction.
pub(crate) struct Publish {
    pub(crate) tx: Transaction<'static, Any>,
    /// The store, told once the publish is committed.
    pub(crate) db: crate::Db,
}

pub(crate) fn property_table(owner: PropertyOwner) -> (&'static str, i64) {
    match owner {
        PropertyOwner::Package(id) => ("package_properties", id),
        PropertyOwner::Version(id) => ("version_properties", id),
        PropertyOwner::File(id) => ("file_properties", id),
    }
}

/// The statement that sets a property (`$1` owner, `$2` name, `$3` value) and the owner id.
pub(crate) fn upsert_property(owner: PropertyOwner) -> (String, i64) {
    let (table, id) = property_table(owner);
    (
        format!(
            "INSERT INTO {table} (owner_id, name, value) VALUES ($1, $2, $3) \
             ON CONFLICT (owner_id, name) DO UPDATE SET value = excluded.value"
        ),
        id,
    )
}

/// Bumps the revision of the package that `owner` belongs to, and notes when.
pub(crate) async fn bump_revision(
    tx: &mut Transaction<'static, Any>,
    owner: PropertyOwner,
) -> Result<()> {
    let (package, id) = match owner {
        PropertyOwner::Package(id) => ("$1", id),
        PropertyOwner::Version(id) => ("(SELECT package_id FROM versions WHERE id = $1)", id),
        PropertyOwner::File(id) => (
            "(SELECT v.package_id FROM files f JOIN versions v ON v.id = f.version_id WHERE f.id = $1)",
            id,
        ),
    };
    sqlx::query(&format!(
        "UPDATE packages SET revision = revision + 1, updated_at = $2 WHERE id = {package}"
    ))
    .bind(id)
    .bind(Timestamp::now().0)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts a row unless its unique key exists; returns the id and whether it was inserted.
async fn get_or_insert(
    tx: &mut Transaction<'static, Any>,
    insert: &str,
    select: &str,
    parent: i64,
    value: &str,
) -> Result<(i64, bool)> {
    let inserted = sqlx::query(insert)
        .bind(parent)
        .bind(value)
        .bind(value.to_lowercase())
        .bind(Timestamp::now().0)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    if let Some(row) = inserted {
        return Ok((row.try_get("id").map_err(db_err)?, true));
    }
    let row = sqlx::query(select)
        .bind(parent)
        .bind(value.to_lowercase())
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok((row.try_get("id").map_err(db_err)?, false))
}

#[async_trait]
impl PublishTx for Publish {
    async fn package(
        &mut self,
        repository_id: i64,
        name: &str,
        canonical: &str,
    ) -> Result<(i64, bool)> {
        let created = get_or_insert(
            &mut self.tx,
            "INSERT INTO packages (repository_id, name, lower_name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repository_id, lower_name) DO NOTHING RETURNING id",
            "SELECT id FROM packages WHERE repository_id = $1 AND lower_name = $2",
            repository_id,
            name,
        )
        .await?;
        if created.1 {
            // A random first revision: an id SQLite reuses after a deletion never comes back
            // with a content tag seen before.
            let first = uuid::Uuid::new_v4().as_u64_pair().0 >> 12;
            sqlx::query("UPDATE packages SET canonical_name = $1, revision = $2 WHERE id = $3")
                .bind(canonical)
                .bind(i64::try_from(first).unwrap_or_default())
                .bind(created.0)
                .execute(&mut *self.tx)
                .await
                .map_err(db_err)?;
        }
        bump_revision(&mut self.tx, PropertyOwner::Package(created.0)).await?;
        Ok(created)
    }

    async fn version(&mut self, package_id: i64, version: &str) -> Result<(i64, bool)> {
        get_or_insert(
            &mut self.tx,
            "INSERT INTO versions (package_id, version, lower_version, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (package_id, lower_version) DO NOTHING RETURNING id",
            "SELECT id FROM versions WHERE package_id = $1 AND lower_version = $2",
            package_id,
            version,
        )
        .await
    }

    async fn file(&mut self, version_id: i64, name: &str) -> Result<Option<(i64, i64)>> {
        let row =
            sqlx::query("SELECT id, blob_id FROM files WHERE version_id = $1 AND lower_name = $2")
                .bind(version_id)
                .bind(name.to_lowercase())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(db_err)?;
        row.map(|r| {
            Ok((
                r.try_get("id").map_err(db_err)?,
                r.try_get("blob_id").map_err(db_err)?,
            ))
        })
        .transpose()
    }

    async fn remove_file(&mut self, file_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(file_id)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_file(&mut self, version_id: i64, name: &str, blob_id: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO files (version_id, blob_id, name, lower_name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(version_id)
        .bind(blob_id)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(Timestamp::now().0)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::conflict(format!("file {name} already exists")),
            other => other,
        })?;
        row.try_get("id").map_err(db_err)
    }

    async fn set_property(&mut self, owner: PropertyOwner, name: &str, value: &str) -> Result<()> {
        let (sql, id) = upsert_property(owner);
        sqlx::query(&sql)
            .bind(id)
            .bind(name)
            .bind(value)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn tombstone(
        &mut self,
        repository_id: i64,
        package_key: &str,
        version_key: &str,
        file_key: &str,
    ) -> Result<Option<String>> {
        crate::tombstones::held(
            &mut self.tx,
            repository_id,
            package_key,
            version_key,
            file_key,
        )
        .await
    }

    async fn delete_version(&mut self, version_id: i64, tombstone: bool) -> Result<bool> {
        if tombstone {
            crate::tombstones::record_in(&mut self.tx, "v.id", version_id).await?;
        }
        let done = sqlx::query("DELETE FROM versions WHERE id = $1")
            .bind(version_id)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_property(&mut self, owner: PropertyOwner, name: &str) -> Result<bool> {
        let (table, id) = property_table(owner);
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE owner_id = $1 AND name = $2"
        ))
        .bind(id)
        .bind(name)
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_package(&mut self, package_id: i64) -> Result<()> {
        bump_revision(&mut self.tx, PropertyOwner::Package(package_id)).await
    }

    async fn release_pin(&mut self, pin_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM blob_pins WHERE id = $1")
            .bind(pin_id)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(db_err)?;
        self.db.packages_changed();
        Ok(())
    }
}
