//! Homebrew-style category analytics, as the original serves them:
//! `GET /analytics/{install|install-on-request|build-error}/{30|90|365}d`, the same at
//! `GET /api/analytics/{category}/{30|90|365}d.json`, and `POST /analytics/events`, where
//! clients report what happened.
//!
//! `install` counts every tarball download of the repository's packages plus the installs
//! reported for names it does not hold; a reported install of a version it holds counts as a
//! download of that version, so the package's own analytics see it too. The other categories
//! are reported events only. Events are counted in memory and saved with the downloads.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use wharf_core::model::{RepoKind, Repository};
use wharf_core::time::Timestamp;
use wharf_server::AppState;
use wharf_server::downloads::{date_of, day_of};

use crate::{Mount, PantryError, PantryResult, not_found, only, repository};

/// The largest event body.
const MAX_EVENT: usize = 16 << 10;

/// The categories: path form, stored and wire form.
const CATEGORIES: [(&str, &str); 3] = [
    ("install", "install"),
    ("install-on-request", "install_on_request"),
    ("build-error", "build_error"),
];

/// The periods the original offers, in days.
const PERIODS: [i64; 3] = [30, 90, 365];

/// The stored form of a category given as in a path, and a period such as `30d`.
pub(crate) fn parse(category: &str, period: &str) -> Option<(&'static str, i64)> {
    let (_, key) = CATEGORIES.iter().find(|(path, _)| *path == category)?;
    let days: i64 = period.strip_suffix('d')?.parse().ok()?;
    PERIODS.contains(&days).then_some((key, days))
}

/// The repositories whose downloads count for `repo`: its members when it is a group.
pub(crate) async fn counted(
    state: &AppState,
    repo: &Repository,
) -> wharf_core::Result<Vec<Repository>> {
    if repo.kind == RepoKind::Group {
        wharf_server::groups::members(state, repo).await
    } else {
        Ok(vec![repo.clone()])
    }
}

/// Downloads from day `since` on of every package `repo` counts, by name.
pub(crate) async fn downloads_by_name(
    state: &AppState,
    repo: &Repository,
    since: i64,
) -> wharf_core::Result<HashMap<String, u64>> {
    let mut totals = HashMap::<String, u64>::new();
    for member in counted(state, repo).await? {
        for (name, n) in state.store.repository_downloads(member.id, since).await? {
            *totals.entry(name).or_default() += n;
        }
    }
    Ok(totals)
}

/// `GET /analytics/{category}/{period}` (and the `.json` form).
pub(crate) async fn report(
    state: &AppState,
    mount: &Mount,
    headers: &HeaderMap,
    category: &'static str,
    days: i64,
) -> PantryResult {
    let repo = repository(state, mount, headers).await?;
    let today = day_of(Timestamp::now());
    let since = today - days + 1;
    let mut counts = if category == "install" {
        downloads_by_name(state, &repo, since).await?
    } else {
        HashMap::new()
    };
    for (name, n) in state.store.event_totals(repo.id, category, since).await? {
        *counts.entry(name).or_default() += n;
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: u64 = ranked.iter().map(|(_, n)| n).sum();
    let items: Vec<Value> = ranked
        .iter()
        .enumerate()
        .map(|(i, (name, n))| {
            json!({
                "number": i + 1,
                "formula": name,
                "count": thousands(*n),
                "percent": percent(*n, total),
            })
        })
        .collect();
    Ok(Json(json!({
        "category": category,
        "total_items": items.len(),
        "start_date": date_of(since),
        "end_date": date_of(today),
        "total_count": total,
        "items": items,
    }))
    .into_response())
}

/// `n` as `toLocaleString('en-US')` writes it: `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` of `total` in percent with two decimals, computed in integers (`12.34`).
fn percent(n: u64, total: u64) -> String {
    if total == 0 {
        return "0.00".into();
    }
    let hundredths = (u128::from(n) * 10_000 + u128::from(total) / 2) / u128::from(total);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// `GET /api/analytics/{category}/{30|90|365}d.json`.
pub(crate) async fn api(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    let (category, file) = path.split_once('/').ok_or_else(|| not_found("Not found"))?;
    let period = file
        .strip_suffix(".json")
        .ok_or_else(|| not_found("Not found"))?;
    let (key, days) = parse(category, period).ok_or_else(|| not_found("Not found"))?;
    let mut response = report(&state, &mount, &headers, key, days).await?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}

/// `POST /analytics/events` `{"packageName","category","version"?}`.
pub(crate) async fn event(
    state: &AppState,
    mount: &Mount,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> PantryResult {
    let bad = |message: &str| PantryError(StatusCode::BAD_REQUEST, message.to_owned());
    let bytes = axum::body::to_bytes(body, MAX_EVENT)
        .await
        .map_err(|_| bad("the event is too large or could not be read"))?;
    let event: Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(&format!("the event is not JSON: {e}")))?;
    let name = event["packageName"]
        .as_str()
        .filter(|n| !n.is_empty() && n.len() <= 214 && !n.chars().any(char::is_control))
        .ok_or_else(|| bad("packageName must be a package name"))?;
    let category = event["category"]
        .as_str()
        .and_then(|c| CATEGORIES.iter().find(|(_, key)| *key == c))
        .map(|(_, key)| *key)
        .ok_or_else(|| bad("category must be install, install_on_request or build_error"))?;
    let version = match &event["version"] {
        Value::Null => None,
        Value::String(v) => Some(v.as_str()),
        _ => return Err(bad("version must be a string")),
    };
    let repo = repository(state, mount, headers).await?;
    if category == "install"
        && let Some(version) = version
    {
        for member in counted(state, &repo).await? {
            if let Some(package) = state.store.package(member.id, name).await?
                && let Some(found) = state.store.version(package.id, version).await?
            {
                state.downloads.count(found.id);
                return Ok(Json(json!({"success": true})).into_response());
            }
        }
    }
    state.downloads.count_event(repo.id, category, name);
    Ok(Json(json!({"success": true})).into_response())
}

#[cfg(test)]
mod tests {
    use super::{parse, percent, thousands};

    #[test]
    fn numbers_are_written_as_the_original_writes_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(1, 3), "33.33");
        assert_eq!(percent(2, 3), "66.67");
        assert_eq!(percent(5, 5), "100.00");
        assert_eq!(percent(0, 0), "0.00");
    }

    #[test]
    fn categories_and_periods_are_the_originals() {
        assert_eq!(
            parse("install-on-request", "90d"),
            Some(("install_on_request", 90))
        );
        assert_eq!(parse("build-error", "365d"), Some(("build_error", 365)));
        assert_eq!(parse("install", "7d"), None);
        assert_eq!(parse("install_on_request", "30d"), None);
    }
}
