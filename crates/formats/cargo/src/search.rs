//! `GET /api/v1/crates?q=&per_page=`: crates whose name or description matches, best first
//! (exact name, then name prefix, then name substring, then description), in cargo's shape.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wharf_core::{Error, Result};

use crate::handlers::Ctx;
use crate::index::{DESCRIPTION, IndexLine, LINE};
use crate::names::canonical;

#[derive(Deserialize, Default)]
struct Query {
    #[serde(default)]
    q: String,
    per_page: Option<usize>,
}

struct Hit {
    rank: u8,
    name: String,
    max_version: String,
    description: String,
}

/// Searches the repository's crates.
pub(crate) async fn search_crates(ctx: &Ctx<'_>, query: Option<&str>) -> Result<Response> {
    let query: Query = serde_urlencoded_query(query.unwrap_or_default())?;
    let needle = canonical(query.q.trim());
    let per_page = query.per_page.unwrap_or(10).clamp(1, 100);
    let mut hits = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ctx
            .state
            .store
            .list_packages(ctx.repo.id, after.as_deref(), 1000)
            .await?;
        for package in &page {
            let name = canonical(&package.name);
            let name_rank = if name == needle {
                Some(0)
            } else if name.starts_with(&needle) {
                Some(1)
            } else if name.contains(&needle) {
                Some(2)
            } else {
                None
            };
            let versions = ctx.state.store.versions_with_properties(package.id).await?;
            let mut best: Option<(semver::Version, String)> = None;
            for (_, props) in &versions {
                let line = props.iter().find(|(k, _)| k == LINE);
                let description = props
                    .iter()
                    .find_map(|(k, v)| (k == DESCRIPTION).then(|| v.clone()))
                    .unwrap_or_default();
                let Some(line) = line.and_then(|(_, v)| serde_json::from_str::<IndexLine>(v).ok())
                else {
                    continue;
                };
                let Ok(v) = semver::Version::parse(&line.vers) else {
                    continue;
                };
                if !line.yanked && best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((v, description));
                }
            }
            let Some((max_version, description)) = best else {
                continue;
            };
            let rank = name_rank.or_else(|| {
                description
                    .to_lowercase()
                    .contains(&query.q.trim().to_lowercase())
                    .then_some(3)
            });
            if let Some(rank) = rank {
                hits.push(Hit {
                    rank,
                    name: package.name.clone(),
                    max_version: max_version.to_string(),
                    description,
                });
            }
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.name.clone()),
            _ => break,
        }
    }
    hits.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
    let total = hits.len();
    let crates: Vec<_> = hits
        .into_iter()
        .take(per_page)
        .map(
            |h| json!({"name": h.name, "max_version": h.max_version, "description": h.description}),
        )
        .collect();
    Ok(Json(json!({"crates": crates, "meta": {"total": total}})).into_response())
}

fn serde_urlencoded_query(raw: &str) -> Result<Query> {
    axum::extract::Query::<Query>::try_from_uri(
        &format!("/?{raw}")
            .parse()
            .map_err(|_| Error::invalid("malformed query string"))?,
    )
    .map(|q| q.0)
    .map_err(|e| Error::invalid(e.body_text()))
}
