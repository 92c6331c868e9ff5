//! Pushing to and deleting from another registry over HTTP, as go-containerregistry's
//! `remote.Write` and the original's deleter do: each blob is checked with `HEAD` and uploaded
//! (`POST`, then `PUT ?digest=` with the body) when missing, then the manifest is `PUT` by tag.
//! The registry's challenge is answered with `image_uploader.registry_username`/`_password`
//! (or the original's `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`): Basic, or a token from its
//! realm — only a realm on the registry's own origin or listed in
//! `image_uploader.token_services`; any other is refused before anything is sent to it. No
//! redirect is followed. Plain `http` is used only for loopback hosts and those listed in
//! `image_uploader.insecure_registries`; everything else is `https`. Which registries may be
//! reached at all is decided before (`image_uploader.allowed_registries`, in [`super`]).

use std::path::Path;

use base64::Engine as _;
use http::{HeaderValue, StatusCode, header};
use reqwest::Method;
use wharf_core::blob::StagedBlob;
use wharf_core::digest::Sha256;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::redact::transport_error;
use wharf_server::upstream::Credentials;

use wharf_format_oci::usecases::{
    DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, answer_challenge, challenge_of,
    challenge_realm, digest_name,
};

use crate::UploaderConfig;
use crate::image::{self, Built};
use crate::reference::ImageRef;

/// A registry session: where it is, and the `Authorization` that worked last.
struct Registry<'a> {
    state: &'a AppState,
    base: String,
    path: String,
    /// The registry's origin and the configured token services.
    origins: Vec<String>,
    credentials: Option<Credentials>,
    authorization: Option<HeaderValue>,
}

fn failed(url: &str, status: StatusCode) -> Error {
    Error::Upstream(format!("registry {url} answered {status}"))
}

impl<'a> Registry<'a> {
    fn new(state: &'a AppState, config: &UploaderConfig, target: &ImageRef) -> Self {
        let host = target
            .host
            .clone()
            .unwrap_or_else(|| "index.docker.io".to_owned());
        let hostname = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let plain = matches!(hostname, "localhost" | "127.0.0.1" | "[::1]")
            || config
                .insecure_registries
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&host));
        let scheme = if plain { "http" } else { "https" };
        let base = format!("{scheme}://{host}");
        let mut origins = vec![base.clone()];
        origins.extend(config.token_services.iter().cloned());
        let credentials = config.credentials().and_then(|(user, password)| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
            let urls: Vec<&str> = origins.iter().map(String::as_str).collect();
            Some(Credentials::new(value, &urls))
        });
        Self {
            state,
            base,
            path: target.path.clone(),
            origins,
            credentials,
            authorization: None,
        }
    }

    /// Refuses a token service that is neither on the registry's origin nor configured.
    fn check_realm(&self, challenge: &str) -> Result<()> {
        let Some(realm) = challenge_realm(challenge) else {
            return Ok(());
        };
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        let allowed = origin(&realm).is_some_and(|realm| {
            realm.is_tuple()
                && self
                    .origins
                    .iter()
                    .any(|o| origin(o) == Some(realm.clone()))
        });
        if allowed {
            Ok(())
        } else {
            Err(Error::Upstream(format!(
                "registry {} sends Wharf to the token service {realm}, which is neither on its origin nor listed in image_uploader.token_services; nothing was sent there",
                self.base
            )))
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.path)
    }

    /// Sends a request without a body (or a small one), answering a challenge once.
    async fn send(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<bytes::Bytes>,
    ) -> Result<reqwest::Response> {
        let err = |e: reqwest::Error| transport_error("registry", url, e);
        for attempt in 0..2 {
            let mut request = self.state.upstream.request_direct(method.clone(), url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(auth) = &self.authorization {
                request = request.header(header::AUTHORIZATION, auth.clone());
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let response = request.send().await.map_err(err)?;
            if response.status() != StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(response);
            }
            let challenge = challenge_of(&response);
            self.check_realm(&challenge)?;
            match answer_challenge(self.state, url, &challenge, self.credentials.as_ref()).await? {
                Some(answer) => self.authorization = Some(answer.authorization),
                None => return Ok(response),
            }
        }
        Err(Error::Upstream(format!("registry {url}: not authorized")))
    }

    /// Uploads a blob unless the registry has it.
    async fn put_blob(&mut self, sha: &Sha256, size: u64, body: BlobBody<'_>) -> Result<()> {
        let head = self.url(&format!("blobs/{}", digest_name(sha)));
        if self.send(Method::HEAD, &head, &[], None).await?.status() == StatusCode::OK {
            return Ok(());
        }
        let start = self.url("blobs/uploads/");
        let response = self.send(Method::POST, &start, &[], None).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(failed(&start, response.status()));
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Upstream(format!("registry {start}: no upload location")))?;
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_owned()
        };
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        if origin(&location) != origin(&self.base) {
            return Err(Error::Upstream(format!(
                "registry {} sent the upload to another origin ({location}); not followed",
                self.base
            )));
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", digest_name(sha));
        let mut request = self
            .state
            .upstream
            .request_direct(Method::PUT, &url)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, size);
        if let Some(auth) = &self.authorization {
            request = request.header(header::AUTHORIZATION, auth.clone());
        }
        let request = match body {
            BlobBody::Bytes(bytes) => request.body(bytes),
            BlobBody::Staged(staged) => {
                let stream = self.state.blobs.read_staged(staged).await?;
                request.body(reqwest::Body::wrap_stream(stream))
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| transport_error("registry", &url, e))?;
        if response.status() != StatusCode::CREATED {
            return Err(failed(&url, response.status()));
        }
        Ok(())
    }
}

