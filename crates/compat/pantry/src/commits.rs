//! Commit packages, as pkg-pr-new keeps them: `POST /publish/commit` stores the npm tarballs
//! built from one git commit, `GET /commits/{sha}`, `/commits/{sha}/{name}` and
//! `/commits/{sha}/{name}/tarball` read them back (`npm install` takes the last as a URL).
//!
//! They live in a generic repository of their own (`pantry.commits_repository`, created on
//! the first commit publish with `retention_days = pantry.commit_retention_days`, 90 by
//! default): the commit's sha is the package, each npm name a version of it (with `/` written
//! `%2f`, as npm writes scoped names in URLs) holding `{safe}-{sha7}.tgz`. Garbage collection
//! removes them once the retention has passed, under its lease. Publishing a name of a
//! commit again replaces it, as the original does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value, json};
use wharf_core::Error;
use wharf_core::auth::{Principal, authorize, authorize_server};
use wharf_core::model::{NewRepository, PropertyOwner, RepoKind, RepoPolicy, Repository, Scope};
use wharf_core::names::RepoName;
use wharf_core::usecases::create_repository;
use wharf_server::AppState;

use crate::{Mount, PantryResult, not_found, only, split_name};

/// The file property holding what the publish said besides the tarball.
pub(crate) const RECORD: &str = "pantry.commit";

/// The commit repository's format.
const FORMAT: &str = "generic";

