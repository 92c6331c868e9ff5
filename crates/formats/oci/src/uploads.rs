//! Pushing blobs: "Pushing a blob monolithically" (`POST` with `?digest=`, or `POST` then
//! `PUT`), "Pushing a blob in chunks" (`PATCH` with `Content-Range`, `416` when a chunk does
//! not start where the last ended), streamed `PATCH` without `Content-Range`, upload status
//! (`GET`, `204` with `Range`), cancel (`DELETE`) and "Mounting a blob from another
//! repository" (`?mount=&from=`).
//!
//! A session lives in the database ([`wharf_core::uploads`]) and its parts in storage, so a
//! client may send each request to any instance, and a restart loses nothing. Finishing
//! checks the digest and stores the blob as a file of the image's [`UPLOADS`] version.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::digest::Sha256;
use wharf_core::model::Repository;
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::time::Timestamp;
use wharf_core::uploads::UploadSession;
use wharf_core::usecases::{PublishLinked, publish_linked};
use wharf_server::AppState;

use crate::blobs::with_digest;
use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::open;
use crate::images::{UPLOADS, digest_name, find_blob};
use crate::request::{self, Name};

#[derive(Debug, Default, Deserialize)]
struct UploadQuery {
    digest: Option<String>,
    mount: Option<String>,
    from: Option<String>,
}

fn upload_query(call: &Call<'_>) -> Result<UploadQuery, OciError> {
    wharf_server::query::parse_query(call.query())
        .map_err(|e| OciError::new(Code::BlobUploadInvalid, e.to_string()))
}

fn digest_param(query: &UploadQuery) -> Result<Option<Sha256>, OciError> {
    query
        .digest
        .as_deref()
        .map(request::parse_digest)
        .transpose()
}

/// `POST /v2/{name}/blobs/uploads/`.
pub(crate) async fn start(call: &Call<'_>, name: &Name, body: Body) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let query = upload_query(call)?;
    if let (Some(mount), Some(from)) = (&query.mount, &query.from)
        && let Some(response) = mount_blob(call, &repo, name, mount, from).await?
    {
        return Ok(response);
    }
    if let Some(sha) = digest_param(&query)? {
        // "the body of the request MUST contain the blob" and `digest` names it.
        let options = StageOptions {
            expected_sha256: Some(sha.clone()),
            digests: wharf_core::digest::DigestSet::SHA256,
            ..StageOptions::default()
        };
        let staged = call
            .state
            .stage_body_with(&repo, &call.headers, body, options)
            .await?;
        store_blob(call.state, &repo, name, staged).await?;
        return Ok(created(name, &sha));
    }
    let now = Timestamp::now();
    let session = UploadSession {
        id: uuid::Uuid::new_v4().to_string(),
        repository_id: repo.id,
        name: name.image.clone(),
        size: 0,
        parts: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    call.state.store.create_upload(&session).await?;
    Ok(progress(StatusCode::ACCEPTED, name, &session.id, 0))
}

/// The blob `from` holds, linked into `name` when the caller may read `from`: `None` sends
/// the client on to a regular upload, as the spec says for a blob that cannot be mounted.
async fn mount_blob(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    mount: &str,
    from: &str,
) -> Result<Option<Response>, OciError> {
    let sha = request::parse_digest(mount)?;
    let parts: Vec<&str> = from.split('/').collect();
    let Ok(source) = request::name(&parts) else {
        return Ok(None);
    };
    let Ok(source_repo) = open(call, &source, false).await else {
        return Ok(None);
    };
    if find_blob(call.state, &source_repo, &source.image, &sha)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    link_blobs(call, repo, name, std::slice::from_ref(&sha)).await?;
    Ok(Some(created(name, &sha)))
}

/// `PATCH /v2/{name}/blobs/uploads/{id}`: appends a chunk (or a whole streamed body).
pub(crate) async fn patch(
    call: &Call<'_>,
    name: &Name,
    id: &str,
    body: Body,
) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let session = session(call, &repo, name, id).await?;
    let declared = content_range(&call.headers)?;
    if let Some((start, _)) = declared
        && start != session.size
    {
        return Err(out_of_order(name, id, session.size));
    }
    let size = append(call, &repo, &session, body, declared).await?;
    Ok(progress(StatusCode::ACCEPTED, name, id, size))
}

