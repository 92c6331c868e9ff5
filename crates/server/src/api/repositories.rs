//! Repository management: list, create, show, change policies, delete.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use wharf_core::Error;
use wharf_core::auth::{authorize, authorize_server};
use wharf_core::model::{NewRepository, RepoKind, RepoPolicy, Scope};
use wharf_core::names::RepoName;
use wharf_core::usecases;

use super::Caller;
use super::extract::{ApiJson, ApiPath};
use super::views::{CreateRepository, RepositoryView, UpdateRepository};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// Lists the repositories the caller may read.
#[utoipa::path(get, path = "/api/v1/repositories", tag = "repositories",
    responses((status = 200, body = [RepositoryView])))]
pub async fn list_repositories(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Vec<RepositoryView>>> {
    let repos = state.store.list_repositories().await?;
    Ok(Json(
        repos
            .iter()
            .filter(|r| authorize(caller.as_ref(), r, Scope::Read).is_ok())
            .map(|r| RepositoryView::of(r, &state))
            .collect(),
    ))
}

/// Creates a repository (admin).
#[utoipa::path(post, path = "/api/v1/repositories", tag = "repositories",
    request_body = CreateRepository, security(("token" = [])),
    responses((status = 201, body = RepositoryView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_repository(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateRepository>,
) -> ApiResult<(StatusCode, Json<RepositoryView>)> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    check_upload_limit(req.max_upload_size)?;
    let kind = match req.kind.as_deref() {
        None => RepoKind::Hosted,
        Some(k) => RepoKind::parse(k)
            .ok_or_else(|| Error::invalid(format!("unknown kind {k:?}: hosted, proxy or group")))?,
    };
    let repo = usecases::create_repository(
        state.store.as_ref(),
        &state.repository_rules(),
        NewRepository {
            name: RepoName::new(req.name)?,
            format: req.format,
            kind,
            upstream: req.upstream,
            members: req.members,
            policy: RepoPolicy {
                allow_overwrite: req.allow_overwrite.unwrap_or(false),
                max_upload_size: req.max_upload_size.filter(|m| *m > 0),
                anonymous_read: req.anonymous_read.unwrap_or(true),
                retention_days: req.retention_days.filter(|d| *d > 0),
                redirect_downloads: req.redirect_downloads.unwrap_or(false),
            },
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(RepositoryView::of(&repo, &state))))
}

/// Refuses an upload limit the database cannot hold (over 2^63 - 1 bytes).
fn check_upload_limit(limit: Option<u64>) -> Result<(), Error> {
    match limit {
        Some(limit) if i64::try_from(limit).is_err() => Err(Error::invalid(format!(
            "max_upload_size {limit} is over the largest limit, {}",
            i64::MAX
        ))),
        _ => Ok(()),
    }
}

/// Shows a repository.
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}", tag = "repositories",
    params(("format" = String, Path), ("repo" = String, Path)),
    responses((status = 200, body = RepositoryView), (status = 404, body = ErrorBody)))]
pub async fn get_repository(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<RepositoryView>> {
    let repo = state.repository(&format, &name).await?;
    authorize(caller.as_ref(), &repo, Scope::Read)?;
    Ok(Json(RepositoryView::of(&repo, &state)))
}

/// Changes a repository's policies (admin).
#[utoipa::path(patch, path = "/api/v1/repositories/{format}/{repo}", tag = "repositories",
    params(("format" = String, Path), ("repo" = String, Path)),
    request_body = UpdateRepository, security(("token" = [])),
    responses((status = 200, body = RepositoryView), (status = 404, body = ErrorBody)))]
pub async fn update_repository(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, name)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateRepository>,
) -> ApiResult<Json<RepositoryView>> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    check_upload_limit(req.max_upload_size)?;
    let mut repo = state.repository(&format, &name).await?;
    if let Some(v) = req.allow_overwrite {
        repo.policy.allow_overwrite = v;
    }
    if let Some(v) = req.max_upload_size {
        repo.policy.max_upload_size = (v > 0).then_some(v);
    }
    if let Some(v) = req.anonymous_read {
        repo.policy.anonymous_read = v;
    }
    if let Some(v) = req.retention_days {
        repo.policy.retention_days = (v > 0).then_some(v);
    }
    if let Some(v) = req.redirect_downloads {
        repo.policy.redirect_downloads = v;
    }
    state.store.update_policy(repo.id, &repo.policy).await?;
    state.forget_repositories();
    Ok(Json(RepositoryView::of(&repo, &state)))
}

/// Deletes a repository with everything in it (admin). Blobs are freed by GC.
#[utoipa::path(delete, path = "/api/v1/repositories/{format}/{repo}", tag = "repositories",
    params(("format" = String, Path), ("repo" = String, Path)), security(("token" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_repository(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    let repo = state.repository(&format, &name).await?;
    state.store.delete_repository(repo.id).await?;
    state.forget_repositories();
    Ok(StatusCode::NO_CONTENT)
}
