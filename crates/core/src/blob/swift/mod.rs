//! The OpenStack Swift backend: its settings (`[storage.swift]`), the OpenDAL operator they
//! open over a logged-in session ([`auth`]), and the two operations Wharf does on Swift
//! itself because they depend on large objects: committing an upload and deleting.
//!
//! Uploads larger than a segment are static large objects (SLO): OpenDAL writes the segments
//! under `.segments/` and then the manifest. Committing writes the temporary manifest again at
//! the content address (no data moves) and removes the temporary manifest alone, so the
//! segments pass to the committed object; deleting an object that is a manifest deletes its
//! segments with it (`?multipart-manifest=delete`).

mod auth;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use opendal::raw::oio::ReadStream as _;
use opendal::{Buffer, ErrorKind, HttpTransporter, OperationContext, Operator, services};
use serde::{Deserialize, Serialize};

use super::{storage_err, transport};
use crate::{Error, Result};

/// Default size of the segments of large uploads: with Swift's default limit of 1000
/// segments per manifest, objects up to 16 GiB.
pub const SWIFT_SEGMENT: usize = 16 << 20;

/// Which identity service `auth_url` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVersion {
    /// TempAuth / Swauth (`/auth/v1.0`).
    V1,
    /// Keystone v3.
    V3,
}

/// `[storage.swift]`: the account, how to log in to it, and the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SwiftConfig {
    /// TempAuth's `…/auth/v1.0` or Keystone's `…/v3` (`OS_AUTH_URL`).
    #[serde(default)]
    pub auth_url: String,
    /// `"1"` (TempAuth) or `"3"` (Keystone); guessed from `auth_url` when unset.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text_or_number"
    )]
    pub auth_version: Option<String>,
    /// The user (`account:user` for TempAuth, `OS_USERNAME` for Keystone).
    #[serde(default)]
    pub user: String,
    /// The key or password (shown as `***`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<crate::Secret>,
    /// Keystone: the project the token is scoped to (`OS_PROJECT_NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Keystone: the user's domain (`Default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_domain: Option<String>,
    /// Keystone: the project's domain (`Default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_domain: Option<String>,
    /// Keystone: the catalog region to pick the object-store endpoint from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Keystone: the catalog interface (`public`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The account URL to use instead of the one the login names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_url: Option<String>,
    /// The container (required; it must exist).
    #[serde(default)]
    pub container: String,
    /// An object name prefix inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The account's or container's `Temp-URL-Key`, to sign redirected downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_url_key: Option<crate::Secret>,
    /// Segment size of large uploads in bytes (default 16 MiB, at least 5 MiB); an upload
    /// holds up to three in memory (two being sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_size: Option<usize>,
}

/// `auth_version = 3` as well as `auth_version = "3"` (and `…_AUTH_VERSION=3`).
fn text_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Text(String),
        Number(f64),
    }
    Ok(Option::<Loose>::deserialize(d)?.map(|v| match v {
        Loose::Text(text) => text,
        Loose::Number(n) => n.to_string(),
    }))
}

impl SwiftConfig {
    /// The identity service's version: as configured, else v3 when `auth_url` ends in `/v3`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a version other than 1 and 3.
    pub fn version(&self) -> Result<AuthVersion> {
        match self.auth_version.as_deref().map(str::trim) {
            None | Some("") if self.auth_url.trim_end_matches('/').ends_with("/v3") => {
                Ok(AuthVersion::V3)
            }
            None | Some("" | "1" | "1.0" | "v1" | "v1.0") => Ok(AuthVersion::V1),
            Some("3" | "3.0" | "v3") => Ok(AuthVersion::V3),
            Some(other) => Err(Error::invalid(format!(
                "storage.swift.auth_version {other:?}: Wharf logs in with TempAuth (\"1\") or Keystone v3 (\"3\")"
            ))),
        }
    }

    fn auth_version(&self) -> AuthVersion {
        self.version().unwrap_or(AuthVersion::V1)
    }

