//! "Pulling manifests": `GET`/`HEAD /v2/{name}/manifests/{tag or digest}`, with the stored
//! media type as `Content-Type`, `Docker-Content-Digest`, `ETag`/`If-None-Match`, and `Accept`
//! honoured. Hosted images answer from [`crate::cache`] once read; proxies resolve through
//! [`crate::proxy`] first.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use futures::TryStreamExt;
use http::{HeaderValue, Method, StatusCode, header};
use wharf_core::digest::Sha256;
use wharf_core::model::{PropertyOwner, RepoKind, Repository};
use wharf_server::body::not_modified;

use crate::blobs::DIGEST_HEADER;
use crate::cache::{self, Manifest};
use crate::document::{self, acceptable};
use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::{Oci, open};
use crate::images::{MEDIA_TYPE, digest_name, package, resolve};
use crate::request::{Name, Reference};

/// `GET|HEAD /v2/{name}/manifests/{reference}`.
pub(crate) async fn get(
    oci: &Oci,
    call: &Call<'_>,
    name: &Name,
    reference: &Reference,
) -> Result<Response, OciError> {
    let repo = open(call, name, false).await?;
    let manifest = if repo.kind == RepoKind::Proxy {
        let sha = crate::proxy::manifest(oci, call, &repo, name, reference).await?;
        Arc::new(read(call, &repo, name, &sha).await?)
    } else {
        let package = package(call.state, &repo, &name.image, Code::ManifestUnknown).await?;
        let written = match reference {
            Reference::Tag(tag) => tag.clone(),
            Reference::Digest(sha) => digest_name(sha),
        };
        let key = cache::key(repo.id, &package.name, &written);
        let tag = package.content_tag();
        if let Some(hit) = oci.manifests.get(&key, &tag) {
            hit
        } else {
            let sha = resolve(call.state, &package, reference).await?;
            let read = Arc::new(read(call, &repo, name, &sha).await?);
            oci.manifests.put(key, tag, read.clone());
            read
        }
    };
    answer(call, &manifest)
}

/// The stored manifest `sha` of the image, with its media type.
async fn read(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    sha: &Sha256,
) -> Result<Manifest, OciError> {
    let digest = digest_name(sha);
    let store = &call.state.store;
    let file = store
        .file(repo.id, &name.image, &digest, &digest)
        .await?
        .ok_or_else(|| {
            OciError::new(
                Code::ManifestUnknown,
                format!("manifest {digest} is unknown"),
            )
        })?;
    let media_type = store
        .properties(PropertyOwner::Version(file.version_id))
        .await?
        .into_iter()
        .find_map(|(k, v)| (k == MEDIA_TYPE).then_some(v))
        .unwrap_or_else(|| document::OCI_MANIFEST.to_owned());
    let chunks: Vec<bytes::Bytes> = call
        .state
        .blobs
        .read(sha, 0..file.blob.size)
        .await?
        .try_collect()
        .await
        .map_err(|e| wharf_core::Error::internal("reading a manifest", e))?;
    Ok(Manifest {
        digest: sha.clone(),
        media_type,
        body: chunks.concat().into(),
        version_id: file.version_id,
        modified: file.created_at,
    })
}

/// The answer to a manifest request: `304` for a client that has it, `404` for one whose
/// `Accept` excludes its media type.
fn answer(call: &Call<'_>, manifest: &Manifest) -> Result<Response, OciError> {
    let accept: Vec<&str> = call
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if !acceptable(&accept, &manifest.media_type) {
        return Err(OciError::new(
            Code::ManifestUnknown,
            format!(
                "the manifest is {}, which the Accept header does not list",
                manifest.media_type
            ),
        ));
    }
    let digest = digest_name(&manifest.digest);
    let etag = format!("\"{digest}\"");
    let header_value = |v: &str| {
        HeaderValue::from_str(v).map_err(|e| wharf_core::Error::internal("a header value", e))
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, header_value(&manifest.media_type)?)
        .header(DIGEST_HEADER, header_value(&digest)?)
        .header(header::ETAG, header_value(&etag)?)
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(manifest.modified.system_time()),
        );
    let fresh = not_modified(&call.headers, &etag, Some(manifest.modified));
    let body = if fresh {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        Body::empty()
    } else {
        builder = builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, manifest.body.len());
        if call.method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(manifest.body.clone())
        }
    };
    let response = builder
        .body(body)
        .map_err(|e| wharf_core::Error::internal("building a response", e))?;
    Ok(call
        .state
        .downloads
        .counted(&call.method, response, manifest.version_id))
}
