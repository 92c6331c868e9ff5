//! The generic protocol on the kernel's pipeline ([`Generic`]) and its operations: download,
//! upload, delete a file, delete a version. Errors are the management API's JSON shape.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use wharf_core::digest::Sha256;
use wharf_core::model::{FileEntry, Repository};
use wharf_core::usecases::{PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::ApiError;
use wharf_server::protocol::{Call, Parsed, Protocol, Site, Target};
use wharf_server::query::parse_query;

use crate::request::{Endpoint, FileRef};

/// The generic protocol.
pub(crate) struct Generic;

#[async_trait::async_trait]
impl Protocol for Generic {
    type Endpoint = Endpoint;
    type Error = Error;

    fn format(&self) -> &'static str {
        "generic"
    }

    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Endpoint>> {
        let endpoint = Endpoint::parse(target.method, target.raw_path)?;
        Ok(Parsed {
            repository: Some(endpoint.repository().to_string()),
            endpoint,
        })
    }

    async fn handle(&self, call: &Call<'_>, endpoint: &Endpoint, body: Body) -> Result<Response> {
        let repo = call.repo()?;
        match endpoint {
            Endpoint::DownloadFile(f) => download_file(call, repo, f).await,
            Endpoint::UploadFile(f) => upload_file(call, repo, f, body).await,
            Endpoint::DeleteFile(f) => delete_file(call, repo, f).await,
            Endpoint::DeleteVersion {
                package, version, ..
            } => delete_version(call, repo, package.as_str(), version.as_str()).await,
        }
    }

    fn render(&self, error: Error, _site: &Site<'_, Endpoint>) -> Response {
        ApiError(error).into_response()
    }
}

/// Optional query of uploads.
#[derive(Debug, Deserialize, Default)]
struct UploadQuery {
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

/// The file `f` names, if it is stored.
async fn stored(call: &Call<'_>, repo: &Repository, f: &FileRef) -> Result<Option<FileEntry>> {
    call.state
        .store
        .file(
            repo.id,
            f.package.as_str(),
            f.version.as_str(),
            f.file.as_str(),
        )
        .await
}

async fn find_file(call: &Call<'_>, repo: &Repository, f: &FileRef) -> Result<FileEntry> {
    stored(call, repo, f).await?.ok_or_else(|| {
        Error::not_found(format!(
            "file {} not found in {} {}",
            f.file, f.package, f.version
        ))
    })
}

/// Download a file: `GET|HEAD /generic/{repo}/{package}/{version}/{file}`, with Range and
/// conditional requests.
async fn download_file(call: &Call<'_>, repo: &Repository, f: &FileRef) -> Result<Response> {
    let file = find_file(call, repo, f).await?;
    let mut response = call
        .serve_file(repo, &file, "application/octet-stream")
        .await?;
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
    call: &Call<'_>,
    repo: &Repository,
    f: &FileRef,
    body: Body,
) -> Result<Response> {
    let query: UploadQuery = parse_query(call.query())?;
    let state = call.state;
    repo.ensure_hosted()?;
    if !repo.policy.allow_overwrite && stored(call, repo, f).await?.is_some() {
        return Err(Error::conflict(format!(
            "file {} already exists in {} {}",
            f.file, f.package, f.version
        )));
    }
    let claimed = query.sha256.or_else(|| {
        call.headers
            .get("x-checksum-sha256")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let expected = claimed.as_deref().map(Sha256::parse).transpose()?;
    let staged = state
        .stage_body(repo, &call.headers, body, expected)
        .await?;
    let published = publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: repo,
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
async fn delete_file(call: &Call<'_>, repo: &Repository, f: &FileRef) -> Result<Response> {
    let file = find_file(call, repo, f).await?;
    call.state
        .remove_file(repo, f.package.as_str(), file.id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete a version and its files: `DELETE /generic/{repo}/{package}/{version}`.
async fn delete_version(
    call: &Call<'_>,
    repo: &Repository,
    package: &str,
    version: &str,
) -> Result<Response> {
    let missing = || Error::not_found(format!("version {version} of {package} not found"));
    let store = &call.state.store;
    let package = store.package(repo.id, package).await?.ok_or_else(missing)?;
    let version = store
        .version(package.id, version)
        .await?
        .ok_or_else(missing)?;
    call.state
        .remove_version(repo, &package.name, version.id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
