//! The upstream of proxy repositories: one HTTP client for every format, the cache of
//! upstream metadata documents (fresh for `proxy.metadata_max_age`, then revalidated with
//! `ETag`/`Last-Modified`, served stale and logged when the upstream is down), artifacts
//! streamed into staged blobs, and single flight so that concurrent requests for the same
//! missing item make one upstream request. A proxy repository with credentials sends them as
//! `Authorization` to its upstream's origin only — never to another host a document points at
//! or a redirect leads to — and, for protocols with a token service, to the one its
//! configuration names. Redirects are followed at most ten times and never from `https` to
//! `http`; a redirect to another origin drops the credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use http::{HeaderValue, StatusCode, header};
use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::digest::{DigestSet, Sha256};
use wharf_core::model::Repository;
use wharf_core::store::CachedDocument;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

use crate::state::AppState;

/// The largest metadata document read from an upstream.
const MAX_DOCUMENT: usize = 64 << 20;

/// The `Authorization` a proxy repository sends its upstream.
#[derive(Clone)]
pub struct UpstreamAuth {
    /// The repository's format.
    pub format: String,
    /// The repository's name.
    pub name: String,
    /// The header's value (`Bearer …`, `Basic …`).
    pub authorization: String,
    /// A token service on another origin than the upstream that may receive the credentials
    /// when the upstream's challenge names it (Docker Hub's `https://auth.docker.io`).
    pub token_service: Option<String>,
}

/// Credentials and the origins they may be sent to: nothing else ever receives them.
#[derive(Clone)]
pub struct Credentials {
    value: HeaderValue,
    origins: Vec<url::Origin>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials(***, {} origins)", self.origins.len())
    }
}

impl Credentials {
    /// `value` for the origins of `urls` (those that do not parse are left out).
    #[must_use]
    pub fn new(mut value: HeaderValue, urls: &[&str]) -> Self {
        value.set_sensitive(true);
        Self {
            value,
            origins: urls
                .iter()
                .filter_map(|u| url::Url::parse(u).ok())
                .map(|u| u.origin())
                .filter(url::Origin::is_tuple)
                .collect(),
        }
    }

    /// The `Authorization` for a request to `url`, when its origin is one of the credentials'.
    #[must_use]
    pub fn for_url(&self, url: &str) -> Option<&HeaderValue> {
        let origin = url::Url::parse(url).ok()?.origin();
        self.origins.contains(&origin).then_some(&self.value)
    }
}

/// How redirects are followed: at most ten, never from `https` to `http` (reqwest drops
/// `Authorization` itself when the host or port changes).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt
            .previous()
            .last()
            .is_some_and(|p| p.scheme() == "https")
            && attempt.url().scheme() != "https";
        if attempt.previous().len() >= 10 {
            attempt.error("more than 10 redirects")
        } else if downgrade {
            attempt.error("a redirect from https to http")
        } else {
            attempt.follow()
        }
    })
}

impl std::fmt::Debug for UpstreamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UpstreamAuth({}/{}, ***)", self.format, self.name)
    }
}

/// Upstream access shared by all formats.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    /// The same, following no redirect (for registries Wharf writes to).
    direct: reqwest::Client,
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    auth: Arc<HashMap<(String, String), Configured>>,
}

/// A repository's configured `Authorization` and the token service it may also go to.
type Configured = (HeaderValue, Option<String>);

/// Held while one request fetches a key; others wait for it, then read the cache.
pub struct Flight {
    _guard: tokio::sync::OwnedMutexGuard<()>,
    key: String,
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        if let Ok(mut map) = self.flights.lock()
            && map
                .get(&self.key)
                .is_some_and(|lock| Arc::strong_count(lock) <= 2)
        {
            map.remove(&self.key);
        }
    }
}

fn upstream_err(url: &str, what: impl std::fmt::Display) -> Error {
    Error::Upstream(format!("upstream {}: {what}", crate::redact::url(url)))
}

fn transport_err(url: &str, e: reqwest::Error) -> Error {
    crate::redact::transport_error("upstream", url, e)
}

