//! Thin handlers of the generic protocol: parse, authorize, call one use case, answer.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde::{Deserialize, Serialize};
use wharf_core::auth::{Principal, authorize};
use wharf_core::digest::Sha256;
use wharf_core::model::{Repository, Scope};
use wharf_core::usecases::{PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::ApiError;
use wharf_server::auth::authenticate;
use wharf_server::body::{Download, serve_blob};

use crate::request::{Endpoint, FileRef};

const FORMAT: &str = "generic";

/// Optional query of uploads.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct UploadQuery {
    /// The SHA-256 the content must have (also accepted as `X-Checksum-Sha256`).
    sha256: Option<String>,
}

/// What a successful upload answers.
#[derive(Debug, Serialize)]
struct Uploaded {
    package: String,
    version: String,
    file: String,
    size: u64,
    sha256: String,
    sha1: String,
    md5: String,
    sha512: String,
}

/// Every generic request: parsed once, then handed to its operation.
pub(crate) async fn dispatch(
    State(state): State<wharf_server::AppState>,
    method: Method,
    uri: Uri,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let endpoint = Endpoint::parse(&method, uri.path().trim_start_matches('/'))?;
        let caller = authenticate(&state, &headers).await?;
        match endpoint {
            Endpoint::DownloadFile(f) => {
                download_file(&state, caller.as_ref(), &method, &headers, &f).await
            }
            Endpoint::UploadFile(f) => {
                upload_file(&state, caller.as_ref(), &headers, query, &f, body).await
            }
            Endpoint::DeleteFile(f) => delete_file(&state, caller.as_ref(), &f).await,
            Endpoint::DeleteVersion {
                repo,
                package,
                version,
            } => {
                let repo = repository(&state, caller.as_ref(), repo.as_str(), Scope::Write).await?;
                delete_version(&state, &repo, package.as_str(), version.as_str()).await
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| ApiError(e).into_response())
}

async fn repository(
    state: &wharf_server::AppState,
    caller: Option<&Principal>,
    name: &str,
    scope: Scope,
) -> Result<Repository> {
    let repo = state.repository(FORMAT, name).await?;
    authorize(caller, &repo, scope)?;
    Ok(repo)
}

async fn find_file(
    state: &wharf_server::AppState,
    repo: &Repository,
    f: &FileRef,
) -> Result<wharf_core::model::FileEntry> {
    state
        .store
        .file(
            repo.id,
            f.package.as_str(),
            f.version.as_str(),
            f.file.as_str(),
        )
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "file {} not found in {} {}",
                f.file, f.package, f.version
            ))
        })
}

/// Download a file: `GET|HEAD /generic/{repo}/{package}/{version}/{file}`, with Range and
/// conditional requests.
async fn download_file(
    state: &wharf_server::AppState,
    caller: Option<&Principal>,
    method: &Method,
    headers: &HeaderMap,
    f: &FileRef,
) -> Result<Response> {
    let repo = repository(state, caller, f.repo.as_str(), Scope::Read).await?;
    let file = find_file(state, &repo, f).await?;
    let response = serve_blob(
        &state.blobs,
        method,
        headers,
        Download {
            blob: &file.blob,
            modified: file.created_at,
            content_type: "application/octet-stream",
            redirect: repo.policy.redirect_downloads,
        },
    )
    .await?;
    let mut response = state.downloads.counted(method, response, file.version_id);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file.name.replace('"', "")
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Upload a file: `PUT /generic/{repo}/{package}/{version}/{file}`. The version is created
/// when new; an existing file is 409 unless the repository allows overwrite. A digest given
/// as `?sha256=` or `X-Checksum-Sha256` is verified.
async fn upload_file(
    state: &wharf_server::AppState,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    query: UploadQuery,
    f: &FileRef,
    body: Body,
) -> Result<Response> {
    let repo = repository(state, caller, f.repo.as_str(), Scope::Write).await?;
    repo.ensure_hosted()?;
    if !repo.policy.allow_overwrite
        && state
            .store
            .file(
                repo.id,
                f.package.as_str(),
                f.version.as_str(),
                f.file.as_str(),
            )
            .await?
            .is_some()
    {
        return Err(Error::conflict(format!(
            "file {} already exists in {} {}",
            f.file, f.package, f.version
        )));
    }
    let claimed = query.sha256.or_else(|| {
        headers
            .get("x-checksum-sha256")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let expected = claimed.as_deref().map(Sha256::parse).transpose()?;
    let staged = state.stage_body(&repo, headers, body, expected).await?;
    let published = publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: &repo,
            package: &f.package,
            canonical: None,
            version: &f.version,
            file: &f.file,
            mode: PublishMode::CreateOrAdd,
            properties: vec![],
        },
        staged,
    )
    .await?;
    let body = Uploaded {
        package: f.package.to_string(),
        version: f.version.to_string(),
        file: f.file.to_string(),
        size: published.size,
        sha256: published.digests.sha256.to_string(),
        sha1: published.digests.sha1,
        md5: published.digests.md5,
        sha512: published.digests.sha512,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Delete a file: `DELETE /generic/{repo}/{package}/{version}/{file}`.
async fn delete_file(
    state: &wharf_server::AppState,
    caller: Option<&Principal>,
    f: &FileRef,
) -> Result<Response> {
    let repo = repository(state, caller, f.repo.as_str(), Scope::Write).await?;
    let file = find_file(state, &repo, f).await?;
    state.store.delete_file(file.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete a version and its files: `DELETE /generic/{repo}/{package}/{version}`.
async fn delete_version(
    state: &wharf_server::AppState,
    repo: &Repository,
    package: &str,
    version: &str,
) -> Result<Response> {
    let missing = || Error::not_found(format!("version {version} of {package} not found"));
    let package = state
        .store
        .package(repo.id, package)
        .await?
        .ok_or_else(missing)?;
    let version = state
        .store
        .version(package.id, version)
        .await?
        .ok_or_else(missing)?;
    state.store.delete_version(version.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
