//! Logging in to Swift and keeping the token fresh. OpenDAL's Swift service takes a storage
//! URL and a fixed token; Wharf logs in itself — TempAuth (v1: `GET {auth_url}` with
//! `X-Auth-User`/`X-Auth-Key`) or Keystone v3 (`POST {auth_url}/auth/tokens`, password method,
//! project scope, the `object-store` endpoint of the catalog) — and hands OpenDAL a transport
//! that sets the current token on every request, logs in again shortly before the token
//! expires, and retries a request once after a 401 with a new token.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use opendal::{Buffer, ErrorKind, HttpBody, HttpTransport, HttpTransporter};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{AuthVersion, SwiftConfig};

/// A token is renewed when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_mins(5);

/// A login that takes longer fails: requests wait for it, so a hung identity service must
/// not hold them for ever.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What a login yields.
#[derive(Clone, Debug)]
pub(super) struct Login {
    pub token: String,
    /// The account's URL, `https://host/v1/AUTH_project`.
    pub storage_url: String,
    expires: Option<Instant>,
}

impl Login {
    fn fresh(&self) -> bool {
        self.expires
            .is_none_or(|at| at.saturating_duration_since(Instant::now()) > RENEW_BEFORE)
    }
}

/// The account's credentials and its current token.
pub(super) struct Session {
    config: SwiftConfig,
    http: HttpTransporter,
    current: Mutex<Option<Login>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("auth_url", &self.config.auth_url)
            .field("user", &self.config.user)
            .finish_non_exhaustive()
    }
}

/// A refused or malformed login: not retried, so that wrong credentials are not sent again
/// and again (an identity service may lock the user).
fn auth_error(message: impl Into<String>) -> opendal::Error {
    opendal::Error::new(ErrorKind::PermissionDenied, message.into())
}

impl Session {
    pub(super) fn new(config: SwiftConfig, http: HttpTransporter) -> Self {
        Self {
            config,
            http,
            current: Mutex::new(None),
        }
    }

    /// A token that is not about to expire, logging in when needed. `stale` is a token the
    /// server refused: it is replaced even when it looks fresh.
    pub(super) async fn login(&self, stale: Option<&str>) -> opendal::Result<Login> {
        let mut current = self.current.lock().await;
        if let Some(login) = current.as_ref()
            && login.fresh()
            && stale != Some(login.token.as_str())
        {
            return Ok(login.clone());
        }
        let login = match self.config.auth_version() {
            AuthVersion::V1 => tokio::time::timeout(LOGIN_TIMEOUT, again(|| self.tempauth())).await,
            AuthVersion::V3 => tokio::time::timeout(LOGIN_TIMEOUT, again(|| self.keystone())).await,
        }
        .map_err(|_| {
            opendal::Error::new(
                ErrorKind::Unexpected,
                format!(
                    "swift login at {} did not answer within {LOGIN_TIMEOUT:?}",
                    self.config.auth_url
                ),
            )
            .set_temporary()
        })??;
        let login = match &self.config.storage_url {
            Some(url) => Login {
                storage_url: url.trim_end_matches('/').to_owned(),
                ..login
            },
            None => login,
        };
        *current = Some(login.clone());
        Ok(login)
    }

    /// TempAuth (and Swauth): `GET {auth_url}` with the user and key in headers.
    async fn tempauth(&self) -> opendal::Result<Login> {
        let request = Request::get(&self.config.auth_url)
            .header("X-Auth-User", &self.config.user)
            .header("X-Auth-Key", self.config.key_str())
            .body(Buffer::new())
            .map_err(|e| auth_error(format!("swift login request: {e}")))?;
        let response = self.http.send(request).await?;
        if !response.status().is_success() {
            return Err(auth_error(format!(
                "swift login at {} answered {}",
                self.config.auth_url,
                response.status()
            )));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(token), Some(storage_url)) = (header("x-auth-token"), header("x-storage-url"))
        else {
            return Err(auth_error(
                "swift login answered without X-Auth-Token and X-Storage-Url",
            ));
        };
        let expires = header("x-auth-token-expires")
            .and_then(|s| s.parse::<u64>().ok())
            .map(|secs| Instant::now() + Duration::from_secs(secs));
        Ok(Login {
            token,
            storage_url: storage_url.trim_end_matches('/').to_owned(),
            expires,
        })
    }

