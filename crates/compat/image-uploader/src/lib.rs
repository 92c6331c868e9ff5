//! The package image uploader (seed 004, capi-k8s-release's `package-image-uploader`), built on
//! the OCI format's use cases: [`ImageUploaderApi`] at `/image-uploader`, or at `/` with
//! `compat.root = "image-uploader"`:
//!
//! - `POST /packages` `{"package_zip_path","package_guid","registry_base_path"}` turns a package
//!   zip into a single-layer image ([`layer`], [`image`]) and pushes it as
//!   `{registry_base_path}/{package_guid}:latest`, answering `{"hash":{"algorithm":"sha256",
//!   "hex":…}}` (the manifest's digest). The zip is read from a path inside
//!   `image_uploader.zip_root` (anything else: 403), or sent as the multipart field `package`
//!   with the other fields beside it.
//! - `DELETE /images` `{"image_reference"}` deletes the tag, then the manifest it named; an
//!   image that is not there is taken as already deleted. `202` with the digest reference.
//!
//! The target is this Wharf when `registry_base_path` names its host or no host (written
//! directly, no HTTP round trip). Another registry is reached over HTTP ([`remote`]) only when
//! `image_uploader.allowed_registries` lists it (empty by default: this Wharf only).
//! Unlike the original, which listened on loopback only, both routes need a token with write
//! scope whatever the target — on the target repository here, on the whole server for another
//! registry — and the caller is authenticated before anything else happens.
//! Answers are plain text as the original's (`unable to parse request body`, `missing required
//! parameter`, `unable to convert/upload package {guid}`); a refused zip is `422` with the
//! reason, a `registry_base_path` that is no image reference `400`, a registry that is not
//! allowed `403`, one that fails or cannot be reached `502` with the reason.

mod image;
mod layer;
mod reference;
mod remote;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Extension, Json, Router};
use futures::StreamExt;
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use wharf_core::Error;
use wharf_core::auth::{Principal, authorize, authorize_server};
use wharf_core::model::{RepoKind, Repository, Scope};
use wharf_format_oci::usecases::{FORMAT, Name, TAG, digest_name, parse_name, tagged, tags};
use wharf_server::auth::authenticate;
use wharf_server::{AppState, SeedApi};

use reference::ImageRef;

/// `[image_uploader]`: where package zips named by path may be read from, and how to reach
/// other registries.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UploaderConfig {
    /// The directory `package_zip_path` must lie in; unset, only zips sent in the request are
    /// taken.
    #[serde(default)]
    pub zip_root: Option<PathBuf>,
    /// The user for other registries (default: the `REGISTRY_USERNAME` environment variable,
    /// as the original).
    #[serde(default)]
    pub registry_username: Option<String>,
    /// Its password (default: `REGISTRY_PASSWORD`).
    #[serde(default)]
    pub registry_password: Option<wharf_core::Secret>,
    /// Registry hosts (`host:port`) reached over plain HTTP; loopback always is.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// Registry hosts (`host[:port]`) other than this Wharf that images may be pushed to and
    /// deleted from; empty (the default): this Wharf only.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Token services (`https://auth.example.com`) on another origin than their registry that
    /// may receive the credentials when a registry's challenge names them.
    #[serde(default)]
    pub token_services: Vec<String>,
}

impl UploaderConfig {
    /// The user and password for other registries, from the configuration or the original's
    /// environment variables.
    fn credentials(&self) -> Option<(String, String)> {
        let user = self
            .registry_username
            .clone()
            .or_else(|| std::env::var("REGISTRY_USERNAME").ok())?;
        let password = self
            .registry_password
            .as_ref()
            .map(|s| s.0.clone())
            .or_else(|| std::env::var("REGISTRY_PASSWORD").ok())?;
        Some((user, password))
    }
}

/// The image uploader's API, set up by its configuration.
#[derive(Debug, Clone, Default)]
pub struct ImageUploaderApi {
    config: Arc<UploaderConfig>,
}