/// Stages `body` as the session's next part; the new total size. An empty body adds nothing;
/// a body of another length than the `Content-Range` it came with (`declared`) is refused
/// before it becomes part of the upload.
async fn append(
    call: &Call<'_>,
    repo: &Repository,
    session: &UploadSession,
    body: Body,
    declared: Option<(u64, u64)>,
) -> Result<u64, OciError> {
    let limit = call.state.upload_limit(repo);
    let room = limit.saturating_sub(session.size);
    wharf_server::body::check_content_length(&call.headers, room)?;
    let part = call
        .state
        .blobs
        .stage_part(
            body.into_data_stream(),
            &StageOptions {
                max_size: Some(room),
                expected_sha256: None,
                digests: wharf_core::digest::DigestSet::SHA256,
            },
        )
        .await?;
    if let Some((start, end)) = declared
        && end + 1 - start != part.size
    {
        call.state.blobs.delete_parts(&[part.key]).await?;
        return Err(OciError::new(
            Code::BlobUploadInvalid,
            format!(
                "Content-Range {start}-{end} does not match the {} bytes sent",
                part.size
            ),
        )
        .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
        .with_header(header::RANGE, range_value(session.size)));
    }
    if part.size == 0 {
        call.state.blobs.delete_parts(&[part.key]).await?;
        return Ok(session.size);
    }
    let size = session.size + part.size;
    let appended = call
        .state
        .store
        .append_upload_part(&session.id, session.size, &part, Timestamp::now())
        .await?;
    if !appended {
        call.state.blobs.delete_parts(&[part.key]).await?;
        let now = call.state.store.upload(&session.id).await?.map(|s| s.size);
        return Err(match now {
            Some(size) => out_of_order_at(size),
            None => upload_unknown(),
        });
    }
    Ok(size)
}

/// `PUT /v2/{name}/blobs/uploads/{id}?digest=`: the last chunk (if any), then the digest
/// check; `201` with the blob's location.
pub(crate) async fn finish(
    call: &Call<'_>,
    name: &Name,
    id: &str,
    body: Body,
) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let query = upload_query(call)?;
    let sha = digest_param(&query)?
        .ok_or_else(|| OciError::new(Code::DigestInvalid, "finishing an upload needs ?digest="))?;
    let mut session = session(call, &repo, name, id).await?;
    let declared = content_range(&call.headers)?;
    if let Some((start, _)) = declared
        && start != session.size
    {
        return Err(out_of_order(name, id, session.size));
    }
    let size = append(call, &repo, &session, body, declared).await?;
    if size != session.size {
        session = call
            .state
            .store
            .upload(id)
            .await?
            .ok_or_else(upload_unknown)?;
    }
    let store = &call.state.store;
    if !store.delete_upload(id).await? {
        return Err(upload_unknown());
    }
    let keys: Vec<String> = session.parts.iter().map(|p| p.key.clone()).collect();
    let joined = call
        .state
        .blobs
        .join_parts(
            session.parts,
            &StageOptions {
                max_size: Some(call.state.upload_limit(&repo)),
                expected_sha256: Some(sha.clone()),
                digests: wharf_core::digest::DigestSet::SHA256,
            },
        )
        .await;
    let joined = match joined {
        Ok(staged) => staged,
        Err(e) => {
            call.state.blobs.delete_parts(&keys).await?;
            return Err(e.into());
        }
    };
    let stored = store_blob(call.state, &repo, name, joined).await;
    call.state.blobs.delete_parts(&keys).await?;
    stored?;
    Ok(created(name, &sha))
}

/// `GET /v2/{name}/blobs/uploads/{id}`: `204` with the range received so far.
pub(crate) async fn status(call: &Call<'_>, name: &Name, id: &str) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let session = session(call, &repo, name, id).await?;
    Ok(progress(StatusCode::NO_CONTENT, name, id, session.size))
}

