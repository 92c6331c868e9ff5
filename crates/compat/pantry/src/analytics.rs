//! Download analytics in the original's shapes, from Wharf's download counts (whole-file
//! `GET`s of a package's tarballs through npm or Pantry): `GET /analytics[/top]`,
//! `/analytics/{name}` and `/analytics/{name}/timeline?days=30`; the category reports and
//! reported events are in [`crate::categories`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use http::{HeaderMap, Method};
use serde::Deserialize;
use serde_json::json;
use wharf_core::model::Package;
use wharf_core::time::Timestamp;
use wharf_server::AppState;
use wharf_server::downloads::{date_of, day_of};
use wharf_server::query::parse_query;

use crate::{Mount, PantryResult, categories, not_found, only, repository, split_name};

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct Days {
    days: Option<u32>,
}

/// `GET /analytics` and `/analytics/top?limit=10`: the most downloaded packages.
pub(crate) async fn top(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    top_packages(&state, &mount, query.as_deref(), &headers).await
}

async fn top_packages(
    state: &AppState,
    mount: &Mount,
    query: Option<&str>,
    headers: &HeaderMap,
) -> PantryResult {
    let limit = parse_query::<Limit>(query)?
        .limit
        .unwrap_or(10)
        .clamp(1, 1000);
    let repo = repository(state, mount, headers).await?;
    let mut ranked: Vec<(u64, String)> = categories::downloads_by_name(state, &repo, 0)
        .await?
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| (n, name))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let packages: Vec<_> = ranked
        .into_iter()
        .take(limit)
        .map(|(downloads, name)| json!({"name": name, "downloads": downloads}))
        .collect();
    Ok(Json(json!({"packages": packages})).into_response())
}

/// `GET /analytics/top`, `/analytics/{category}/{period}`, `/analytics/{name}`,
/// `/analytics/{name}/timeline` and `POST /analytics/events`.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Body,
) -> PantryResult {
    if path == "events" {
        if let Some(done) = only(&method, &Method::POST) {
            return done;
        }
        return categories::event(&state, &mount, &headers, body).await;
    }
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    if path == "top" {
        return top_packages(&state, &mount, query.as_deref(), &headers).await;
    }
    if let Some((category, period)) = path.split_once('/')
        && let Some((key, days)) = categories::parse(category, period)
    {
        return categories::report(&state, &mount, &headers, key, days).await;
    }
    let (name, rest) = split_name(&path).ok_or_else(|| not_found("Not found"))?;
    let repo = repository(&state, &mount, &headers).await?;
    let none = || not_found("No analytics data for this package");
    let mut found = None;
    for member in categories::counted(&state, &repo).await? {
        found = state.store.package(member.id, &name).await?;
        if found.is_some() {
            break;
        }
    }
    let package = found.ok_or_else(none)?;
    match rest {
        None => package_totals(&state, &package).await,
        Some("timeline") => {
            let days = parse_query::<Days>(query.as_deref())?.days.unwrap_or(30);
            timeline(&state, &package, i64::from(days.clamp(1, 3660))).await
        }
        Some(_) => Err(not_found("Not found")),
    }
}

/// `GET /analytics/{name}`: a package's downloads in all, in the last 7 and 30 days, per
/// version, and the day of the last one.
async fn package_totals(state: &AppState, package: &Package) -> PantryResult {
    let counts = state.store.downloads(package.id, 0).await?;
    if counts.is_empty() {
        return Err(not_found("No analytics data for this package"));
    }
    let today = day_of(Timestamp::now());
    let within = |days: i64| -> u64 {
        counts
            .iter()
            .filter(|c| c.day > today - days)
            .map(|c| c.count)
            .sum()
    };
    let mut versions = BTreeMap::<String, u64>::new();
    for c in &counts {
        *versions.entry(c.version.clone()).or_default() += c.count;
    }
    let last = counts.iter().map(|c| c.day).max().map(date_of);
    Ok(Json(json!({
        "packageName": package.name,
        "totalDownloads": counts.iter().map(|c| c.count).sum::<u64>(),
        "weeklyDownloads": within(7),
        "monthlyDownloads": within(30),
        "versionDownloads": versions,
        "lastDownload": last,
    }))
    .into_response())
}

/// `GET /analytics/{name}/timeline?days=`: a package's downloads per day, the last `days`
/// days up to today, days without any included.
async fn timeline(state: &AppState, package: &Package, days: i64) -> PantryResult {
    let today = day_of(Timestamp::now());
    let first = today - days + 1;
    let mut per_day = BTreeMap::<i64, u64>::new();
    for c in state.store.downloads(package.id, first).await? {
        *per_day.entry(c.day).or_default() += c.count;
    }
    let timeline: Vec<_> = (first..=today)
        .map(|day| json!({"date": date_of(day), "count": per_day.get(&day).copied().unwrap_or(0)}))
        .collect();
    Ok(Json(json!({"packageName": package.name, "timeline": timeline})).into_response())
}