impl ImageUploaderApi {
    /// The API as `config` sets it up.
    #[must_use]
    pub fn new(config: UploaderConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The routes under `prefix` (`/image-uploader`, or empty at the root).
    fn routes_at(&self, prefix: &str) -> Router<AppState> {
        Router::new()
            .route(&format!("{prefix}/packages"), post(upload))
            .route(&format!("{prefix}/images"), delete(delete_image))
            .layer(Extension(self.config.clone()))
    }
}

impl SeedApi for ImageUploaderApi {
    fn name(&self) -> &'static str {
        "image-uploader"
    }

    fn routes(&self) -> Router<AppState> {
        self.routes_at("/image-uploader")
    }

    fn root_routes(&self) -> Router<AppState> {
        self.routes_at("")
    }
}

/// An answer in the original's plain-text shape.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (
            self.0,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", self.1),
        )
            .into_response()
    }
}

fn failure(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure(status, message.into())
}

/// Where a core error lands: refusals keep their status and reason, faults are the original's
/// "unable to convert/upload" 500.
fn upload_failure(e: &Error, guid: &str) -> Failure {
    match e {
        Error::Invalid(m) => failure(StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
        Error::TooLarge { limit } => failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the package is over {limit} bytes unpacked"),
        ),
        Error::Unauthorized(m) => failure(StatusCode::UNAUTHORIZED, m.clone()),
        Error::Forbidden(m) => failure(StatusCode::FORBIDDEN, m.clone()),
        Error::Upstream(m) => failure(StatusCode::BAD_GATEWAY, m.clone()),
        Error::RateLimited { .. } => failure(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        other => {
            tracing::error!(guid, error = %other, "package image upload failed");
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("unable to convert/upload package {guid}"),
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct UploadRequest {
    #[serde(default)]
    package_zip_path: String,
    #[serde(default)]
    package_guid: String,
    #[serde(default)]
    registry_base_path: String,
}

/// A zip to read: a path given, or the temporary copy of one sent.
enum Zip {
    Given(PathBuf),
    Sent(tempfile::TempPath),
}

impl Zip {
    fn path(&self) -> &Path {
        match self {
            Self::Given(path) => path,
            Self::Sent(path) => path,
        }
    }
}

/// `POST /packages`.
async fn upload(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<UploaderConfig>>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let caller = match signed_in(&state, &headers).await {
        Ok(caller) => caller,
        Err(e) => return upload_failure(&e, "").into_response(),
    };
    let (req, sent) = match read_request(&state, request).await {
        Ok(read) => read,
        Err(f) => return f.into_response(),
    };
    if req.package_guid.is_empty()
        || req.registry_base_path.is_empty()
        || (req.package_zip_path.is_empty() && sent.is_none())
    {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing required parameter",
        )
        .into_response();
    }
    let reference = format!(
        "{}/{}",
        req.registry_base_path.trim_end_matches('/'),
        req.package_guid
    );
    let Some(target) = reference::parse(&reference) else {
        return failure(
            StatusCode::BAD_REQUEST,
            format!("{reference:?} is not an image reference"),
        )
        .into_response();
    };
    let zip = match sent {
        Some(path) => Zip::Sent(path),
        None => match allowed_path(&config, &req.package_zip_path) {
            Ok(path) => Zip::Given(path),
            Err(f) => return f.into_response(),
        },
    };
    let pushed = if is_local(&state, &headers, &target) {
        push_local(&state, &caller, &target, zip.path()).await
    } else {
        match remote_allowed(&config, &caller, &target) {
            Ok(()) => remote::push(&state, &config, &target, zip.path()).await,
            Err(e) => Err(e),
        }
    };
    match pushed {
        Ok(hex) => Json(json!({"hash": {"algorithm": "sha256", "hex": hex}})).into_response(),
        Err(e) => upload_failure(&e, &req.package_guid).into_response(),
    }
}

/// The caller, who must have signed in: both routes write, whatever the target.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Principal, Error> {
    let caller = authenticate(state, headers).await?;
    wharf_core::auth::signed_in(caller.as_ref()).cloned()
}

/// Whether `caller` may reach the other registry `target`: it must be listed in
/// `allowed_registries`, and the caller needs write scope on the whole server.
fn remote_allowed(
    config: &UploaderConfig,
    caller: &Principal,
    target: &ImageRef,
) -> Result<(), Error> {
    let host = target.host.as_deref().unwrap_or_default();
    if !config
        .allowed_registries
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(host))
    {
        return Err(Error::Forbidden(format!(
            "registry {host} is not one image_uploader.allowed_registries lists"
        )));
    }
    authorize_server(Some(caller), None, Scope::Write)
}

/// The request as JSON, or as a form with the zip in `package` (copied to a temporary file).
async fn read_request(
    state: &AppState,
    request: Request,
) -> Result<(UploadRequest, Option<tempfile::TempPath>), Failure> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let bad = || failure(StatusCode::BAD_REQUEST, "unable to parse request body");
    if !multipart {
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .map_err(|_| bad())?;
        let req: UploadRequest = serde_json::from_slice(&body).map_err(|_| bad())?;
        return Ok((req, None));
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| bad())?;
    let mut req = UploadRequest::default();
    let mut sent = None;
    while let Some(mut field) = form.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "package" {
            sent = Some(save_zip(state, &mut field).await?);
            continue;
        }
        let text = field.text().await.map_err(|_| bad())?;
        match name.as_str() {
            "package_guid" => req.package_guid = text,
            "registry_base_path" => req.registry_base_path = text,
            _ => {}
        }
    }
    Ok((req, sent))
}

