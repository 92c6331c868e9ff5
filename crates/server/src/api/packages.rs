//! Packages, versions and files of any format: list, show, delete.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use wharf_core::auth::authorize;
use wharf_core::model::{Package, Repository, Scope, Version};
use wharf_core::{Error, Result as CoreResult};

use super::Caller;
use super::extract::ApiQuery;
use super::views::{FileView, PackageView, PageQuery, VersionSummary, VersionView, YankRequest};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub(super) async fn repository(
    state: &AppState,
    caller: Option<&wharf_core::auth::Principal>,
    format: &str,
    name: &str,
    scope: Scope,
) -> CoreResult<Repository> {
    let repo = state.repository(format, name).await?;
    authorize(caller, &repo, scope)?;
    Ok(repo)
}

pub(super) async fn package(
    state: &AppState,
    repo: &Repository,
    name: &str,
) -> CoreResult<Package> {
    state
        .store
        .package(repo.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {name} not found in {}", repo.name)))
}

async fn version(state: &AppState, package: &Package, version: &str) -> CoreResult<Version> {
    state
        .store
        .version(package.id, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("version {version} of {} not found", package.name)))
}

/// Lists the packages of a repository by name, a page at a time.
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}/packages", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), PageQuery),
    responses((status = 200, body = [PackageView]), (status = 404, body = ErrorBody)))]
pub async fn list_packages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo)): Path<(String, String)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Vec<PackageView>>> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let packages = state
        .store
        .list_packages(repo.id, page.after.as_deref(), limit)
        .await?;
    Ok(Json(
        packages.iter().map(|p| PackageView::new(p, None)).collect(),
    ))
}

/// Shows a package with its versions.
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}/packages/{package}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path)),
    responses((status = 200, body = PackageView), (status = 404, body = ErrorBody)))]
pub async fn get_package(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo, name)): Path<(String, String, String)>,
) -> ApiResult<Json<PackageView>> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let package = package(&state, &repo, &name).await?;
    let versions = state.store.list_versions(package.id).await?;
    Ok(Json(PackageView::new(
        &package,
        Some(versions.iter().map(VersionSummary::from).collect()),
    )))
}

/// Deletes a package with all its versions and files.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_package(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo, name)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Write).await?;
    let package = package(&state, &repo, &name).await?;
    state.store.delete_package(package.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows a version with its files and their digests.
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo, name, ver)): Path<(String, String, String, String)>,
) -> ApiResult<Json<VersionView>> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let package = package(&state, &repo, &name).await?;
    let version = version(&state, &package, &ver).await?;
    let files = state.store.list_files(version.id).await?;
    Ok(Json(VersionView {
        package: package.name,
        version: version.version,
        created_at: version.created_at.rfc3339(),
        files: files.iter().map(FileView::from).collect(),
    }))
}

/// Deletes a version and its files.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo, name, ver)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Write).await?;
    let package = package(&state, &repo, &name).await?;
    let version = version(&state, &package, &ver).await?;
    state.store.delete_version(version.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_yanked(
    state: &AppState,
    caller: Option<&wharf_core::auth::Principal>,
    (format, repo, name, ver): (String, String, String, String),
    reason: Option<&str>,
) -> CoreResult<()> {
    let repo = repository(state, caller, &format, &repo, Scope::Write).await?;
    let yanks = state
        .format(&format)
        .and_then(|f| f.yanks)
        .ok_or_else(|| Error::invalid(format!("the {format} format has no yanks")))?;
    let package = package(state, &repo, &name).await?;
    let version = version(state, &package, &ver).await?;
    yanks
        .set_yanked(state, &repo, &package, &version, reason)
        .await
}

/// Yanks a version: exact pins still install it, resolvers no longer choose it.
#[utoipa::path(put, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}/yank", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path)),
    request_body(content = YankRequest, description = "optional"), security(("token" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn yank_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<(String, String, String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let req: YankRequest = if body.iter().all(u8::is_ascii_whitespace) {
        YankRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::invalid(format!("request body: {e}")))?
    };
    set_yanked(
        &state,
        caller.as_ref(),
        path,
        Some(req.reason.as_deref().unwrap_or_default()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Un-yanks a version.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}/yank", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unyank_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    set_yanked(&state, caller.as_ref(), path, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one file; an emptied version and package go with it.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}/files/{file}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path), ("file" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_file(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((format, repo, name, ver, file)): Path<(String, String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Write).await?;
    let entry = state
        .store
        .file(repo.id, &name, &ver, &file)
        .await?
        .ok_or_else(|| Error::not_found(format!("file {file} not found in {name} {ver}")))?;
    state.store.delete_file(entry.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
