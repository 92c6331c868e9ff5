//! Packages, versions and files of any format: list, show, delete. Changes go through the
//! same rules as the format's own protocol: its owners ([`crate::format::Ownership`]) and its
//! tombstones (deleted versions never come back with other content; an admin may purge them
//! with `?purge=true`).

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use wharf_core::auth::{Principal, authorize, authorize_server, signed_in};
use wharf_core::model::{Package, Repository, Scope, Version};
use wharf_core::{Error, Result as CoreResult};

use super::Caller;
use super::extract::{ApiBytes, ApiPath, ApiQuery, optional_object};
use super::views::{
    DeleteQuery, FileView, PackageView, PageQuery, VersionSummary, VersionView, YankRequest,
};
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

/// A repository `caller` may change, and the signed-in caller.
async fn writable<'a>(
    state: &AppState,
    caller: Option<&'a Principal>,
    format: &str,
    name: &str,
) -> CoreResult<(Repository, &'a Principal)> {
    let repo = repository(state, caller, format, name, Scope::Write).await?;
    Ok((repo, signed_in(caller)?))
}

/// Refuses a change of `package` that the format's owners rule does not allow `principal`.
async fn authorize_change(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    package: &Package,
) -> CoreResult<()> {
    match state.format(&repo.format).and_then(|f| f.ownership) {
        Some(ownership) => ownership.authorize_change(state, principal, package).await,
        None => Ok(()),
    }
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
    ApiPath((format, repo)): ApiPath<(String, String)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Vec<PackageView>>> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid(format!("limit {limit}: 1 to 1000")).into());
    }
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
    ApiPath((format, repo, name)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<PackageView>> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let package = package(&state, &repo, &name).await?;
    let versions = state.store.list_versions(package.id).await?;
    Ok(Json(PackageView::new(
        &package,
        Some(versions.iter().map(VersionSummary::from).collect()),
    )))
}

/// Deletes a package with all its versions and files. In formats that keep tombstones (cargo,
/// npm, PyPI) its versions can never be published again with other content.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_package(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, repo, name)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (repo, principal) = writable(&state, caller.as_ref(), &format, &repo).await?;
    let package = package(&state, &repo, &name).await?;
    authorize_change(&state, &repo, principal, &package).await?;
    state.remove_package(&repo, package.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows a version with its files and their digests.
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, repo, name, ver)): ApiPath<(String, String, String, String)>,
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

/// Deletes a version and its files. In formats that keep tombstones (cargo, npm, PyPI) the
/// version can never be published again with other content, unless an admin deletes it with
/// `?purge=true`, which also removes the tombstones of a version deleted before.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/versions/{version}", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), ("version" = String, Path), DeleteQuery),
    security(("token" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, repo, name, ver)): ApiPath<(String, String, String, String)>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    let (repo, principal) = writable(&state, caller.as_ref(), &format, &repo).await?;
    if query.purge {
        authorize_server(caller.as_ref(), Some(&repo), Scope::Admin)?;
        let purged = state.store.purge_tombstones(repo.id, &name, &ver).await?;
        let found = match state.store.package(repo.id, &name).await? {
            Some(package) => state.store.version(package.id, &ver).await?,
            None => None,
        };
        return match found {
            Some(version) => {
                state.store.delete_version(version.id).await?;
                Ok(StatusCode::NO_CONTENT)
            }
            None if purged > 0 => Ok(StatusCode::NO_CONTENT),
            None => Err(Error::not_found(format!(
                "version {ver} of {name} is neither stored nor deleted"
            ))
            .into()),
        };
    }
    let package = package(&state, &repo, &name).await?;
    let version = version(&state, &package, &ver).await?;
    authorize_change(&state, &repo, principal, &package).await?;
    state
        .remove_version(&repo, &package.name, version.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_yanked(
    state: &AppState,
    caller: Option<&wharf_core::auth::Principal>,
    (format, repo, name, ver): (String, String, String, String),
    reason: Option<&str>,
) -> CoreResult<()> {
    let (repo, principal) = writable(state, caller, &format, &repo).await?;
    let yanks = state
        .format(&format)
        .and_then(|f| f.yanks)
        .ok_or_else(|| Error::not_found(format!("the {format} format has no yanks")))?;
    let package = package(state, &repo, &name).await?;
    let version = version(state, &package, &ver).await?;
    authorize_change(state, &repo, principal, &package).await?;
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
    ApiPath(path): ApiPath<(String, String, String, String)>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    let req: YankRequest = optional_object(&body)?;
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
    ApiPath(path): ApiPath<(String, String, String, String)>,
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
    ApiPath((format, repo, name, ver, file)): ApiPath<(String, String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let (repo, principal) = writable(&state, caller.as_ref(), &format, &repo).await?;
    let entry = state
        .store
        .file(repo.id, &name, &ver, &file)
        .await?
        .ok_or_else(|| Error::not_found(format!("file {file} not found in {name} {ver}")))?;
    let package = package(&state, &repo, &name).await?;
    authorize_change(&state, &repo, principal, &package).await?;
    state.remove_file(&repo, &name, entry.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