/// Copies a sent zip to a temporary file (reading a zip needs to seek), up to the default
/// upload limit.
async fn save_zip(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<tempfile::TempPath, Failure> {
    let internal = |e: std::io::Error| {
        tracing::error!(error = %e, "cannot keep an uploaded package zip");
        failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unable to store the package zip",
        )
    };
    let path = tempfile::NamedTempFile::new()
        .map_err(internal)?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
    let limit = state.config.default_max_upload;
    let mut size = 0u64;
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|_| failure(StatusCode::BAD_REQUEST, "unable to parse request body"))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the package zip is over {limit} bytes"),
            ));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    Ok(path)
}

/// `package_zip_path`, once it is known to lie inside `zip_root`.
fn allowed_path(config: &UploaderConfig, given: &str) -> Result<PathBuf, Failure> {
    let forbidden = |why: &str| {
        failure(
            StatusCode::FORBIDDEN,
            format!("package_zip_path {given:?} {why}"),
        )
    };
    let Some(root) = &config.zip_root else {
        return Err(forbidden(
            "cannot be read: no image_uploader.zip_root is configured (send the zip as the form field package)",
        ));
    };
    let root = root
        .canonicalize()
        .map_err(|_| forbidden("cannot be read: image_uploader.zip_root does not exist"))?;
    let path = Path::new(given)
        .canonicalize()
        .map_err(|_| forbidden("does not exist"))?;
    if !path.starts_with(&root) || !path.is_file() {
        return Err(forbidden(&format!(
            "is not a file inside {}",
            root.display()
        )));
    }
    Ok(path)
}

/// Whether `target` names this Wharf: no host, or the host clients reach it at.
fn is_local(state: &AppState, headers: &HeaderMap, target: &ImageRef) -> bool {
    let Some(host) = &target.host else {
        return true;
    };
    let base = state.base_url(headers);
    let own = base.split_once("://").map_or(base.as_str(), |(_, h)| h);
    own.eq_ignore_ascii_case(host)
}

/// The OCI repository and image `path` names, for a caller who may write to it.
async fn local_target(
    state: &AppState,
    caller: &Principal,
    path: &str,
) -> Result<(Repository, Name), Error> {
    let parts: Vec<&str> = path.split('/').collect();
    let name = parse_name(&parts)?;
    let repo = state
        .repository(FORMAT, &name.repo)
        .await
        .map_err(|e| match e {
            Error::NotFound(m) => Error::invalid(m),
            other => other,
        })?;
    authorize(Some(caller), &repo, Scope::Write)?;
    if repo.kind != RepoKind::Hosted {
        return Err(Error::invalid(format!(
            "repository {} is not a hosted one",
            repo.name
        )));
    }
    Ok((repo, name))
}

