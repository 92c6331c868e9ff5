//! `npm search` (`GET /-/v1/search?text=&size=&from=`) over a hosted repository, ranked by
//! where the words match — the name exactly, the name's start, the name, then keywords and
//! description.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_server::query::parse_query;

use crate::handlers::Ctx;
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

/// `GET /-/v1/search`.
pub(crate) async fn search(ctx: &Ctx<'_>, query: Option<&str>) -> Result<Response> {
    let query: SearchQuery = parse_query(query)?;
    let words: Vec<String> = query
        .text
        .to_lowercase()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let size = query.size.unwrap_or(20).min(250);
    let from = query.from.unwrap_or(0);
    let repo = wharf_server::groups::hosted_target(ctx.state, &ctx.repo).await?;
    let mut found = Vec::new();
    for package in packument::all_packages(ctx.state, &repo).await? {
        let head = packument::head(ctx.state, &package).await?;
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
    let best = found.first().map_or(1.0, |f| f.0);
    let total = found.len();
    let objects: Vec<Value> = found
        .into_iter()
        .skip(from)
        .take(size)
        .map(|(points, name, summary)| {
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
                    "links": {"npm": format!("{}/{name}", ctx.registry)},
                    "publisher": {"username": publisher},
                    "maintainers": [{"username": publisher}],
                },
                "score": {
                    "final": points / best,
                    "detail": {"quality": 1.0, "popularity": 1.0, "maintenance": 1.0},
                },
                "searchScore": points,
            })
        })
        .collect();
    Ok(Json(json!({
        "objects": objects,
        "total": total,
        "time": wharf_core::time::Timestamp::now().rfc3339(),
    }))
    .into_response())
}