impl Upstream {
    /// A client with a timeout for connecting and for each read, sending `auth` to the
    /// upstreams of the repositories it names (values that are no valid header are dropped
    /// with an error in the log).
    ///
    /// # Panics
    /// When the TLS backend cannot be initialised (a broken build).
    #[must_use]
    pub fn new(timeout: Duration, auth: &[UpstreamAuth]) -> Self {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(timeout)
                .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
        };
        let client = builder()
            .redirect(redirect_policy())
            .build()
            .expect("HTTP client");
        let direct = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let auth = auth
            .iter()
            .filter_map(|a| {
                let Ok(mut value) = HeaderValue::from_str(&a.authorization) else {
                    tracing::error!(repository = %format!("{}/{}", a.format, a.name), "upstream credentials are not a valid header value; not sent");
                    return None;
                };
                value.set_sensitive(true);
                Some((
                    (a.format.clone(), a.name.clone()),
                    (value, a.token_service.clone()),
                ))
            })
            .collect();
        Self {
            client,
            direct,
            flights: Arc::default(),
            auth: Arc::new(auth),
        }
    }

    /// A GET of `url` for `repo`, with its credentials when `url` is on its upstream's origin.
    fn get(&self, repo: &Repository, url: &str) -> reqwest::RequestBuilder {
        self.signed(repo, url, self.client.get(url))
    }

    /// A POST of `url` for `repo`, signed as [`Self::get`].
    fn post(&self, repo: &Repository, url: &str) -> reqwest::RequestBuilder {
        self.signed(repo, url, self.client.post(url))
    }

    /// `request` with `repo`'s credentials when `url` is on its upstream's origin.
    fn signed(
        &self,
        repo: &Repository,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> reqwest::RequestBuilder {
        if self.auth.is_empty() {
            return request;
        }
        let Some((value, _)) = self.auth.get(&(repo.format.clone(), repo.name.to_string())) else {
            return request;
        };
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        match (origin(url), repo.upstream.as_deref().and_then(origin)) {
            (Some(target), Some(upstream)) if target == upstream => {
                request.header(header::AUTHORIZATION, value.clone())
            }
            _ => request,
        }
    }

    /// A request to `url` without credentials, for protocols that negotiate them themselves
    /// (the OCI token flow, see [`Self::credentials`]).
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// A request to `url` that follows no redirect (a redirect answer is returned as it is),
    /// for registries Wharf writes to on a caller's behalf.
    pub fn request_direct(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.direct.request(method, url)
    }

    /// The credentials configured for `repo`'s upstream, bound to its origin and to its
    /// configured token service, for protocols that negotiate them (OCI's Bearer realm).
    #[must_use]
    pub fn credentials(&self, repo: &Repository) -> Option<Credentials> {
        let (value, token_service) = self
            .auth
            .get(&(repo.format.clone(), repo.name.to_string()))?;
        let mut urls: Vec<&str> = repo.upstream.as_deref().into_iter().collect();
        urls.extend(token_service.as_deref());
        Some(Credentials::new(value.clone(), &urls))
    }

    /// Waits until nobody else fetches `key`, then holds it.
    pub async fn flight(&self, key: String) -> Flight {
        let lock = {
            let mut map = self
                .flights
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(key.clone()).or_default().clone()
        };
        Flight {
            _guard: lock.lock_owned().await,
            key,
            flights: self.flights.clone(),
        }
    }

    /// A metadata document of `repo`'s upstream at `url`, cached under `key`, asked for with
    /// `accept` when given. `None` when the upstream says it does not exist.
    ///
    /// # Errors
    /// [`Error::Upstream`] when the upstream fails and nothing is cached.
    pub async fn document(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &str,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        let max_age = state.config.proxy_max_age;
        let fresh = |doc: &CachedDocument| doc.fetched_at > Timestamp::now().minus(max_age);
        if let Some(doc) = state.store.cached(repo.id, key).await?
            && fresh(&doc)
        {
            return Ok((doc.status == 200).then_some(doc.body));
        }
        let _flight = self.flight(format!("doc:{}:{key}", repo.id)).await;
        let cached = state.store.cached(repo.id, key).await?;
        if let Some(doc) = &cached
            && fresh(doc)
        {
            return Ok((doc.status == 200).then(|| doc.body.clone()));
        }
        match self
            .fetch_document(repo, url, accept, cached.as_ref())
            .await
        {
            Ok(Fetched::NotModified) => {
                let doc = cached.ok_or_else(|| upstream_err(url, "304 without a cached copy"))?;
                state
                    .store
                    .touch_cached(repo.id, key, Timestamp::now())
                    .await?;
                Ok((doc.status == 200).then_some(doc.body))
            }
            Ok(Fetched::Document(doc)) => {
                state.store.store_cached(repo.id, key, &doc).await?;
                Ok((doc.status == 200).then_some(doc.body))
            }
            Err(e) => match cached {
                Some(doc) if doc.status == 200 => {
                    tracing::warn!(url = %crate::redact::url(url), error = %e, "upstream unavailable: serving a stale copy");
                    Ok(Some(doc.body))
                }
                _ => Err(e),
            },
        }
    }

    async fn fetch_document(
        &self,
        repo: &Repository,
        url: &str,
        accept: Option<&str>,
        cached: Option<&CachedDocument>,
    ) -> Result<Fetched> {
        let mut request = self.get(repo, url);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let Some(doc) = cached.filter(|d| d.status == 200) {
            if let Some(etag) = &doc.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &doc.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = request.send().await.map_err(|e| transport_err(url, e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && cached.is_some() {
            return Ok(Fetched::NotModified);
        }
        if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(Fetched::Document(CachedDocument {
                status: 404,
                etag: None,
                last_modified: None,
                fetched_at: Timestamp::now(),
                body: Vec::new(),
            }));
        }
        if !status.is_success() {
            return Err(upstream_err(url, format!("answered {status}")));
        }
        let text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = text(header::ETAG);
        let last_modified = text(header::LAST_MODIFIED);
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.try_next().await.map_err(|e| transport_err(url, e))? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(upstream_err(url, "document larger than 64 MiB"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Document(CachedDocument {
            status: 200,
            etag,
            last_modified,
            fetched_at: Timestamp::now(),
            body,
        }))
    }

    /// A JSON document from `repo`'s upstream API, not cached (searches).
    ///
    /// # Errors
    /// [`Error::Upstream`] when the upstream fails or answers something else than JSON.
    pub async fn get_json(
        &self,
        repo: &Repository,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value> {
        let response = self
            .get(repo, url)
            .query(query)
            .send()
            .await
            .map_err(|e| transport_err(url, e))?;
        if !response.status().is_success() {
            return Err(upstream_err(url, format!("answered {}", response.status())));
        }
        response.json().await.map_err(|e| transport_err(url, e))
    }

    /// POSTs `body` (JSON, `content_encoding` as the client sent it) to `repo`'s upstream API
    /// at `url` and reads the JSON answer, not cached (npm's audits).
    ///
    /// # Errors
    /// [`Error::Upstream`] when the upstream fails or answers something else than JSON.
    pub async fn post_json(
        &self,
        repo: &Repository,
        url: &str,
        body: bytes::Bytes,
        content_encoding: Option<&str>,
    ) -> Result<serde_json::Value> {
        let mut request = self
            .post(repo, url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(encoding) = content_encoding {
            request = request.header(header::CONTENT_ENCODING, encoding);
        }
        let response = request.send().await.map_err(|e| transport_err(url, e))?;
        if !response.status().is_success() {
            return Err(upstream_err(url, format!("answered {}", response.status())));
        }
        response.json().await.map_err(|e| transport_err(url, e))
    }

    /// Streams an artifact of `repo` at `url` into a staged blob computing `digests`,
    /// verifying its SHA-256 when known.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the upstream has no such artifact, [`Error::Upstream`] when it
    /// fails, or the staging errors.
    pub async fn fetch_artifact(
        &self,
        blobs: &BlobStore,
        repo: &Repository,
        url: &str,
        expected_sha256: Option<Sha256>,
        digests: DigestSet,
        max_size: u64,
    ) -> Result<StagedBlob> {
        let response = self
            .get(repo, url)
            .send()
            .await
            .map_err(|e| transport_err(url, e))?;
        let status = response.status();
        if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Err(Error::not_found(format!("the upstream has no {url}")));
        }
        if !status.is_success() {
            return Err(upstream_err(url, format!("answered {status}")));
        }
        let stream = response.bytes_stream().map_err(std::io::Error::other);
        blobs
            .stage(
                Box::pin(stream),
                &StageOptions {
                    max_size: Some(max_size),
                    expected_sha256,
                    digests,
                },
            )
            .await
            .map_err(|e| match e {
                Error::BodyRead(m) => upstream_err(url, m),
                other => other,
            })
    }
}

enum Fetched {
    NotModified,
    Document(CachedDocument),
}