/// Builds the image and stores it in this Wharf: the manifest digest's hex.
async fn push_local(
    state: &AppState,
    caller: &Principal,
    target: &ImageRef,
    zip: &Path,
) -> Result<String, Error> {
    let (repo, name) = local_target(state, caller, &target.path).await?;
    let built = image::build(state, &repo, zip.to_path_buf()).await?;
    image::store(state, &repo, &name, built).await
}

#[derive(Debug, Default, Deserialize)]
struct DeleteRequest {
    #[serde(default)]
    image_reference: String,
}

/// `DELETE /images`.
async fn delete_image(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<UploaderConfig>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(caller) => caller,
        Err(e) => return delete_failure(&e),
    };
    let bad = || failure(StatusCode::BAD_REQUEST, "unable to parse request body").into_response();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return bad();
    };
    let Ok(req) = serde_json::from_slice::<DeleteRequest>(&body) else {
        return bad();
    };
    if req.image_reference.is_empty() {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing required parameter",
        )
        .into_response();
    }
    let Some(target) = reference::parse(&req.image_reference) else {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unable to parse image reference",
        )
        .into_response();
    };
    let deleted = if is_local(&state, &headers, &target) {
        delete_local(&state, &caller, &target).await
    } else {
        match remote_allowed(&config, &caller, &target) {
            Ok(()) => remote::delete(&state, &config, &target).await,
            Err(e) => Err(e),
        }
    };
    match deleted {
        Ok(reference) => (
            StatusCode::ACCEPTED,
            Json(json!({"image_reference": reference})),
        )
            .into_response(),
        Err(e) => delete_failure(&e),
    }
}

/// A failed delete: refusals keep their status and reason, a failing registry is `502`.
fn delete_failure(e: &Error) -> Response {
    match e {
        Error::Unauthorized(m) => failure(StatusCode::UNAUTHORIZED, m.clone()),
        Error::Forbidden(m) => failure(StatusCode::FORBIDDEN, m.clone()),
        Error::Invalid(m) => failure(StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
        Error::Upstream(m) => failure(StatusCode::BAD_GATEWAY, m.clone()),
        Error::RateLimited { .. } => failure(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        e => {
            tracing::error!(error = %e, "image delete failed");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "unable to delete image")
        }
    }
    .into_response()
}

/// The original's order: the tag first, then the manifest it named; what is missing counts as
/// deleted. The digest reference that was deleted, or the reference as given when nothing was
/// there.
async fn delete_local(
    state: &AppState,
    caller: &Principal,
    target: &ImageRef,
) -> Result<String, Error> {
    let (repo, name) = local_target(state, caller, &target.path).await?;
    let store = &state.store;
    let Some(package) = store.package(repo.id, &name.image).await? else {
        return Ok(target.name());
    };
    let owner = wharf_core::model::PropertyOwner::Package(package.id);
    let digest = match (&target.digest, &target.tag) {
        (Some(d), _) => d.clone(),
        (None, tag) => {
            let tag = tag.as_deref().unwrap_or("latest");
            let Some(d) = tagged(state, &package, tag).await? else {
                return Ok(target.name());
            };
            store.delete_property(owner, &format!("{TAG}{tag}")).await?;
            d
        }
    };
    let digest_name = digest_name(&digest);
    for (tag, named) in tags(state, &package).await? {
        if named == digest_name {
            store.delete_property(owner, &format!("{TAG}{tag}")).await?;
        }
    }
    if let Some(version) = store.version(package.id, &digest_name).await? {
        store.delete_version(version.id).await?;
    }
    Ok(format!("{}@{digest_name}", target.repository()))
}