/// A commit's sha as the original routes it: lower-case hexadecimal.
pub(crate) fn valid_sha(sha: &str) -> bool {
    !sha.is_empty()
        && sha.len() <= 64
        && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The version a name is stored as: npm's URL form of a scoped name.
pub(crate) fn version_key(name: &str) -> String {
    name.replace('/', "%2f")
}

/// The original's file-name form of a name: every `@` dropped, every `/` made a `-`.
pub(crate) fn safe(name: &str) -> String {
    name.replace('@', "").replace('/', "-")
}

/// The tarball's file name.
pub(crate) fn file_name(name: &str, sha: &str) -> String {
    format!("{}-{}.tgz", safe(name), &sha[..sha.len().min(7)])
}

/// Where a commit package's tarball is downloaded.
pub(crate) fn tarball_url(base: &str, mount: &Mount, sha: &str, name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{base}{}/commits/{sha}/{encoded}/tarball", mount.prefix)
}

/// The commit repository, created on first use when `create` is set.
pub(crate) async fn repository(
    state: &AppState,
    mount: &Mount,
    create: bool,
) -> wharf_core::Result<Repository> {
    match state.repository(FORMAT, &mount.commits).await {
        Err(Error::NotFound(_)) if create => {}
        found => return found,
    }
    let created = create_repository(
        state.store.as_ref(),
        &state.repository_rules(),
        NewRepository {
            name: RepoName::new(mount.commits.as_str())?,
            format: FORMAT.into(),
            kind: RepoKind::Hosted,
            upstream: None,
            members: Vec::new(),
            policy: RepoPolicy {
                allow_overwrite: true,
                retention_days: Some(mount.commit_retention_days).filter(|d| *d > 0),
                ..RepoPolicy::default()
            },
        },
    )
    .await;
    match created {
        Ok(_) | Err(Error::Conflict(_)) => {
            tracing::info!(repository = %mount.commits, "created the repository of commit packages");
            state.forget_repositories();
            state.repository(FORMAT, &mount.commits).await
        }
        Err(e) => Err(e),
    }
}

/// The commit repository for a caller who may write to it. Authorized before any side effect:
/// when it does not exist yet, only a caller with write scope on the whole server (not a token
/// of another repository) has it created.
///
/// # Errors
/// [`Error::Forbidden`] without the scope, or what creating it fails with.
pub(crate) async fn writable(
    state: &AppState,
    mount: &Mount,
    caller: &Principal,
) -> wharf_core::Result<Repository> {
    let repo = match repository(state, mount, false).await {
        Err(Error::NotFound(_)) => {
            authorize_server(Some(caller), None, Scope::Write)?;
            repository(state, mount, true).await?
        }
        found => found?,
    };
    authorize(Some(caller), &repo, Scope::Write)?;
    Ok(repo)
}

/// `GET /commits/{sha}[/{name}[/tarball]]`.
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
    let (sha, rest) = path
        .split_once('/')
        .map_or((path.as_str(), None), |(s, r)| (s, Some(r)));
    if !valid_sha(sha) {
        return Err(not_found("Not found"));
    }
    let repo = match repository(&state, &mount, false).await {
        Err(Error::NotFound(_)) => return Err(not_found("No packages found for this commit")),
        other => other?,
    };
    let caller = wharf_server::auth::authenticate(&state, &headers).await?;
    wharf_core::auth::authorize(caller.as_ref(), &repo, Scope::Read)?;
    let Some(rest) = rest.filter(|r| !r.is_empty()) else {
        return list(&state, &mount, &repo, sha, &headers).await;
    };
    let (name, tail) = split_name(rest).ok_or_else(|| not_found("Not found"))?;
    let file = file_name(&name, sha);
    let entry = state
        .store
        .file(repo.id, sha, &version_key(&name), &file)
        .await?
        .ok_or_else(|| not_found("Commit package not found"))?;
    match tail {
        None => {
            let record = state
                .store
                .properties(PropertyOwner::File(entry.id))
                .await?
                .into_iter()
                .find_map(|(n, v)| (n == RECORD).then_some(v));
            let base = state.base_url(&headers);
            Ok(Json(describe(
                &base,
                &mount,
                sha,
                &name,
                &entry.blob,
                record.as_deref(),
            ))
            .into_response())
        }
        Some("tarball") => {
            let mut response = state
                .serve_file(&method, &headers, &repo, &entry, "application/gzip")
                .await?;
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
        Some(_) => Err(not_found("Not found")),
    }
}

/// `GET /commits/{sha}`: every package of a commit, in publish order.
async fn list(
    state: &AppState,
    mount: &Mount,
    repo: &Repository,
    sha: &str,
    headers: &HeaderMap,
) -> PantryResult {
    let none = || not_found("No packages found for this commit");
    let package = state.store.package(repo.id, sha).await?.ok_or_else(none)?;
    let base = state.base_url(headers);
    let packages: Vec<Value> = state
        .store
        .package_files(package.id, &[RECORD])
        .await?
        .iter()
        .map(|f| {
            let name = f.version.version.replace("%2f", "/");
            let record = f
                .properties
                .iter()
                .find(|(n, _)| n == RECORD)
                .map(|(_, v)| v.as_str());
            describe(&base, mount, sha, &name, &f.file.blob, record)
        })
        .collect();
    let first = packages.first().ok_or_else(none)?;
    Ok(Json(json!({
        "sha": sha,
        "repository": first.get("repository"),
        "publishedAt": first.get("publishedAt"),
        "packages": packages,
    }))
    .into_response())
}

/// A `CommitPublish` record.
fn describe(
    base: &str,
    mount: &Mount,
    sha: &str,
    name: &str,
    blob: &wharf_core::model::BlobRecord,
    record: Option<&str>,
) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("sha".into(), json!(sha));
    out.insert(
        "tarballUrl".into(),
        json!(tarball_url(base, mount, sha, name)),
    );
    out.insert(
        "checksum".into(),
        json!(format!("sha256:{}", blob.sha256.hex())),
    );
    if let Some(Ok(Value::Object(record))) = record.map(serde_json::from_str::<Value>) {
        for key in ["publishedAt", "repository", "packageDir", "version"] {
            if let Some(value) = record.get(key).filter(|v| !v.is_null()) {
                out.insert(key.into(), value.clone());
            }
        }
    }
    out.insert("size".into(), json!(blob.size));
    Value::Object(out)
}

/// What a commit publish answers.
pub(crate) fn published(base: &str, mount: &Mount, sha: &str, names: &[String]) -> Response {
    let packages: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "url": tarball_url(base, mount, sha, name), "sha": sha}))
        .collect();
    (
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "sha": sha,
            "packages": packages,
            "message": format!(
                "Published {} package(s) from commit {}",
                names.len(),
                &sha[..sha.len().min(7)]
            ),
        })),
    )
        .into_response()
}
