//! Blobs: "Pulling blobs" (`GET`/`HEAD /v2/{name}/blobs/{digest}`, with `Range`) and
//! "Deleting blobs" of the distribution spec.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use wharf_core::digest::Sha256;
use wharf_core::model::RepoKind;

use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::{Oci, open};
use crate::images::{UPLOADS, digest_name, find_blob};
use crate::proxy::Fetched;
use crate::request::Name;

pub(crate) const DIGEST_HEADER: &str = "docker-content-digest";

/// `GET|HEAD /v2/{name}/blobs/{digest}`: "the blob MUST be returned … 200 OK"; a missing one
/// is `BLOB_UNKNOWN`; ranges as RFC 9110.
pub(crate) async fn get(
    oci: &Oci,
    call: &Call<'_>,
    name: &Name,
    sha: &Sha256,
) -> Result<Response, OciError> {
    let repo = open(call, name, false).await?;
    let file = match find_blob(call.state, &repo, &name.image, sha).await? {
        Some(file) => file,
        None if repo.kind == RepoKind::Proxy => {
            match crate::proxy::blob(oci, call, &repo, name, sha).await? {
                Fetched::Cached(file) => file,
                Fetched::Head(response) => return Ok(response),
            }
        }
        None => return Err(blob_unknown(sha)),
    };
    let mut response = call
        .serve_file(&repo, &file, "application/octet-stream")
        .await?;
    with_digest(&mut response, sha);
    Ok(response)
}

/// `DELETE /v2/{name}/blobs/{digest}` (202): removes an uploaded blob no manifest references
/// yet. A blob a manifest references goes with its last manifest; deleting it alone is
/// refused, as it would break that manifest.
pub(crate) async fn delete(
    call: &Call<'_>,
    name: &Name,
    sha: &Sha256,
) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let store = &call.state.store;
    match store
        .file(repo.id, &name.image, UPLOADS, &digest_name(sha))
        .await?
    {
        Some(file) => {
            store.delete_file(file.id).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        None if find_blob(call.state, &repo, &name.image, sha)
            .await?
            .is_some() =>
        {
            Err(OciError::new(
                Code::Denied,
                format!(
                    "{} is referenced by a manifest: delete the manifest",
                    digest_name(sha)
                ),
            )
            .with_status(StatusCode::CONFLICT))
        }
        None => Err(blob_unknown(sha)),
    }
}

pub(crate) fn blob_unknown(sha: &Sha256) -> OciError {
    OciError::new(
        Code::BlobUnknown,
        format!("blob {} is unknown to this image", digest_name(sha)),
    )
}

pub(crate) fn with_digest(response: &mut Response, sha: &Sha256) {
    if let Ok(value) = HeaderValue::from_str(&digest_name(sha)) {
        response.headers_mut().insert(DIGEST_HEADER, value);
    }
}
