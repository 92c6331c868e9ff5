//! `npm search` (`GET /-/v1/search?text=&size=&from=`) over a hosted repository (or a group's
//! hosted members), ranked by where the words match — the name exactly, the name's start, the
//! name, then keywords and description — and completed from the upstream search of a proxy
//! (or a group's proxy members) when the page is not full.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_core::model::{RepoKind, Repository};
use wharf_server::AppState;
use wharf_server::groups::of_kind;
use wharf_server::query::parse_query;

use wharf_server::protocol::Call;

use crate::handlers::registry;
use crate::packument;

/// How well a package matches every word of `words` (0: it does not).
fn score(name: &str, summary: &Map<String, Value>, words: &[String]) -> f64 {
    let description = summary
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let keywords: Vec<String> = summary
        .get("keywords")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let name = name.to_lowercase();
    let mut total = 0.0;
    for word in words {
        let points = if name == *word || name.rsplit('/').next() == Some(word.as_str()) {
            100.0
        } else if name.starts_with(word.as_str()) {
            40.0
        } else if name.contains(word.as_str()) {
            20.0
        } else if keywords.iter().any(|k| k == word) {
            10.0
        } else if description.contains(word.as_str()) {
            5.0
        } else {
            return 0.0;
        };
        total += points;
    }
    total
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    text: String,
    size: Option<usize>,
    from: Option<usize>,
}

/// A hosted package that matches: its score, name and summary.
type Hit = (f64, String, Map<String, Value>);

/// `GET /-/v1/search`.
pub(crate) async fn search(call: &Call<'_>, query: Option<&str>) -> Result<Response> {
    let query: SearchQuery = parse_query(query)?;
    let size = query.size.unwrap_or(20).min(250);
    let from = query.from.unwrap_or(0);
    let found = hosted_hits(call, &query.text).await?;
    let best = found.first().map_or(1.0, |f| f.0);
    let mut total = found.len();
    let mut objects: Vec<Value> = found
        .into_iter()
        .skip(from)
        .take(size)
        .map(|hit| object(call, hit, best))
        .collect();
    if objects.len() < size {
        let names: Vec<String> = objects
            .iter()
            .filter_map(|o| o["package"]["name"].as_str().map(str::to_owned))
            .collect();
        let (more, their_total) = upstream_objects(
            call.state,
            call.repo()?,
            &query.text,
            size - objects.len(),
            from.saturating_sub(total),
        )
        .await?;
        total += their_total;
        objects.extend(
            more.into_iter()
                .filter(|o| !names.iter().any(|n| o["package"]["name"] == n.as_str())),
        );
    }
    Ok(Json(json!({
        "objects": objects,
        "total": total,
        "time": wharf_core::time::Timestamp::now().rfc3339(),
    }))
    .into_response())
}

/// The packages of the hosted repositories searched that match every word of `text`, best
/// first (then by name).
async fn hosted_hits(call: &Call<'_>, text: &str) -> Result<Vec<Hit>> {
    let words: Vec<String> = text
        .to_lowercase()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let hosted = of_kind(call.state, call.repo()?, RepoKind::Hosted).await?;
    let mut packages = Vec::new();
    for member in &hosted {
        packages.extend(call.state.store.all_packages(member.id).await?);
    }
    let mut found = Vec::new();
    for package in packages {
        let head = packument::head(call.state, &package).await?;
        let points = if words.is_empty() {
            1.0
        } else {
            score(&package.name, &head.summary, &words)
        };
        if points > 0.0 {
            found.push((points, package.name, head.summary));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(found)
}

/// A search result as npm's registry writes it.
fn object(call: &Call<'_>, (points, name, summary): Hit, best: f64) -> Value {
    let scope = name
        .strip_prefix('@')
        .and_then(|s| s.split_once('/'))
        .map_or("unscoped", |(scope, _)| scope)
        .to_owned();
    let publisher = summary.get("publisher").cloned().unwrap_or(Value::Null);
    json!({
        "package": {
            "name": name,
            "scope": scope,
            "version": summary.get("version"),
            "description": summary.get("description"),
            "keywords": summary.get("keywords"),
            "date": summary.get("date"),
            "links": {"npm": format!("{}/{name}", registry(call))},
            "publisher": {"username": publisher},
            "maintainers": [{"username": publisher}],
        },
        "score": {
            "final": points / best,
            "detail": {"quality": 1.0, "popularity": 1.0, "maintenance": 1.0},
        },
        "searchScore": points,
    })
}

/// npm search results (`/-/v1/search`) from the upstreams of the proxies `repo` reads
/// through (itself, or a group's proxy members), as they send them, and their totals; an
/// upstream that fails adds nothing (logged).
///
/// # Errors
/// A store failure while listing a group's members.
pub async fn upstream_objects(
    state: &AppState,
    repo: &Repository,
    text: &str,
    size: usize,
    from: usize,
) -> Result<(Vec<Value>, usize)> {
    let proxies = of_kind(state, repo, RepoKind::Proxy).await?;
    let (size, from) = (size.to_string(), from.to_string());
    let mut objects = Vec::new();
    let mut total = 0;
    for proxy in proxies {
        let Some(upstream) = proxy.upstream.as_deref() else {
            continue;
        };
        let url = format!("{}/-/v1/search", upstream.trim_end_matches('/'));
        let query = [
            ("text", text),
            ("size", size.as_str()),
            ("from", from.as_str()),
        ];
        match state.upstream.get_json(&proxy, &url, &query).await {
            Ok(found) => {
                total += found["total"]
                    .as_u64()
                    .and_then(|t| usize::try_from(t).ok())
                    .unwrap_or(0);
                objects.extend(found["objects"].as_array().cloned().unwrap_or_default());
            }
            Err(e) => tracing::warn!(url, error = %e, "the upstream's search is not available"),
        }
    }
    Ok((objects, total))
}
