//! [`CatalogStore`]: the browsing reads of the web UI, each one or two statements whatever the
//! number of packages (lists are filtered, sorted and paged by the database).

use std::fmt::Write as _;

use async_trait::async_trait;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row as _};
use wharf_core::Result;
use wharf_core::catalog::{
    CatalogStore, DESCRIPTION, KEYWORDS, PackagePage, PackageQuery, PackageRow, PackageSort,
    RecentVersion, RepositoryCounts,
};
use wharf_core::time::Timestamp;

use crate::Db;
use crate::error::db_err;
use crate::rows::{self, i64_of, u64_of};

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `word` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
fn contains(word: &str) -> String {
    let mut pattern = String::from("%");
    for c in word.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The `FROM … WHERE …` of a package query and its bound values after the repository ids:
/// the description and keywords joined, every word in the name, the description or the
/// keywords.
fn filter(query: &PackageQuery<'_>) -> (String, Vec<String>) {
    let ids = placeholders(2, query.repository_ids.len());
    let mut sql = format!(
        "FROM packages p LEFT JOIN package_properties pp ON pp.owner_id = p.id AND pp.name = $1 \
         LEFT JOIN package_properties pk ON pk.owner_id = p.id AND pk.name = '{KEYWORDS}' \
         WHERE p.repository_id IN ({ids})"
    );
    let mut values = Vec::new();
    for word in query.words {
        let n = 2 + query.repository_ids.len() + values.len();
        let _ = write!(
            sql,
            " AND (p.lower_name LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(pp.value, '')) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(pk.value, '')) LIKE ${n} ESCAPE '\\')"
        );
        values.push(contains(word));
    }
    (sql, values)
}

/// The `ORDER BY` of a sort; relevance ranks an exact name first, then names that start with
/// the first word, then names that contain it, then the rest (description matches).
fn order(query: &PackageQuery<'_>, next: usize) -> (String, Vec<String>) {
    match (query.sort, query.words.first()) {
        (PackageSort::Name, _) | (PackageSort::Relevance, None) => {
            ("p.lower_name, p.id".into(), vec![])
        }
        (PackageSort::Updated, _) => ("p.updated_at DESC, p.lower_name".into(), vec![]),
        (PackageSort::Downloads, _) => ("downloads DESC, p.lower_name".into(), vec![]),
        (PackageSort::Relevance, Some(first)) => {
            let phrase = query.words.join(" ").to_lowercase();
            let prefix = format!(
                "{}%",
                contains(first)
                    .trim_start_matches('%')
                    .trim_end_matches('%')
            );
            (
                format!(
                    "CASE WHEN p.lower_name = ${next} THEN 0 \
                     WHEN p.lower_name LIKE ${} ESCAPE '\\' THEN 1 \
                     WHEN p.lower_name LIKE ${} ESCAPE '\\' THEN 2 ELSE 3 END, p.lower_name",
                    next + 1,
                    next + 2
                ),
                vec![phrase, prefix, contains(first)],
            )
        }
    }
}

/// `sql` with the description's name, the repository ids and `values` bound, in that order.
fn bound<'q>(
    sql: &'q str,
    repository_ids: &[i64],
    values: impl Iterator<Item = &'q String>,
) -> Query<'q, Any, AnyArguments<'q>> {
    let mut q = sqlx::query(sql).bind(DESCRIPTION);
    for id in repository_ids {
        q = q.bind(*id);
    }
    for value in values {
        q = q.bind(value.as_str());
    }
    q
}

fn package_row(row: &AnyRow) -> Result<PackageRow> {
    Ok(PackageRow {
        package: rows::package(row)?,
        description: row.try_get("description").map_err(db_err)?,
        downloads: u64_of(row.try_get("downloads").map_err(db_err)?),
    })
}

#[async_trait]
impl CatalogStore for Db {
    async fn repository_counts(&self) -> Result<Vec<RepositoryCounts>> {
        sqlx::query(
            "SELECT r.id, \
             (SELECT COUNT(*) FROM packages p WHERE p.repository_id = r.id) AS packages, \
             (SELECT COUNT(*) FROM versions v JOIN packages p ON p.id = v.package_id \
              WHERE p.repository_id = r.id) AS versions \
             FROM repositories r ORDER BY r.id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(RepositoryCounts {
                repository_id: r.try_get("id").map_err(db_err)?,
                packages: u64_of(r.try_get("packages").map_err(db_err)?),
                versions: u64_of(r.try_get("versions").map_err(db_err)?),
            })
        })
        .collect()
    }

    async fn recent_versions(
        &self,
        repository_ids: &[i64],
        limit: u32,
    ) -> Result<Vec<RecentVersion>> {
        if repository_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT p.repository_id, p.name AS package, v.version, v.created_at \
             FROM versions v JOIN packages p ON p.id = v.package_id \
             WHERE p.repository_id IN ({}) ORDER BY v.created_at DESC, v.id DESC LIMIT ${}",
            placeholders(1, repository_ids.len()),
            repository_ids.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for id in repository_ids {
            q = q.bind(*id);
        }
        q.bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(RecentVersion {
                    repository_id: r.try_get("repository_id").map_err(db_err)?,
                    package: r.try_get("package").map_err(db_err)?,
                    version: r.try_get("version").map_err(db_err)?,
                    created_at: Timestamp(r.try_get("created_at").map_err(db_err)?),
                })
            })
            .collect()
    }

    async fn packages_page(&self, query: &PackageQuery<'_>) -> Result<PackagePage> {
        if query.repository_ids.is_empty() {
            return Ok(PackagePage {
                rows: Vec::new(),
                total: 0,
            });
        }
        let (from, words) = filter(query);
        let next = 2 + query.repository_ids.len() + words.len();
        let (order_by, order_values) = order(query, next);
        let page = next + order_values.len();
        let sql = format!(
            "SELECT p.id, p.repository_id, p.name, p.created_at, p.revision, p.updated_at, \
             COALESCE(pp.value, '') AS description, \
             (SELECT CAST(COALESCE(SUM(d.count), 0) AS BIGINT) FROM downloads d \
              JOIN versions v ON v.id = d.version_id WHERE v.package_id = p.id) AS downloads \
             {from} ORDER BY {order_by} LIMIT ${page} OFFSET ${}",
            page + 1
        );
        let rows = bound(
            &sql,
            query.repository_ids,
            words.iter().chain(&order_values),
        )
        .bind(i64::from(query.limit))
        .bind(i64_of(query.offset))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(package_row)
        .collect::<Result<Vec<_>>>()?;
        let count = format!("SELECT COUNT(*) AS n {from}");
        let total = bound(&count, query.repository_ids, words.iter())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(PackagePage {
            rows,
            total: u64_of(total.try_get("n").map_err(db_err)?),
        })
    }
}
