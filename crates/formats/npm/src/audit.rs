//! The audits `npm audit` and `npm install` ask for (`POST /-/npm/v1/security/advisories/bulk`
//! and the older `…/audits/quick`). A hosted repository publishes no advisories, so it answers
//! the empty report. A proxy forwards the request to its upstream as the client sent it (gzip
//! and all); a group forwards it to each proxy member and merges the bulk answers by package
//! name (the quick report comes from the first proxy member). When an upstream fails, the
//! install goes on: the report is empty and the failure is logged.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, header};
use serde_json::{Map, Value, json};
use wharf_core::model::{RepoKind, Repository};
use wharf_core::{Error, Result};
use wharf_server::AppState;

/// The largest audit request (a lockfile's names and versions).
const MAX_AUDIT: usize = 32 << 20;

/// Answers an audit for `repo`.
///
/// # Errors
/// [`Error::Invalid`] when the body cannot be read.
pub(crate) async fn audit(
    state: &AppState,
    repo: &Repository,
    bulk: bool,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    let proxies = wharf_server::groups::of_kind(state, repo, RepoKind::Proxy).await?;
    if proxies.is_empty() {
        return Ok(empty(bulk));
    }
    let body = axum::body::to_bytes(body, MAX_AUDIT)
        .await
        .map_err(|e| Error::invalid(format!("the audit request could not be read: {e}")))?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let path = if bulk {
        "-/npm/v1/security/advisories/bulk"
    } else {
        "-/npm/v1/security/audits/quick"
    };
    let mut merged = Map::new();
    for proxy in &proxies {
        let Some(upstream) = proxy.upstream.as_deref() else {
            continue;
        };
        let url = format!("{}/{path}", upstream.trim_end_matches('/'));
        match state
            .upstream
            .post_json(proxy, &url, body.clone(), encoding)
            .await
        {
            Ok(Value::Object(answer)) if bulk => {
                for (name, advisories) in answer {
                    merged.entry(name).or_insert(advisories);
                }
            }
            Ok(report) if !bulk => return Ok(Json(report).into_response()),
            Ok(_) => tracing::warn!(url, "the upstream's audit answer is not an object; ignored"),
            Err(e) => tracing::warn!(url, error = %e, "audit not forwarded; answering without it"),
        }
    }
    Ok(if bulk {
        Json(Value::Object(merged)).into_response()
    } else {
        empty(false)
    })
}

/// The bulk answer with no advisories (`{}`), or the quick report that found nothing.
fn empty(bulk: bool) -> Response {
    if bulk {
        return Json(json!({})).into_response();
    }
    let none = json!({"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0});
    Json(json!({
        "actions": [],
        "advisories": {},
        "muted": [],
        "metadata": {
            "vulnerabilities": none,
            "dependencies": 0,
            "devDependencies": 0,
            "optionalDependencies": 0,
            "totalDependencies": 0,
        },
    }))
    .into_response()
}