enum BlobBody<'a> {
    Bytes(bytes::Bytes),
    Staged(&'a StagedBlob),
}

/// Builds the image of `zip` and pushes it as `target:latest`: the manifest digest's hex.
pub(super) async fn push(
    state: &AppState,
    config: &UploaderConfig,
    target: &ImageRef,
    zip: &Path,
) -> Result<String> {
    let mut registry = Registry::new(state, config, target);
    let layer = crate::layer::build(
        &state.blobs,
        zip.to_path_buf(),
        state.config.default_max_upload,
    )
    .await?;
    let built: Built = image::assemble(layer)?;
    let config_sha = Sha256::of(&built.config);
    registry
        .put_blob(
            &config_sha,
            built.config.len() as u64,
            BlobBody::Bytes(built.config.clone()),
        )
        .await?;
    registry
        .put_blob(
            &built.layer.digests.sha256,
            built.layer.size,
            BlobBody::Staged(&built.layer),
        )
        .await?;
    let url = registry.url("manifests/latest");
    let response = registry
        .send(
            Method::PUT,
            &url,
            &[("content-type", DOCKER_MANIFEST)],
            Some(built.manifest.clone()),
        )
        .await?;
    if response.status() != StatusCode::CREATED {
        return Err(failed(&url, response.status()));
    }
    Ok(Sha256::of(&built.manifest).hex().to_owned())
}

/// Deletes `target` as the original does: resolve it, delete the tag (a registry that cannot
/// is fine), then the manifest; what is missing counts as deleted.
pub(super) async fn delete(
    state: &AppState,
    config: &UploaderConfig,
    target: &ImageRef,
) -> Result<String> {
    let mut registry = Registry::new(state, config, target);
    let reference = match &target.digest {
        Some(d) => digest_name(d),
        None => target.tag.clone().unwrap_or_else(|| "latest".into()),
    };
    let url = registry.url(&format!("manifests/{reference}"));
    let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(", ");
    let response = registry
        .send(Method::HEAD, &url, &[("accept", &accept)], None)
        .await?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Ok(target.name()),
        status => return Err(failed(&url, status)),
    }
    let digest = response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| Error::Upstream(format!("registry {url} gave no digest")))?;
    if target.digest.is_none() {
        let status = registry
            .send(Method::DELETE, &url, &[], None)
            .await?
            .status();
        if !(status.is_success()
            || matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ))
        {
            return Err(failed(&url, status));
        }
    }
    let by_digest = registry.url(&format!("manifests/{digest}"));
    let status = registry
        .send(Method::DELETE, &by_digest, &[], None)
        .await?
        .status();
    if !(status.is_success() || status == StatusCode::NOT_FOUND) {
        return Err(failed(&by_digest, status));
    }
    Ok(format!("{}@{digest}", target.repository()))
}
