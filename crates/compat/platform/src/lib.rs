//! The Platform Package Repository API (seed 001), over a generic repository: [`PlatformApi`]
//! at `/platform/packages`, and at `/packages` when `compat.root = "platform"`.
//!
//! `GET {root}` lists `[{"name","latest_versions":[{"version","file"}]}]`; `GET|PUT|DELETE
//! {root}/{file}` read, store and delete `name-X.Y.Z.tar.gz` files, answering with the
//! original's status codes and plain-text bodies. Files are kept as package `name`, version
//! `X.Y.Z` in the configured generic repository, so they are also reachable through
//! `/generic/…` and `/api/v1`. Differences from the original, on purpose: writes need a token
//! (Wharf's security default); an absent `recency` means the documented default of 1.

mod callback;
pub mod names;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use wharf_core::auth::authorize;
use wharf_core::model::{FileEntry, Repository, Scope};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::usecases::{PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::auth::authenticate;
use wharf_server::error::{finish, parts};
use wharf_server::{AppState, SeedApi};

use callback::{PackageEvent, notify};

/// `[platform]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// The generic repository holding the packages.
    #[serde(default = "default_repository")]
    pub repository: String,
    /// A URL to POST package events to (the original's `config.package_callback`).
    #[serde(default)]
    pub package_callback: Option<String>,
}

fn default_repository() -> String {
    "main".into()
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            repository: default_repository(),
            package_callback: None,
        }
    }
}

#[derive(Clone)]
struct Platform {
    config: PlatformConfig,
    client: reqwest::Client,
}

/// The client of `package_callback`: the admin's URL only — no redirect is followed (a
/// redirect answer is logged as refused) — and a receiver that hangs is given up after 30 s.
fn callback_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// The Platform API, serving the repository its configuration names.
#[derive(Debug, Clone, Default)]
pub struct PlatformApi {
    config: PlatformConfig,
}

impl PlatformApi {
    /// The API as `config` sets it up.
    #[must_use]
    pub fn new(config: PlatformConfig) -> Self {
        Self { config }
    }
}

impl SeedApi for PlatformApi {
    fn name(&self) -> &'static str {
        "platform"
    }

    fn routes(&self) -> Router<AppState> {
        routes("/platform/packages", &self.config)
    }

    fn root_routes(&self) -> Router<AppState> {
        routes("/packages", &self.config)
    }
}

/// The API's routes, at `root` (`/platform/packages`, or `/packages` in compat mode).
fn routes(root: &str, config: &PlatformConfig) -> Router<AppState> {
    let platform = Arc::new(Platform {
        config: config.clone(),
        client: callback_client(),
    });
    Router::new()
        .route(root, get(list_packages))
        .route(
            &format!("{root}/{{*file}}"),
            get(get_package).put(put_package).delete(delete_package),
        )
        .layer(Extension(platform))
}

/// A plain-text error, as the original's tornado handlers write them.
struct PlainError(Error);

impl IntoResponse for PlainError {
    fn into_response(self) -> Response {
        let (status, message, logged) = parts(&self.0);
        let text = match &self.0 {
            Error::NotFound(_) => "404 not found".to_owned(),
            Error::Internal { .. } => "500 Internal Server Error \n".to_owned(),
            _ => format!("{message}\n"),
        };
        finish((status, text).into_response(), &self.0, logged)
    }
}

impl From<Error> for PlainError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

type PlainResult<T> = std::result::Result<T, PlainError>;

