//! `GET /api/v1/crates?q=&per_page=`: crates whose name or description matches, best first
//! (exact name, then name prefix, then name substring, then description), in cargo's shape.
//! A proxy forwards the search to its upstream's API; a group searches its members in order.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wharf_core::model::{RepoKind, Repository};
use wharf_core::{Error, Result};
use wharf_server::AppState;

use wharf_server::query::parse_query;

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
pub(crate) async fn search_crates(
    state: &AppState,
    repo: &Repository,
    query: Option<&str>,
) -> Result<Response> {
    let query: Query = parse_query(query)?;
    let per_page = query.per_page.unwrap_or(10).clamp(1, 100);
    let mut hits = Vec::new();
    match repo.kind {
        RepoKind::Hosted => hosted_hits(state, repo, &query, &mut hits).await?,
        RepoKind::Proxy => upstream_hits(state, repo, &query, per_page, &mut hits).await?,
        RepoKind::Group => {
            for member in wharf_server::groups::members(state, repo).await? {
                match member.kind {
                    RepoKind::Hosted => hosted_hits(state, &member, &query, &mut hits).await?,
                    RepoKind::Proxy => {
                        upstream_hits(state, &member, &query, per_page, &mut hits).await?;
                    }
                    RepoKind::Group => {}
                }
            }
            let mut seen = std::collections::HashSet::new();
            hits.retain(|h| seen.insert(canonical(&h.name)));
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

fn name_rank(needle: &str, name: &str) -> Option<u8> {
    let name = canonical(name);
    if name == needle {
        Some(0)
    } else if name.starts_with(needle) {
        Some(1)
    } else if name.contains(needle) {
        Some(2)
    } else {
        None
    }
}

async fn hosted_hits(
    state: &AppState,
    repo: &Repository,
    query: &Query,
    hits: &mut Vec<Hit>,
) -> Result<()> {
    let needle = canonical(query.q.trim());
    for package in &state.store.all_packages(repo.id).await? {
        let versions = state.store.versions_with_properties(package.id).await?;
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
        let rank = name_rank(&needle, &package.name).or_else(|| {
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
    Ok(())
}

#[derive(Deserialize)]
struct UpstreamApi {
    api: Option<String>,
}

#[derive(Deserialize)]
struct UpstreamResults {
    crates: Vec<UpstreamCrate>,
}

#[derive(Deserialize)]
struct UpstreamCrate {
    name: String,
    max_version: String,
    #[serde(default)]
    description: Option<String>,
}

/// Forwards a search to a proxy's upstream API (`api` in its `config.json`).
async fn upstream_hits(
    state: &AppState,
    repo: &Repository,
    query: &Query,
    per_page: usize,
    hits: &mut Vec<Hit>,
) -> Result<()> {
    let base = repo.upstream.as_deref().unwrap_or_default();
    let base = base
        .strip_prefix("sparse+")
        .unwrap_or(base)
        .trim_end_matches('/');
    let config_url = format!("{base}/config.json");
    let Some(config) = state
        .upstream
        .document(state, repo, "config.json", &config_url, None)
        .await?
    else {
        return Ok(());
    };
    let Some(api) = serde_json::from_slice::<UpstreamApi>(&config)
        .ok()
        .and_then(|c| c.api)
    else {
        return Ok(());
    };
    let url = format!("{}/api/v1/crates", api.trim_end_matches('/'));
    let per_page = per_page.to_string();
    let found = state
        .upstream
        .get_json(
            repo,
            &url,
            &[("q", query.q.as_str()), ("per_page", per_page.as_str())],
        )
        .await?;
    let results: UpstreamResults = serde_json::from_value(found)
        .map_err(|e| Error::Upstream(format!("upstream {url}: {e}")))?;
    let needle = canonical(query.q.trim());
    hits.extend(results.crates.into_iter().map(|c| Hit {
        rank: name_rank(&needle, &c.name).unwrap_or(3),
        name: c.name,
        max_version: c.max_version,
        description: c.description.unwrap_or_default(),
    }));
    Ok(())
}