    fn key_str(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.0.as_str())
    }

    fn user_domain(&self) -> &str {
        self.user_domain.as_deref().unwrap_or("Default")
    }

    fn project_domain(&self) -> &str {
        self.project_domain.as_deref().unwrap_or("Default")
    }

    fn interface(&self) -> &str {
        self.interface.as_deref().unwrap_or("public")
    }

    /// The segment size of large uploads.
    #[must_use]
    pub fn segment(&self) -> usize {
        self.segment_size.unwrap_or(SWIFT_SEGMENT).max(5 << 20)
    }

    /// The prefix as a root: `""` or `"a/b/"`.
    fn root(&self) -> Result<String> {
        let prefix = self.prefix.as_deref().unwrap_or("").trim_matches('/');
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        {
            return Err(Error::invalid(format!(
                "storage.swift.prefix {prefix:?}: letters, digits, '-', '_', '.' and '/' only"
            )));
        }
        Ok(if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        })
    }
}

/// A logged-in account and the container Wharf keeps its objects in.
#[derive(Debug)]
pub(super) struct Swift {
    session: Arc<auth::Session>,
    container: String,
    root: String,
}

/// Logs in and opens the operator for `config`'s container.
///
/// # Errors
/// [`Error::Invalid`] for incomplete settings; a storage error when the login fails.
pub(super) async fn open(config: &SwiftConfig) -> Result<(Operator, Arc<Swift>)> {
    for (value, name) in [
        (&config.auth_url, "auth_url"),
        (&config.user, "user"),
        (&config.container, "container"),
    ] {
        if value.is_empty() {
            return Err(Error::invalid(format!(
                "storage.swift.{name} is required with storage.backend = \"swift\""
            )));
        }
    }
    config.version()?;
    let root = config.root()?;
    let session = Arc::new(auth::Session::new(config.clone(), transport::transport()));
    let login = session
        .login(None)
        .await
        .map_err(|e| storage_err("logging in to swift", e))?;
    let mut builder = services::Swift::default()
        .endpoint(&login.storage_url)
        .container(&config.container)
        .root(&format!("/{root}"));
    if let Some(key) = &config.temp_url_key {
        builder = builder.temp_url_key(&key.0);
    }
    let op = Operator::new(builder)
        .map_err(|e| storage_err("opening swift backend", e))?
        .with_context(
            OperationContext::new()
                .with_http_transport(HttpTransporter::new(auth::AuthTransport(session.clone()))),
        )
        .layer(transport::retries());
    let swift = Swift {
        session,
        container: config.container.clone(),
        root,
    };
    Ok((op, Arc::new(swift)))
}

impl Swift {
    /// Sends a request of Wharf's own about `key`, again after a passing failure.
    async fn send(
        &self,
        method: Method,
        key: &str,
        query: &str,
        headers: &[(&str, String)],
        body: Buffer,
    ) -> opendal::Result<http::Response<Buffer>> {
        auth::again(|| self.send_once(method.clone(), key, query, headers, body.clone())).await
    }

    async fn send_once(
        &self,
        method: Method,
        key: &str,
        query: &str,
        headers: &[(&str, String)],
        body: Buffer,
    ) -> opendal::Result<http::Response<Buffer>> {
        let login = self.session.login(None).await?;
        let url = format!(
            "{}/{}/{}{key}{query}",
            login.storage_url, self.container, self.root
        );
        let head = method == Method::HEAD;
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(body)
            .map_err(|e| opendal::Error::new(ErrorKind::Unexpected, e.to_string()))?;
        let (parts, mut body) = self.session.fetch(request).await?.into_parts();
        let body = if head {
            Buffer::new()
        } else {
            body.read_all().await?
        };
        Ok(http::Response::from_parts(parts, body))
    }

    /// Whether the object at `key` is a large object's manifest; `None` when it is missing.
    async fn is_large(&self, key: &str) -> opendal::Result<Option<bool>> {
        let head = self.send(Method::HEAD, key, "", &[], Buffer::new()).await?;
        if head.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !head.status().is_success() {
            return Err(swift_error(
                "reading an object's metadata",
                head.status(),
                &Buffer::new(),
            ));
        }
        Ok(Some(
            head.headers()
                .get("x-static-large-object")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        ))
    }