async fn repository(
    state: &AppState,
    platform: &Platform,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Repository> {
    let caller = authenticate(state, headers).await?;
    let repo = state
        .repository("generic", &platform.config.repository)
        .await?;
    authorize(caller.as_ref(), &repo, scope)?;
    Ok(repo)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    recency: Option<String>,
}

#[derive(Debug, Serialize)]
struct Listed {
    latest_versions: Vec<ListedVersion>,
    name: String,
}

#[derive(Debug, Serialize)]
struct ListedVersion {
    version: String,
    file: String,
}

/// List packages: `GET /packages[?recency=n]` — per name, the `n` newest versions (default 1;
/// 0 lists none; a negative `n` drops that many of the oldest, as the original's slice).
async fn list_packages(
    State(state): State<AppState>,
    Extension(platform): Extension<Arc<Platform>>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> PlainResult<Json<Vec<Listed>>> {
    let recency: i64 = match query.recency.as_deref() {
        None => 1,
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| Error::invalid(format!("recency must be an integer, found {s:?}")))?,
    };
    let repo = repository(&state, &platform, &headers, Scope::Read).await?;
    let mut grouped: BTreeMap<String, Vec<(names::PlatformFile, String)>> = BTreeMap::new();
    for located in state.store.list_repository_files(repo.id).await? {
        if let Some(parsed) = names::parse(&located.file.name) {
            grouped
                .entry(parsed.name.clone())
                .or_default()
                .push((parsed, located.file.name));
        }
    }
    let listed = grouped
        .into_iter()
        .map(|(name, mut files)| {
            files.sort_by_key(|f| std::cmp::Reverse(f.0.key));
            let keep = if recency >= 0 {
                usize::try_from(recency).unwrap_or(usize::MAX)
            } else {
                files
                    .len()
                    .saturating_sub(usize::try_from(recency.unsigned_abs()).unwrap_or(usize::MAX))
            };
            files.truncate(keep);
            Listed {
                name,
                latest_versions: files
                    .into_iter()
                    .map(|(p, file)| ListedVersion {
                        version: p.version,
                        file,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Json(listed))
}

fn coordinates(file: &str) -> Result<(PackageName, VersionName, FileName)> {
    let parsed = names::parse(file).ok_or_else(|| Error::not_found("no such package"))?;
    Ok((
        PackageName::new(parsed.name)?,
        VersionName::new(parsed.version)?,
        FileName::new(file)?,
    ))
}

/// The stored file of a platform file name; 404 for names the API would not list.
async fn stored_file(state: &AppState, repo: &Repository, file: &str) -> Result<FileEntry> {
    let (package, version, name) = coordinates(file).map_err(|_| Error::not_found(""))?;
    state
        .store
        .file(repo.id, package.as_str(), version.as_str(), name.as_str())
        .await?
        .ok_or_else(|| Error::not_found(""))
}

/// Get package contents: `GET /packages/{file}` — the bytes, or 404 `404 not found`.
async fn get_package(
    State(state): State<AppState>,
    Extension(platform): Extension<Arc<Platform>>,
    Path(file): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> PlainResult<Response> {
    let repo = repository(&state, &platform, &headers, Scope::Read).await?;
    let entry = stored_file(&state, &repo, &file).await?;
    Ok(state
        .serve_file(&method, &headers, &repo, &entry, "application/x-tar")
        .await?)
}

/// Upload a package: `PUT /packages/{file}` — 200 with an empty body; 400 with the reason
/// for a bad file name. An existing file is replaced, as in the original.
async fn put_package(
    State(state): State<AppState>,
    Extension(platform): Extension<Arc<Platform>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> PlainResult<StatusCode> {
    let mut repo = repository(&state, &platform, &headers, Scope::Write).await?;
    repo.ensure_hosted()?;
    names::validate(&file).map_err(Error::Invalid)?;
    let (package, version, name) = coordinates(&file)?;
    let staged = state.stage_body(&repo, &headers, body, None).await?;
    repo.policy.allow_overwrite = true;
    publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: &repo,
            package: &package,
            canonical: None,
            version: &version,
            file: &name,
            mode: PublishMode::CreateOrAdd,
            properties: vec![],
        },
        staged,
    )
    .await?;
    if let Some(url) = &platform.config.package_callback {
        notify(&platform.client, url, &file, PackageEvent::Created);
    }
    Ok(StatusCode::OK)
}

/// Delete a package: `DELETE /packages/{file}` — 200, or 404 `404 not found`.
async fn delete_package(
    State(state): State<AppState>,
    Extension(platform): Extension<Arc<Platform>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> PlainResult<StatusCode> {
    let repo = repository(&state, &platform, &headers, Scope::Write).await?;
    let entry = stored_file(&state, &repo, &file).await?;
    state.store.delete_file(entry.id).await?;
    if let Some(url) = &platform.config.package_callback {
        notify(&platform.client, url, &file, PackageEvent::NotCreated);
    }
    Ok(StatusCode::OK)
}
