//! `GET /packages/{name}[/{version}]`, `/packages/{name}/versions`,
//! `/packages/{name}/{version}/tarball` and `GET /search`, over a hosted repository or, as
//! the original's npm fallback, a proxy or a group (see [`crate::source`]).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, header};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_core::model::{Package, Repository};
use wharf_server::AppState;
use wharf_server::query::parse_query;

use crate::categories::counted;
use crate::source::{self, Source, stored_tarball};
use crate::{Mount, PantryResult, not_found, only, repository, split_name};

/// Every `/packages/…` request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    let (name, rest) = split_name(&path).ok_or_else(|| not_found("Not found"))?;
    let repo = repository(&state, &mount, &headers).await?;
    let registry = format!("{}/npm/{}", state.base_url(&headers), repo.name);
    let source = Source::open(&state, &repo, &name, &registry)
        .await?
        .ok_or_else(|| not_found("Package not found"))?;
    let page = Page {
        state: &state,
        mount: &mount,
        repo: &repo,
        name: &name,
        headers: &headers,
    };
    match rest.map(|r| r.split_once('/').map_or((r, None), |(v, t)| (v, Some(t)))) {
        None => page.metadata(&source, None).await,
        Some(("versions", None)) => {
            Ok(Json(json!({"versions": source.versions(&state).await?})).into_response())
        }
        Some((version, None)) => page.metadata(&source, Some(version)).await,
        Some((version, Some("tarball"))) => page.tarball(version, &method).await,
        Some(_) => Err(not_found("Not found")),
    }
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

/// What one package request reads.
struct Page<'a> {
    state: &'a AppState,
    mount: &'a Mount,
    repo: &'a Repository,
    name: &'a str,
    headers: &'a HeaderMap,
}

impl Page<'_> {
    /// `PackageMetadata` of a version (the latest when `None`).
    async fn metadata(&self, source: &Source, version: Option<&str>) -> PantryResult {
        let missing = || not_found("Package version not found");
        let wanted = match version {
            Some(v) => v.to_owned(),
            None => source.latest(self.state).await?.ok_or_else(missing)?,
        };
        let view = source
            .version(self.state, &wanted)
            .await?
            .ok_or_else(missing)?;
        let manifest = &view.manifest;
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("version".into(), json!(wanted));
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
                "{}{}/packages/{}/{wanted}/tarball",
                self.state.base_url(self.headers),
                self.mount.prefix,
                self.name,
            )),
        );
        // The stored tarball's SHA-256; a proxied one not fetched yet has its SHA-1, as the
        // original's fallback answers.
        let checksum = match stored_tarball(self.state, self.repo, self.name, &wanted).await? {
            Some(entry) => Some(format!("sha256:{}", entry.blob.sha256.hex())),
            None => manifest
                .get("dist")
                .and_then(|d| d.get("shasum"))
                .and_then(Value::as_str)
                .map(|sha1| format!("sha1:{sha1}")),
        };
        if let Some(checksum) = checksum {
            out.insert("checksum".into(), json!(checksum));
        }
        let published = view
            .published_at
            .unwrap_or_else(|| wharf_core::time::Timestamp::now().rfc3339());
        out.insert("publishedAt".into(), json!(published));
        let mut downloads = 0;
        for member in counted(self.state, self.repo).await? {
            if let Some(package) = self.state.store.package(member.id, self.name).await? {
                downloads += total_downloads(self.state, &package).await?;
            }
        }
        out.insert("downloads".into(), json!(downloads));
        Ok(Json(Value::Object(out)).into_response())
    }

    /// The tarball of a version, as an attachment; counted as a download.
    async fn tarball(&self, version: &str, method: &Method) -> PantryResult {
        let entry = source::tarball(self.state, self.repo, self.name, version)
            .await?
            .ok_or_else(|| not_found("Package not found"))?;
        let mut response = self
            .state
            .serve_file(method, self.headers, self.repo, &entry, "application/gzip")
            .await?;
        // The original's safe name: the scope's `@` dropped and its `/` made a `-`.
        let safe = self.name.replacen('@', "", 1).replacen('/', "-", 1);
        if let Ok(value) =
            HeaderValue::from_str(&format!("attachment; filename=\"{safe}-{version}.tgz\""))
        {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(response)
    }
}

/// Every package of `repo`'s counted repositories (its members, for a group), in member order.
async fn members_packages(state: &AppState, repo: &Repository) -> Result<Vec<Package>> {
    let mut all = Vec::new();
    for member in counted(state, repo).await? {
        all.extend(state.store.all_packages(member.id).await?);
    }
    Ok(all)
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

/// Whether `needle` (lower case) is in the package's name, description or one of its
/// keywords, as the original searches.
fn matches(name: &str, summary: &Map<String, Value>, needle: &str) -> bool {
    let description = summary
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let in_keywords = summary
        .get("keywords")
        .and_then(Value::as_array)
        .is_some_and(|k| {
            k.iter()
                .filter_map(Value::as_str)
                .any(|k| k.to_lowercase().contains(needle))
        });
    name.to_lowercase().contains(needle) || description.contains(needle) || in_keywords
}

/// `GET /search?q=&limit=20`: packages whose name, description or keywords contain `q`
/// (case-insensitive), most downloaded first; when fewer than `limit`, completed from the npm
/// search of the proxies behind the repository, as the original asks npm's.
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PantryResult {
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    let query: SearchQuery = parse_query(query.as_deref())?;
    let needle = query.q.to_lowercase();
    let limit = query.limit.unwrap_or(20).clamp(1, 250);
    let repo = repository(&state, &mount, &headers).await?;
    let totals = crate::categories::downloads_by_name(&state, &repo, 0).await?;
    let mut results = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for package in members_packages(&state, &repo).await? {
        if !seen.insert(package.name.clone()) {
            continue;
        }
        let summary = wharf_format_npm::usecases::head(&state, &package)
            .await?
            .summary;
        if matches(&package.name, &summary, &needle) {
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
    let mut results: Vec<Value> = results
        .into_iter()
        .take(limit)
        .map(|(_, hit)| hit)
        .collect();
    if results.len() < limit {
        let wanted = limit - results.len();
        for hit in source::upstream_search(&state, &repo, &query.q, wanted).await? {
            if seen.insert(hit["name"].as_str().unwrap_or_default().to_owned()) {
                results.push(hit);
            }
        }
        results.truncate(limit);
    }
    Ok(Json(json!({"results": results})).into_response())
}
