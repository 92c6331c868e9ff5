//! The Pantry registry API (seed 002, `@stacksjs/registry`) over an npm repository, built on
//! the npm format's use cases: [`PantryApi`] at `/pantry/…` (or at `/` with
//! `compat.root = "pantry"`): package metadata, versions and tarballs, publish, search,
//! health, commit packages, and download analytics from Wharf's download counts. Every answer
//! carries the original's CORS headers (tower-http's header layers) and `OPTIONS` on any route
//! is 200 with no body (one middleware); errors are `{"error": "…"}` with its messages.

mod analytics;
mod categories;
mod commit_publish;
mod commits;
mod packages;
mod publish;
mod source;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Json, Router};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;
use wharf_core::model::Repository;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};
use wharf_server::{AppState, SeedApi};

/// `[pantry]`: which npm repository the Pantry API serves, and where commit packages go.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct PantryConfig {
    /// The npm repository (default `main`).
    #[serde(default = "default_repository")]
    pub repository: String,
    /// The generic repository of commit packages (default `commits`), created on first use.
    #[serde(default = "default_commits_repository")]
    pub commits_repository: String,
    /// Days a commit package is kept when that repository is created (default 90; 0: for ever).
    #[serde(default = "default_commit_retention_days")]
    pub commit_retention_days: u32,
}

fn default_repository() -> String {
    "main".into()
}

fn default_commits_repository() -> String {
    "commits".into()
}

fn default_commit_retention_days() -> u32 {
    90
}

impl Default for PantryConfig {
    fn default() -> Self {
        Self {
            repository: default_repository(),
            commits_repository: default_commits_repository(),
            commit_retention_days: default_commit_retention_days(),
        }
    }
}

/// Where the API is mounted and what it serves.
pub(crate) struct Mount {
    /// `/pantry`, or empty at the root.
    pub prefix: String,
    /// The npm repository.
    pub repository: String,
    /// The generic repository of commit packages.
    pub commits: String,
    /// Its retention when Wharf creates it.
    pub commit_retention_days: u32,
}

/// The Pantry API, serving the npm repository its configuration names.
#[derive(Debug, Clone, Default)]
pub struct PantryApi {
    config: PantryConfig,
}

impl PantryApi {
    /// The API as `config` sets it up.
    #[must_use]
    pub fn new(config: PantryConfig) -> Self {
        Self { config }
    }
}

impl SeedApi for PantryApi {
    fn name(&self) -> &'static str {
        "pantry"
    }

    fn routes(&self) -> Router<AppState> {
        routes("/pantry", &self.config)
    }

    fn root_routes(&self) -> Router<AppState> {
        routes("", &self.config)
    }
}

/// The Pantry routes under `prefix` (`/pantry`, or empty at the root).
fn routes(prefix: &str, config: &PantryConfig) -> Router<AppState> {
    let mount = Mount {
        prefix: prefix.to_owned(),
        repository: config.repository.clone(),
        commits: config.commits_repository.clone(),
        commit_retention_days: config.commit_retention_days,
    };
    let cors =
        |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    Router::new()
        .route(&format!("{prefix}/health"), any(health))
        .route(
            &format!("{prefix}/packages/{{*path}}"),
            any(packages::dispatch),
        )
        .route(&format!("{prefix}/search"), any(packages::search))
        .route(&format!("{prefix}/publish"), any(publish::publish))
        .route(
            &format!("{prefix}/publish/commit"),
            any(commit_publish::publish_commit),
        )
        .route(
            &format!("{prefix}/commits/{{*path}}"),
            any(commits::dispatch),
        )
        .route(&format!("{prefix}/analytics"), any(analytics::top))
        .route(
            &format!("{prefix}/analytics/{{*path}}"),
            any(analytics::dispatch),
        )
        .route(
            &format!("{prefix}/api/analytics/{{*path}}"),
            any(categories::api),
        )
        .route_layer(axum::middleware::from_fn(options))
        .layer(cors(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .layer(cors(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, OPTIONS",
        ))
        .layer(cors(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Content-Type, Authorization",
        ))
        .layer(Extension(Arc::new(mount)))
}

/// `OPTIONS` on any route of the API (a CORS preflight or not): 200 with no body, the CORS
/// headers added by the layers around it.
async fn options(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if request.method() == Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    next.run(request).await
}

/// An error in Pantry's shape: `{"error": "…"}`.
pub(crate) struct PantryError(pub StatusCode, pub String);

impl From<Error> for PantryError {
    fn from(e: Error) -> Self {
        let (status, message, _) = wharf_server::error::parts(&e);
        Self(status, message)
    }
}

impl IntoResponse for PantryError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

pub(crate) type PantryResult = std::result::Result<Response, PantryError>;

/// 404 with one of the original's messages.
pub(crate) fn not_found(message: &str) -> PantryError {
    PantryError(StatusCode::NOT_FOUND, message.to_owned())
}

/// Methods other than `allowed` (and `HEAD` beside `GET`) → 404 `Not found`, as the original
/// answers them.
pub(crate) fn only(method: &Method, allowed: &Method) -> Option<PantryResult> {
    (method != allowed && !(allowed == Method::GET && method == Method::HEAD))
        .then(|| Err(not_found("Not found")))
}

/// The npm repository the API serves; reads need what the repository asks for.
pub(crate) async fn repository(
    state: &AppState,
    mount: &Mount,
    headers: &HeaderMap,
) -> Result<Repository> {
    let repo = state.repository("npm", &mount.repository).await?;
    let caller = wharf_server::auth::authenticate(state, headers).await?;
    wharf_core::auth::authorize(caller.as_ref(), &repo, wharf_core::model::Scope::Read)?;
    Ok(repo)
}

/// A name and what follows it in a path: `@scope/name` takes two segments (the original's
/// fixed route rule).
pub(crate) fn split_name(path: &str) -> Option<(String, Option<&str>)> {
    let (name_end, rest) = if path.starts_with('@') {
        let first = path.find('/')?;
        match path[first + 1..].find('/') {
            Some(second) => (first + 1 + second, Some(&path[first + 2 + second..])),
            None => (path.len(), None),
        }
    } else {
        match path.find('/') {
            Some(at) => (at, Some(&path[at + 1..])),
            None => (path.len(), None),
        }
    };
    let name = &path[..name_end];
    (!name.is_empty() && !name.ends_with('/'))
        .then(|| (name.to_owned(), rest.filter(|r| !r.is_empty())))
}

/// `GET /health`.
async fn health(method: Method) -> PantryResult {
    if let Some(done) = only(&method, &Method::GET) {
        return done;
    }
    Ok(Json(json!({"status": "ok", "timestamp": Timestamp::now().rfc3339()})).into_response())
}

#[cfg(test)]
mod tests {
    use crate::split_name;

    #[test]
    fn names_follow_the_fixed_route_rule() {
        assert_eq!(split_name("foo"), Some(("foo".into(), None)));
        assert_eq!(
            split_name("foo/versions"),
            Some(("foo".into(), Some("versions")))
        );
        assert_eq!(split_name("@s/foo"), Some(("@s/foo".into(), None)));
        assert_eq!(
            split_name("@s/foo/1.0.0/tarball"),
            Some(("@s/foo".into(), Some("1.0.0/tarball")))
        );
        assert_eq!(split_name("@s"), None);
        assert_eq!(split_name(""), None);
    }
}