    /// Keystone v3: a password login scoped to the project; the storage URL is the catalog's
    /// `object-store` endpoint for the configured interface and region.
    async fn keystone(&self) -> opendal::Result<Login> {
        let config = &self.config;
        let base = config.auth_url.trim_end_matches('/');
        let url = if base.ends_with("/v3") {
            format!("{base}/auth/tokens")
        } else {
            format!("{base}/v3/auth/tokens")
        };
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": config.user,
                "domain": {"name": config.user_domain()},
                "password": config.key_str(),
            }}},
            "scope": {"project": {
                "name": config.project.as_deref().unwrap_or_default(),
                "domain": {"name": config.project_domain()},
            }},
        }});
        let request = Request::post(&url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Buffer::from(Bytes::from(body.to_string())))
            .map_err(|e| auth_error(format!("keystone login request: {e}")))?;
        let response = self.http.send(request).await?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(auth_error(format!(
                "keystone login at {url} answered {}",
                response.status()
            )));
        }
        let token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| auth_error("keystone login answered without X-Subject-Token"))?;
        let answer: KeystoneAnswer = serde_json::from_slice(&response.into_body().to_bytes())
            .map_err(|e| auth_error(format!("keystone login answer: {e}")))?;
        let storage_url = config
            .storage_url
            .clone()
            .or_else(|| answer.object_store_url(config));
        let Some(storage_url) = storage_url else {
            return Err(auth_error(format!(
                "keystone's catalog has no object-store endpoint for interface {}{}",
                config.interface(),
                config
                    .region
                    .as_deref()
                    .map(|r| format!(" in region {r}"))
                    .unwrap_or_default()
            )));
        };
        let expires = answer.token.expires_at.as_deref().and_then(|at| {
            let at =
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .ok()?;
            let left = at - time::OffsetDateTime::now_utc();
            Some(Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO))
        });
        Ok(Login {
            token,
            storage_url: storage_url.trim_end_matches('/').to_owned(),
            expires,
        })
    }

    /// Replaces the current token with one the server does not know, as if it had been
    /// revoked, for the tests of the retry after a 401.
    #[cfg(test)]
    pub(super) async fn spoil_token(&self) {
        if let Some(login) = self.current.lock().await.as_mut() {
            login.token = "AUTH_tk_revoked".into();
        }
    }

    /// Sends `request` with the current token; after a 401, once more with a new one.
    pub(super) async fn fetch(
        &self,
        request: Request<Buffer>,
    ) -> opendal::Result<Response<HttpBody>> {
        let login = self.login(None).await?;
        let again = copy(&request);
        let response = self.http.fetch(with_token(request, &login.token)?).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let login = self.login(Some(&login.token)).await?;
        self.http.fetch(with_token(again, &login.token)?).await
    }
}

/// Runs `attempt` again after a passing failure (a pooled connection the server closed, say),
/// at most four times in all, with a short backoff — as OpenDAL's retry layer does for the
/// requests it sends.
pub(super) async fn again<T, F, Fut>(mut attempt: F) -> opendal::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = opendal::Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(e) if e.is_temporary() && tries < 4 => {
                tokio::time::sleep(Duration::from_millis(50 << tries)).await;
            }
            result => return result,
        }
    }
}

fn with_token(mut request: Request<Buffer>, token: &str) -> opendal::Result<Request<Buffer>> {
    let mut value = HeaderValue::from_str(token)
        .map_err(|_| auth_error("the swift token is not a valid header value"))?;
    value.set_sensitive(true);
    request.headers_mut().insert("x-auth-token", value);
    Ok(request)
}

/// A request again, for the retry after a 401 (bodies are buffers: cloning is cheap).
fn copy(request: &Request<Buffer>) -> Request<Buffer> {
    let mut again = Request::new(request.body().clone());
    *again.method_mut() = request.method().clone();
    *again.uri_mut() = request.uri().clone();
    *again.version_mut() = request.version();
    *again.headers_mut() = request.headers().clone();
    *again.extensions_mut() = request.extensions().clone();
    again
}

/// The transport OpenDAL's Swift service is given: every request goes through the session.
pub(super) struct AuthTransport(pub std::sync::Arc<Session>);

impl HttpTransport for AuthTransport {
    async fn fetch(&self, request: Request<Buffer>) -> opendal::Result<Response<HttpBody>> {
        self.0.fetch(request).await
    }
}

#[derive(Deserialize)]
struct KeystoneAnswer {
    token: KeystoneToken,
}

#[derive(Deserialize)]
struct KeystoneToken {
    expires_at: Option<String>,
    #[serde(default)]
    catalog: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    interface: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
    url: String,
}

impl KeystoneAnswer {
    fn object_store_url(&self, config: &SwiftConfig) -> Option<String> {
        let region_matches = |e: &Endpoint| match &config.region {
            None => true,
            Some(region) => {
                e.region.as_deref() == Some(region) || e.region_id.as_deref() == Some(region)
            }
        };
        self.token
            .catalog
            .iter()
            .filter(|entry| entry.kind == "object-store")
            .flat_map(|entry| &entry.endpoints)
            .find(|e| e.interface == config.interface() && region_matches(e))
            .map(|e| e.url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(expires_in: Option<Duration>) -> Login {
        Login {
            token: "t".into(),
            storage_url: "http://swift/v1/AUTH_test".into(),
            expires: expires_in.map(|d| Instant::now() + d),
        }
    }

    #[test]
    fn a_token_is_renewed_five_minutes_before_it_expires() {
        assert!(login(None).fresh(), "a token without an expiry is kept");
        assert!(login(Some(Duration::from_hours(1))).fresh());
        assert!(!login(Some(Duration::from_mins(4))).fresh());
        assert!(!login(Some(Duration::ZERO)).fresh());
    }
}
