//! Manifests: "Pushing Manifests" (`PUT`, every referenced blob and child manifest must be in
//! the image, a `subject` answered with `OCI-Subject`) and "Deleting tags" / "Deleting
//! Manifests". Pulling them is [`crate::pull`].

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use wharf_core::blob::StageOptions;
use wharf_core::digest::Sha256;
use wharf_core::model::{PropertyOwner, Repository};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::usecases::{PropertyTarget, PublishLinked, publish_linked};
use wharf_server::AppState;

use crate::blobs::with_digest;
use crate::document::{self, Manifest};
use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::open;
use crate::images::{
    ANNOTATIONS, ARTIFACT_TYPE, MEDIA_TYPE, SIZE, SUBJECT, TAG, UPLOADS, digest_name, find_blob,
    package, tags,
};
use crate::request::{self, Name, Reference};

/// The largest manifest accepted (the spec suggests registries take at least 4 MiB).
pub(crate) const MAX_MANIFEST: usize = 4 << 20;

#[derive(Debug, Default, Deserialize)]
struct PutQuery {
    #[serde(default)]
    tag: Vec<String>,
}

/// `PUT /v2/{name}/manifests/{reference}`: `201` with `Location` and `Docker-Content-Digest`.
pub(crate) async fn put(
    call: &Call<'_>,
    name: &Name,
    reference: &Reference,
    body: Body,
) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let body = axum::body::to_bytes(body, MAX_MANIFEST)
        .await
        .map_err(|_| {
            OciError::new(
                Code::SizeInvalid,
                format!("a manifest may be at most {MAX_MANIFEST} bytes"),
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        })?;
    let sha = Sha256::of(&body);
    let tags = tags_of(call, reference, &sha)?;
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let manifest = document::parse(&body, content_type)?;
    check_references(call, &repo, name, &manifest).await?;
    let digest = digest_name(&sha);
    let tags = tags
        .into_iter()
        .map(|tag| {
            (
                PropertyTarget::Package,
                format!("{TAG}{tag}"),
                digest.clone(),
            )
        })
        .collect();
    store_manifest(call.state, &repo, name, &manifest, body, true, tags)
        .await
        .map_err(|e| OciError::or_missing(e, Code::ManifestBlobUnknown))?;
    let mut response = (
        StatusCode::CREATED,
        [
            (
                header::LOCATION,
                format!("/v2/{}/manifests/{digest}", name.full()),
            ),
            (header::CONTENT_LENGTH, "0".to_owned()),
        ],
    )
        .into_response();
    with_digest(&mut response, &sha);
    if let Some(subject) = &manifest.subject
        && let Ok(value) = HeaderValue::from_str(&digest_name(subject))
    {
        response.headers_mut().insert("oci-subject", value);
    }
    Ok(response)
}

/// The tags a push sets: the reference when it is a tag, and every `?tag=` query parameter;
/// a digest reference must be the body's digest (`DIGEST_INVALID` otherwise).
fn tags_of(call: &Call<'_>, reference: &Reference, sha: &Sha256) -> Result<Vec<String>, OciError> {
    let mut tags: Vec<String> = Vec::new();
    match reference {
        Reference::Digest(claimed) if claimed != sha => {
            return Err(OciError::new(
                Code::DigestInvalid,
                format!(
                    "the manifest's digest is {}, not {}",
                    digest_name(sha),
                    digest_name(claimed)
                ),
            ));
        }
        Reference::Digest(_) => {}
        Reference::Tag(tag) => tags.push(tag.clone()),
    }
    let query: PutQuery = wharf_server::query::parse_query(call.query())
        .map_err(|e| OciError::new(Code::ManifestInvalid, e.to_string()))?;
    for tag in query.tag {
        tags.push(request::tag(&tag)?.to_owned());
    }
    Ok(tags)
}

/// "the registry MUST NOT accept the manifest if any blob or manifest it references is not
/// in the repository": `MANIFEST_BLOB_UNKNOWN`; a size that disagrees is `MANIFEST_INVALID`.
async fn check_references(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    manifest: &Manifest,
) -> Result<(), OciError> {
    for r in &manifest.references {
        let Some(file) = find_blob(call.state, repo, &name.image, &r.digest).await? else {
            let what = if r.manifest { "manifest" } else { "blob" };
            return Err(OciError::new(
                Code::ManifestBlobUnknown,
                format!(
                    "the manifest references {what} {}, which is not in {}",
                    digest_name(&r.digest),
                    name.full()
                ),
            ));
        };
        if file.blob.size != r.size {
            return Err(OciError::new(
                Code::ManifestInvalid,
                format!(
                    "the manifest gives {} a size of {}; it has {}",
                    digest_name(&r.digest),
                    r.size,
                    file.blob.size
                ),
            ));
        }
    }
    Ok(())
}