/// `DELETE /v2/{name}/blobs/uploads/{id}`: cancels the session and drops its parts.
pub(crate) async fn cancel(call: &Call<'_>, name: &Name, id: &str) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let session = session(call, &repo, name, id).await?;
    if !call.state.store.delete_upload(id).await? {
        return Err(upload_unknown());
    }
    let keys: Vec<String> = session.parts.into_iter().map(|p| p.key).collect();
    call.state.blobs.delete_parts(&keys).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The session `id`, which must belong to this repository and image.
async fn session(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    id: &str,
) -> Result<UploadSession, OciError> {
    call.state
        .store
        .upload(id)
        .await?
        .filter(|s| s.repository_id == repo.id && s.name == name.image)
        .ok_or_else(upload_unknown)
}

/// Commits a verified blob as a file of the image's uploads version.
pub async fn store_blob(
    state: &AppState,
    repo: &Repository,
    name: &Name,
    staged: StagedBlob,
) -> wharf_core::Result<()> {
    let file = FileName::new(digest_name(&staged.digests.sha256))?;
    publish_linked(
        state.store.as_ref(),
        &state.blobs,
        PublishLinked {
            repository: repo,
            package: &PackageName::new(name.image.clone())?,
            version: &VersionName::new(UPLOADS)?,
            document: Some((&file, staged)),
            links: &[],
            properties: Vec::new(),
        },
    )
    .await?;
    Ok(())
}

/// Links blobs the store holds into the image's uploads version (a mount).
async fn link_blobs(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    shas: &[Sha256],
) -> Result<(), OciError> {
    let links = shas
        .iter()
        .map(|sha| Ok((FileName::new(digest_name(sha))?, sha.clone())))
        .collect::<Result<Vec<_>, wharf_core::Error>>()?;
    publish_linked(
        call.state.store.as_ref(),
        &call.state.blobs,
        PublishLinked {
            repository: repo,
            package: &PackageName::new(name.image.clone())?,
            version: &VersionName::new(UPLOADS)?,
            document: None,
            links: &links,
            properties: Vec::new(),
        },
    )
    .await
    .map_err(|e| OciError::or_missing(e, Code::BlobUnknown))?;
    Ok(())
}

/// `Content-Range: <start>-<end>` (inclusive), if sent.
fn content_range(headers: &HeaderMap) -> Result<Option<(u64, u64)>, OciError> {
    let Some(value) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("bytes ").unwrap_or(text);
    let text = text.split('/').next().unwrap_or_default();
    let parsed = text
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((start, end)) if end >= start => Ok(Some((start, end))),
        _ => Err(OciError::new(
            Code::BlobUploadInvalid,
            format!("malformed Content-Range {text:?}"),
        )
        .with_status(StatusCode::RANGE_NOT_SATISFIABLE)),
    }
}

fn location(name: &Name, id: &str) -> String {
    format!("/v2/{}/blobs/uploads/{id}", name.full())
}

/// `Range: 0-<last byte>` as the spec writes it (`0-0` before any byte arrived).
fn range_value(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn progress(status: StatusCode, name: &Name, id: &str, size: u64) -> Response {
    (
        status,
        [
            (header::LOCATION, location(name, id)),
            (header::RANGE, range_value(size)),
            (
                http::HeaderName::from_static("docker-upload-uuid"),
                id.to_owned(),
            ),
            (header::CONTENT_LENGTH, "0".to_owned()),
        ],
    )
        .into_response()
}

fn created(name: &Name, sha: &Sha256) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [
            (
                header::LOCATION,
                format!("/v2/{}/blobs/{}", name.full(), digest_name(sha)),
            ),
            (header::CONTENT_LENGTH, "0".to_owned()),
        ],
    )
        .into_response();
    with_digest(&mut response, sha);
    response
}

fn out_of_order(name: &Name, id: &str, size: u64) -> OciError {
    out_of_order_at(size).with_header(header::LOCATION, location(name, id))
}

fn out_of_order_at(size: u64) -> OciError {
    OciError::new(
        Code::BlobUploadInvalid,
        format!("a chunk must start at byte {size}, where the upload stands"),
    )
    .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
    .with_header(header::RANGE, range_value(size))
}

fn upload_unknown() -> OciError {
    OciError::new(Code::BlobUploadUnknown, "no such upload session")
}
