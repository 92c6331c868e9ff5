//! Proxy repositories: a pull-through cache of an upstream registry (Docker Hub, another
//! Wharf, any distribution-spec registry). Blobs are fetched once (single flight per digest),
//! verified against their digest and kept for ever; manifests by digest likewise. A tag is
//! resolved upstream at most once per `proxy.metadata_max_age`: within it a pull makes no
//! upstream request at all (upstream rate limits count manifest requests); after it, one `HEAD`
//! tells whether the tag still names the cached digest, and only a moved tag costs a `GET`.
//! When the upstream is down, the cached digest is served.

pub(crate) mod client;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http::{StatusCode, header};
use reqwest::Method;
use wharf_core::blob::StagedBlob;
use wharf_core::digest::Sha256;
use wharf_core::model::{FileEntry, Package, PropertyOwner, Repository};
use wharf_core::time::Timestamp;
use wharf_core::usecases::PropertyTarget;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::redact::transport_error;
use wharf_server::resolve::{Artifacts, Expected, Located, resolve};

use client::Remote;
pub(crate) use client::Tokens;

use crate::blobs::{blob_unknown, with_digest};
use crate::document::{self, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::Oci;
use crate::images::{TAG, digest_name};
use crate::manifests::{MAX_MANIFEST, store_manifest};
use crate::request::Name;

/// Prefix of the package property holding when a tag was last resolved upstream (ms).
const CHECKED: &str = "oci.tag_checked.";
/// The manifest kinds asked of the upstream.
const ACCEPT: [&str; 4] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

/// What a proxy found for a blob the cache lacks.
pub(crate) enum Fetched {
    /// Now cached: serve it.
    Cached(FileEntry),
    /// The answer to a `HEAD`, taken from the upstream without fetching the blob.
    Head(Response),
}

fn remote<'a>(
    oci: &'a Oci,
    call: &'a Call<'_>,
    repo: &'a Repository,
) -> Result<Remote<'a>, OciError> {
    Ok(Remote::new(call.state, &oci.tokens, repo)?)
}

fn upstream_failed(url: &str, status: StatusCode) -> OciError {
    Error::Upstream(format!("upstream {url} answered {status}")).into()
}

/// A blob the cache lacks, from the upstream.
pub(crate) async fn blob(
    oci: &Oci,
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    sha: &Sha256,
) -> Result<Fetched, OciError> {
    let remote = remote(oci, call, repo)?;
    let url = remote.url(&name.image, &format!("blobs/{}", digest_name(sha)));
    if call.method == http::Method::HEAD {
        let response = remote.send(Method::HEAD, &url, &[]).await?;
        return match response.status() {
            StatusCode::OK => {
                let length = response
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .cloned()
                    .unwrap_or(http::HeaderValue::from_static("0"));
                let mut answer = (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                )
                    .into_response();
                answer.headers_mut().insert(header::CONTENT_LENGTH, length);
                with_digest(&mut answer, sha);
                Ok(Fetched::Head(answer))
            }
            StatusCode::NOT_FOUND => Err(blob_unknown(sha)),
            status => Err(upstream_failed(&url, status)),
        };
    }
    let key = BlobKey {
        name: name.clone(),
        sha: sha.clone(),
    };
    let blobs = Blobs { oci };
    match resolve(call.state, &blobs, repo, &key).await {
        Ok(Some(file)) => Ok(Fetched::Cached(file)),
        Ok(None) | Err(Error::NotFound(_)) => Err(blob_unknown(sha)),
        Err(e) => Err(e.into()),
    }
}

/// A blob of an image.
pub(crate) struct BlobKey {
    name: Name,
    sha: Sha256,
}

/// The blobs of OCI proxies, for [`resolve`]: fetched through the upstream's token flow and
/// kept as files of the image's uploads version, where pushes put them too.
struct Blobs<'a> {
    oci: &'a Oci,
}