/// Stores a checked manifest as the version named by its digest, with `extra` properties
/// (tags). With `link`, every blob and child manifest it references becomes a file of the
/// version (a proxy, which fetches blobs only when asked, keeps them apart instead).
pub async fn store_manifest(
    state: &AppState,
    repo: &Repository,
    name: &Name,
    manifest: &Manifest,
    body: Bytes,
    link: bool,
    extra: Vec<(PropertyTarget, String, String)>,
) -> wharf_core::Result<()> {
    let size = body.len();
    let staged = state
        .blobs
        .stage(
            futures::stream::iter([Ok::<_, std::io::Error>(body)]),
            &StageOptions {
                digests: wharf_core::digest::DigestSet::SHA256,
                ..StageOptions::default()
            },
        )
        .await?;
    let digest = digest_name(&staged.digests.sha256);
    let file = FileName::new(digest.clone())?;
    let links = manifest
        .references
        .iter()
        .filter(|_| link)
        .map(|r| Ok((FileName::new(digest_name(&r.digest))?, r.digest.clone())))
        .collect::<Result<Vec<_>, wharf_core::Error>>()?;
    let mut properties = vec![
        (
            PropertyTarget::Version,
            MEDIA_TYPE.to_owned(),
            manifest.media_type.to_owned(),
        ),
        (PropertyTarget::Version, SIZE.to_owned(), size.to_string()),
    ];
    if let Some(t) = &manifest.artifact_type {
        properties.push((PropertyTarget::Version, ARTIFACT_TYPE.to_owned(), t.clone()));
    }
    if let Some(s) = &manifest.subject {
        properties.push((PropertyTarget::Version, SUBJECT.to_owned(), digest_name(s)));
    }
    if let Some(a) = &manifest.annotations {
        let json = serde_json::Value::Object(a.clone()).to_string();
        properties.push((PropertyTarget::Version, ANNOTATIONS.to_owned(), json));
    }
    properties.extend(extra);
    let linked = publish_linked(
        state.store.as_ref(),
        &state.blobs,
        PublishLinked {
            repository: repo,
            package: &PackageName::new(name.image.clone())?,
            version: &VersionName::new(digest)?,
            document: Some((&file, staged)),
            links: &links,
            properties,
        },
    )
    .await?;
    release_uploads(state, linked.package_id, &links).await;
    Ok(())
}

/// Takes the blobs a manifest now references out of the uploads version, so that they go
/// with the last manifest that references them. A failure only keeps them longer.
async fn release_uploads(state: &AppState, package_id: i64, links: &[(FileName, Sha256)]) {
    let store = &state.store;
    let result = async {
        let Some(uploads) = store.version(package_id, UPLOADS).await? else {
            return Ok(());
        };
        for file in store.list_files(uploads.id).await? {
            if links.iter().any(|(name, _)| name.as_str() == file.name) {
                store.delete_file(file.id).await?;
            }
        }
        Ok::<_, wharf_core::Error>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not release uploaded blobs after a manifest push");
    }
}

/// `DELETE /v2/{name}/manifests/{reference}`: a tag is removed alone; a digest removes the
/// manifest and every tag naming it. `202`.
pub(crate) async fn delete(
    call: &Call<'_>,
    name: &Name,
    reference: &Reference,
) -> Result<Response, OciError> {
    let repo = open(call, name, true).await?;
    let package = package(call.state, &repo, &name.image, Code::ManifestUnknown).await?;
    let store = &call.state.store;
    let owner = PropertyOwner::Package(package.id);
    match reference {
        Reference::Tag(tag) => {
            if !store.delete_property(owner, &format!("{TAG}{tag}")).await? {
                return Err(OciError::new(
                    Code::ManifestUnknown,
                    format!("no tag {tag} in {}", name.full()),
                ));
            }
        }
        Reference::Digest(sha) => {
            let digest = digest_name(sha);
            let version = store
                .version(package.id, &digest)
                .await?
                .ok_or_else(|| manifest_unknown(&digest))?;
            for (tag, target) in tags(call.state, &package).await? {
                if target == digest {
                    store.delete_property(owner, &format!("{TAG}{tag}")).await?;
                }
            }
            store.delete_version(version.id).await?;
        }
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

fn manifest_unknown(digest: &str) -> OciError {
    OciError::new(
        Code::ManifestUnknown,
        format!("manifest {digest} is unknown"),
    )
}
