//! `GET /packages/{name}[/{version}]`, `/packages/{name}/versions`,
//! `/packages/{name}/{version}/tarball` and `GET /search`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, header};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_core::model::{Package, PropertyOwner, Repository};
use wharf_server::AppState;
use wharf_server::body::{Download, serve_blob};
use wharf_server::query::parse_query;

use super::{Mount, PantryResult, not_found, preflight, repository, split_name};
use crate::manifest::{FULL, parse_member};
use crate::{names, packument};

/// Every `/packages/…` request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = preflight(&method, &Method::GET) {
        return done;
    }
    let (name, rest) = split_name(&path).ok_or_else(|| not_found("Not found"))?;
    let repo = repository(&state, &mount, &headers).await?;
    let package = state
        .store
        .package(repo.id, &name)
        .await?
        .ok_or_else(|| not_found("Package not found"))?;
    match rest.map(|r| r.split_once('/').map_or((r, None), |(v, t)| (v, Some(t)))) {
        None => metadata(&state, &mount, &repo, &package, None, &headers).await,
        Some(("versions", None)) => {
            Ok(Json(json!({"versions": versions(&state, &package).await?})).into_response())
        }
        Some((version, None)) => {
            metadata(&state, &mount, &repo, &package, Some(version), &headers).await
        }
        Some((version, Some("tarball"))) => {
            tarball(&state, &repo, &package, version, &method, &headers).await
        }
        Some(_) => Err(not_found("Not found")),
    }
}

/// A package's versions, highest first (semver; others after, as published).
async fn versions(state: &AppState, package: &Package) -> Result<Vec<String>> {
    let mut versions: Vec<String> = state
        .store
        .list_versions(package.id)
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
    versions.sort_by(
        |a, b| match (semver::Version::parse(a), semver::Version::parse(b)) {
            (Ok(a), Ok(b)) => b.cmp(&a),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => std::cmp::Ordering::Equal,
        },
    );
    Ok(versions)
}

/// The version `latest` names, else the highest.
async fn latest(state: &AppState, package: &Package) -> Result<Option<String>> {
    let head = packument::head(state, package).await?;
    if let Some(latest) = head.tags.get("latest").and_then(Value::as_str) {
        return Ok(Some(latest.to_owned()));
    }
    Ok(versions(state, package).await?.into_iter().next())
}

/// All downloads of a package.
pub(crate) async fn total_downloads(state: &AppState, package: &Package) -> Result<u64> {
    Ok(state
        .store
        .downloads(package.id, 0)
        .await?
        .iter()
        .map(|c| c.count)
        .sum())
}

/// `PackageMetadata` of a version (the latest when `None`).
async fn metadata(
    state: &AppState,
    mount: &Mount,
    repo: &Repository,
    package: &Package,
    version: Option<&str>,
    headers: &HeaderMap,
) -> PantryResult {
    let missing = || not_found("Package version not found");
    let wanted = match version {
        Some(v) => v.to_owned(),
        None => latest(state, package).await?.ok_or_else(missing)?,
    };
    let version = state
        .store
        .version(package.id, &wanted)
        .await?
        .ok_or_else(missing)?;
    let member = state
        .store
        .properties(PropertyOwner::Version(version.id))
        .await?
        .into_iter()
        .find_map(|(n, v)| (n == FULL).then_some(v))
        .ok_or_else(missing)?;
    let (_, manifest) = parse_member(&member)?;
    let file = names::tarball(&package.name, &version.version);
    let entry = state
        .store
        .file(repo.id, &package.name, &version.version, &file)
        .await?
        .ok_or_else(missing)?;
    let mut out = Map::new();
    out.insert("name".into(), json!(package.name));
    out.insert("version".into(), json!(version.version));
    for key in [
        "description",
        "repository",
        "homepage",
        "license",
        "author",
        "keywords",
        "dependencies",
        "devDependencies",
        "peerDependencies",
    ] {
        if let Some(value) = manifest.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    out.insert(
        "tarballUrl".into(),
        json!(format!(
            "{}{}/packages/{}/{}/tarball",
            state.base_url(headers),
            mount.prefix,
            package.name,
            version.version
        )),
    );
    out.insert(
        "checksum".into(),
        json!(format!("sha256:{}", entry.blob.sha256.hex())),
    );
    out.insert("publishedAt".into(), json!(version.created_at.rfc3339()));
    out.insert(
        "downloads".into(),
        json!(total_downloads(state, package).await?),
    );
    Ok(Json(Value::Object(out)).into_response())
}

/// The tarball of a version, as an attachment; counted as a download.
async fn tarball(
    state: &AppState,
    repo: &Repository,
    package: &Package,
    version: &str,
    method: &Method,
    headers: &HeaderMap,
) -> PantryResult {
    let file = names::tarball(&package.name, version);
    let entry = state
        .store
        .file(repo.id, &package.name, version, &file)
        .await?
        .ok_or_else(|| not_found("Package not found"))?;
    let response = serve_blob(
        &state.blobs,
        method,
        headers,
        Download {
            blob: &entry.blob,
            modified: entry.created_at,
            content_type: "application/gzip",
        },
    )
    .await?;
    let mut response = state.downloads.counted(method, response, entry.version_id);
    // The original's safe name: the scope's `@` dropped and its `/` made a `-`.
    let safe = package.name.replacen('@', "", 1).replacen('/', "-", 1);
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{safe}-{version}.tgz\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

/// `GET /search?q=&limit=20`: packages whose name, description or keywords contain `q`
/// (case-insensitive), most downloaded first.
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = preflight(&method, &Method::GET) {
        return done;
    }
    let query: SearchQuery = parse_query(query.as_deref())?;
    let needle = query.q.to_lowercase();
    let limit = query.limit.unwrap_or(20).clamp(1, 250);
    let repo = repository(&state, &mount, &headers).await?;
    let totals = super::categories::downloads_by_name(&state, &repo, 0).await?;
    let mut results = Vec::new();
    for package in packument::all_packages(&state, &repo).await? {
        let summary = packument::head(&state, &package).await?.summary;
        let text = |key: &str| {
            summary
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase()
        };
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
        let matches = package.name.to_lowercase().contains(&needle)
            || text("description").contains(&needle)
            || keywords.iter().any(|k| k.contains(&needle));
        if matches {
            let downloads = totals.get(&package.name).copied().unwrap_or(0);
            let mut hit = Map::new();
            hit.insert("name".into(), json!(package.name));
            for key in ["version", "description", "keywords", "author"] {
                if let Some(value) = summary.get(key).filter(|v| !v.is_null()) {
                    hit.insert(key.into(), value.clone());
                }
            }
            hit.insert("downloads".into(), json!(downloads));
            results.push((downloads, Value::Object(hit)));
        }
    }
    results.sort_by_key(|r| std::cmp::Reverse(r.0));
    let results: Vec<Value> = results
        .into_iter()
        .take(limit)
        .map(|(_, hit)| hit)
        .collect();
    Ok(Json(json!({"results": results})).into_response())
}