    /// Makes `temp` the object at `key` and removes `temp` (see the module doc): `true`. A
    /// large object's manifest is written anew at `key` only if nothing is there
    /// (`If-None-Match: *`) and kept only if it is the one stored afterwards, so that two
    /// uploads of one content do not orphan segments; `false` otherwise, and the caller
    /// deletes `temp` with its segments. A small object is copied.
    pub(super) async fn commit(&self, temp: &str, key: &str) -> opendal::Result<bool> {
        if self.is_large(temp).await? != Some(true) {
            let source = format!("/{}/{}{temp}", self.container, self.root);
            let copied = self
                .send(
                    Method::PUT,
                    key,
                    "",
                    &[("X-Copy-From", source), ("Content-Length", "0".into())],
                    Buffer::new(),
                )
                .await?;
            return match copied.status() {
                StatusCode::CREATED | StatusCode::OK => {
                    self.forget(temp).await;
                    Ok(true)
                }
                status => Err(swift_error("committing an upload", status, copied.body())),
            };
        }
        let manifest = self
            .send(
                Method::GET,
                temp,
                "?multipart-manifest=get&format=raw",
                &[],
                Buffer::new(),
            )
            .await?;
        if !manifest.status().is_success() {
            return Err(swift_error(
                "reading an upload's manifest",
                manifest.status(),
                manifest.body(),
            ));
        }
        let manifest = manifest.into_body();
        let manifest_body = manifest.clone();
        let put = self
            .send(
                Method::PUT,
                key,
                "?multipart-manifest=put",
                &[
                    ("Content-Length", manifest.len().to_string()),
                    ("If-None-Match", "*".into()),
                ],
                manifest,
            )
            .await?;
        match put.status() {
            StatusCode::CREATED | StatusCode::OK => {}
            StatusCode::PRECONDITION_FAILED => return Ok(false),
            status => return Err(swift_error("committing an upload", status, put.body())),
        }
        // `If-None-Match` is checked by each object server as the PUT arrives, so two PUTs at
        // the same instant can both pass it; the manifest that stays is the later one. An
        // upload whose segments it does not name gives them up.
        let ours = first_segment(&manifest_body);
        let stored = self
            .send(
                Method::GET,
                key,
                "?multipart-manifest=get&format=raw",
                &[],
                Buffer::new(),
            )
            .await?;
        let kept = !stored.status().is_success() || first_segment(stored.body()) == ours;
        if kept {
            self.forget(temp).await;
        }
        Ok(kept)
    }

    /// Deletes the object at `temp` alone — a manifest without its segments, which now belong
    /// to the committed object. A failure leaves a temporary object for the sweep.
    async fn forget(&self, temp: &str) {
        let status = match self
            .send(Method::DELETE, temp, "", &[], Buffer::new())
            .await
        {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => response.status().to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(error = %status, "could not remove a committed upload's manifest");
    }

    /// Deletes the object at `key` and, when it is a large object, its segments. A missing
    /// object is not an error.
    pub(super) async fn delete(&self, key: &str) -> opendal::Result<()> {
        let Some(large) = self.is_large(key).await? else {
            return Ok(());
        };
        let query = if large {
            "?multipart-manifest=delete"
        } else {
            ""
        };
        let response = self
            .send(
                Method::DELETE,
                key,
                query,
                &[("Accept", "application/json".into())],
                Buffer::new(),
            )
            .await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        if !status.is_success() {
            return Err(swift_error("deleting", status, response.body()));
        }
        if large {
            // A bulk delete answers 200 and tells failures in its body.
            let report: BulkReport =
                serde_json::from_slice(&response.into_body().to_bytes()).unwrap_or_default();
            if let Some(error) = report.errors.first() {
                return Err(opendal::Error::new(
                    ErrorKind::Unexpected,
                    format!(
                        "swift: deleting a large object's segments: {} ({})",
                        error.first().map_or("", String::as_str),
                        error.get(1).map_or("", String::as_str)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The path of a raw SLO manifest's first segment.
fn first_segment(manifest: &Buffer) -> Option<String> {
    #[derive(Deserialize)]
    struct Segment {
        path: String,
    }
    let segments: Vec<Segment> = serde_json::from_slice(&manifest.to_bytes()).ok()?;
    segments.into_iter().next().map(|s| s.path)
}

#[derive(Deserialize, Default)]
struct BulkReport {
    #[serde(rename = "Errors", default)]
    errors: Vec<Vec<String>>,
}

fn swift_error(context: &str, status: StatusCode, body: &Buffer) -> opendal::Error {
    let text = Bytes::from(body.to_vec());
    let text = String::from_utf8_lossy(&text);
    let kind = if status == StatusCode::NOT_FOUND {
        ErrorKind::NotFound
    } else {
        ErrorKind::Unexpected
    };
    let error = opendal::Error::new(kind, format!("swift: {context}: {status} {}", text.trim()));
    if status.is_server_error() {
        error.set_temporary()
    } else {
        error
    }
}

#[cfg(test)]
mod tests;