#[async_trait::async_trait]
impl Artifacts for Blobs<'_> {
    type Key = BlobKey;

    fn canonical(&self, key: &BlobKey) -> String {
        key.name.image.clone()
    }

    fn flight(&self, key: &BlobKey) -> String {
        format!("oci:{}", key.sha)
    }

    fn digests(&self) -> wharf_core::digest::DigestSet {
        wharf_core::digest::DigestSet::SHA256
    }

    async fn stored(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &BlobKey,
    ) -> Result<Option<FileEntry>> {
        state
            .store
            .package_file(repo.id, &key.name.image, &digest_name(&key.sha))
            .await
    }

    async fn locate(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &BlobKey,
    ) -> Result<Option<Located>> {
        let remote = Remote::new(state, &self.oci.tokens, repo)?;
        Ok(Some(Located {
            url: remote.url(&key.name.image, &format!("blobs/{}", digest_name(&key.sha))),
            expected: Some(Expected::Sha256(key.sha.clone())),
            package: key.name.image.clone(),
            canonical: None,
            version: crate::images::UPLOADS.to_owned(),
            file: digest_name(&key.sha),
            properties: Vec::new(),
        }))
    }

    async fn fetch(
        &self,
        state: &AppState,
        repo: &Repository,
        located: &Located,
    ) -> Result<StagedBlob> {
        let remote = Remote::new(state, &self.oci.tokens, repo)?;
        let url = &located.url;
        let response = remote.send(Method::GET, url, &[]).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(Error::not_found(format!("the upstream has no {url}")));
            }
            status => return Err(Error::Upstream(format!("upstream {url} answered {status}"))),
        }
        let body = response
            .bytes_stream()
            .map(|c| c.map_err(std::io::Error::other));
        state
            .blobs
            .stage(
                Box::pin(body),
                &wharf_core::blob::StageOptions {
                    max_size: Some(state.upload_limit(repo)),
                    expected_sha256: match &located.expected {
                        Some(Expected::Sha256(sha)) => Some(sha.clone()),
                        _ => None,
                    },
                    digests: self.digests(),
                },
            )
            .await
            .map_err(|e| match e {
                Error::DigestMismatch { .. } | Error::BodyRead(_) => {
                    Error::Upstream(format!("upstream {url} sent a broken blob: {e}"))
                }
                other => other,
            })
    }

    async fn store(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &BlobKey,
        _located: &Located,
        staged: StagedBlob,
    ) -> Result<()> {
        crate::uploads::store_blob(state, repo, &key.name, staged).await
    }
}

/// The digest a manifest reference names, with that manifest cached.
pub(crate) async fn manifest(
    oci: &Oci,
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    reference: &crate::request::Reference,
) -> Result<Sha256, OciError> {
    let remote = remote(oci, call, repo)?;
    let store = &call.state.store;
    match reference {
        crate::request::Reference::Digest(sha) => {
            if cached(call, repo, name, sha).await? {
                return Ok(sha.clone());
            }
            let _flight = call
                .state
                .upstream
                .flight(format!("oci:{}:{}", repo.id, sha))
                .await;
            if cached(call, repo, name, sha).await? {
                return Ok(sha.clone());
            }
            fetch(
                call,
                &remote,
                repo,
                name,
                &digest_name(sha),
                Some(sha),
                None,
            )
            .await
        }
        crate::request::Reference::Tag(tag) => {
            let _flight = call
                .state
                .upstream
                .flight(format!("oci:{}:{}:{tag}", repo.id, name.image))
                .await;
            let local = match store.package(repo.id, &name.image).await? {
                Some(p) => local_tag(call, &p, tag).await?,
                None => None,
            };
            let max_age = call.state.config.proxy_max_age;
            if let Some((sha, checked)) = &local
                && Timestamp::now().0 - checked.0
                    < i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)
            {
                return Ok(sha.clone());
            }
            let resolved = revalidate(call, &remote, repo, name, tag, local.as_ref()).await;
            match (resolved, local) {
                (Ok(sha), _) => Ok(sha),
                (Err(e), Some((sha, _))) if e.code == Code::Unknown => {
                    tracing::warn!(repository = %repo.name, image = %name.image, tag, error = %e.message,
                        "upstream unavailable; serving the cached tag");
                    Ok(sha)
                }
                (Err(e), _) => Err(e),
            }
        }
    }
}

/// Asks the upstream what `tag` names now: a `HEAD` when a digest is cached (a `GET` only if it
/// moved), a `GET` otherwise.
async fn revalidate(
    call: &Call<'_>,
    remote: &Remote<'_>,
    repo: &Repository,
    name: &Name,
    tag: &str,
    local: Option<&(Sha256, Timestamp)>,
) -> Result<Sha256, OciError> {
    let now = Timestamp::now();
    if let Some((sha, _)) = local {
        let url = remote.url(&name.image, &format!("manifests/{tag}"));
        let response = remote.send(Method::HEAD, &url, &ACCEPT).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(tag_unknown(tag)),
            status => return Err(upstream_failed(&url, status)),
        }
        let current = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|d| crate::request::parse_digest(d).ok());
        if current.as_ref() == Some(sha) && cached(call, repo, name, sha).await? {
            if let Some(package) = call.state.store.package(repo.id, &name.image).await? {
                call.state
                    .store
                    .set_property(
                        PropertyOwner::Package(package.id),
                        &format!("{CHECKED}{tag}"),
                        &now.0.to_string(),
                    )
                    .await?;
            }
            return Ok(sha.clone());
        }
    }
    fetch(call, remote, repo, name, tag, None, Some(tag)).await
}

/// Fetches the manifest `reference` and caches it (tagged `tag`), checking it hashes to
/// `expected` when that is known.
async fn fetch(
    call: &Call<'_>,
    remote: &Remote<'_>,
    repo: &Repository,
    name: &Name,
    reference: &str,
    expected: Option<&Sha256>,
    tag: Option<&str>,
) -> Result<Sha256, OciError> {
    let url = remote.url(&name.image, &format!("manifests/{reference}"));
    let response = remote.send(Method::GET, &url, &ACCEPT).await?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return Err(OciError::new(
                Code::ManifestUnknown,
                format!("the upstream has no manifest {reference} of {}", name.image),
            ));
        }
        status => return Err(upstream_failed(&url, status)),
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = read_limited(response, &url).await?;
    let sha = Sha256::of(&body);
    if expected.is_some_and(|e| *e != sha) {
        return Err(
            Error::Upstream(format!("upstream {url} sent a manifest of another digest")).into(),
        );
    }
    let manifest = document::parse(&body, content_type.as_deref())?;
    let mut extra = Vec::new();
    if let Some(tag) = tag {
        extra.push((
            PropertyTarget::Package,
            format!("{TAG}{tag}"),
            digest_name(&sha),
        ));
        extra.push((
            PropertyTarget::Package,
            format!("{CHECKED}{tag}"),
            Timestamp::now().0.to_string(),
        ));
    }
    store_manifest(call.state, repo, name, &manifest, body, false, extra).await?;
    Ok(sha)
}

async fn read_limited(response: reqwest::Response, url: &str) -> Result<Bytes, OciError> {
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transport_error("upstream", url, e))?;
        if out.len() + chunk.len() > MAX_MANIFEST {
            return Err(Error::Upstream(format!(
                "upstream {url}: manifest over {MAX_MANIFEST} bytes"
            ))
            .into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// Whether the manifest `sha` is cached in the image.
async fn cached(
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
    sha: &Sha256,
) -> Result<bool, OciError> {
    let digest = digest_name(sha);
    Ok(call
        .state
        .store
        .file(repo.id, &name.image, &digest, &digest)
        .await?
        .is_some())
}

/// The cached digest of `tag` and when it was last resolved upstream.
async fn local_tag(
    call: &Call<'_>,
    package: &Package,
    tag: &str,
) -> Result<Option<(Sha256, Timestamp)>, OciError> {
    let properties = call
        .state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?;
    let get = |key: String| {
        properties
            .iter()
            .find_map(|(k, v)| (*k == key).then(|| v.clone()))
    };
    let sha = get(format!("{TAG}{tag}")).and_then(|d| {
        d.strip_prefix("sha256:")
            .and_then(|h| Sha256::parse(h).ok())
    });
    let checked = get(format!("{CHECKED}{tag}"))
        .and_then(|t| t.parse().ok())
        .map(Timestamp);
    Ok(sha.map(|sha| (sha, checked.unwrap_or(Timestamp(0)))))
}

fn tag_unknown(tag: &str) -> OciError {
    OciError::new(
        Code::ManifestUnknown,
        format!("the upstream has no tag {tag}"),
    )
}

/// `GET /v2/{name}/tags/list` of a proxy: the upstream's list, under the local name.
pub(crate) async fn tags(
    oci: &Oci,
    call: &Call<'_>,
    repo: &Repository,
    name: &Name,
) -> Result<Response, OciError> {
    let remote = remote(oci, call, repo)?;
    let mut url = remote.url(&name.image, "tags/list");
    if let Some(query) = call.query() {
        url = format!("{url}?{query}");
    }
    let response = remote.send(Method::GET, &url, &[]).await?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return Err(OciError::new(
                Code::NameUnknown,
                format!("the upstream has no {}", name.image),
            ));
        }
        status => return Err(upstream_failed(&url, status)),
    }
    // The next page, under the local name: the upstream's `Link` keeps its query only.
    let next = response
        .headers()
        .get(header::LINK)
        .and_then(|v| v.to_str().ok())
        .and_then(|link| link.split_once('?'))
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(query, _)| format!("</v2/{}/tags/list?{query}>; rel=\"next\"", name.full()));
    let mut body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| transport_error("upstream", &url, e))?;
    body["name"] = serde_json::json!(name.full());
    let mut answer = axum::Json(body).into_response();
    if let Some(link) = next.and_then(|l| http::HeaderValue::from_str(&l).ok()) {
        answer.headers_mut().insert(header::LINK, link);
    }
    Ok(answer)
}
