//! `POST /publish`: a package version as the original takes it — multipart (`metadata` JSON
//! field, `tarball` file) or JSON (`{"metadata":{…},"tarball":"<base64>"}`) — stored as an npm
//! version of the repository (its manifest is the tarball's `package.json`, whose name and
//! version must be the metadata's). The tarball streams into a staged blob either way.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Value, json};
use struson::reader::{JsonReader, JsonStreamReader};
use wharf_core::auth::Principal;
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::model::Scope;
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::{Mount, PantryError, PantryResult, only};
use wharf_format_npm::usecases::bad_json;
use wharf_format_npm::usecases::{NewVersion, store_version};
use wharf_format_npm::usecases::{Sinks, stream_json};

/// The original's largest tarball.
pub(crate) const MAX_TARBALL: u64 = 50 << 20;

/// The largest `metadata` field.
const MAX_METADATA: usize = 1 << 20;

pub(crate) fn bad(message: &str) -> PantryError {
    PantryError(StatusCode::BAD_REQUEST, message.to_owned())
}

/// `POST /publish`.
pub(crate) async fn publish(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    request: Request,
) -> PantryResult {
    if let Some(done) = only(request.method(), &Method::POST) {
        return done;
    }
    let caller = publisher(&state, request.headers()).await?;
    let repo = state.repository("npm", &mount.repository).await?;
    let target = wharf_server::groups::hosted_target(&state, &repo).await?;
    wharf_core::auth::authorize(Some(&caller), &target, Scope::Write)?;
    let limit = state.upload_limit(&target).min(MAX_TARBALL);
    let (metadata, staged) = match body_kind(request.headers())? {
        BodyKind::Multipart => {
            let form = Multipart::from_request(request, &state)
                .await
                .map_err(|e| bad(&format!("the form could not be read: {e}")))?;
            read_form(&state, form, limit).await?
        }
        BodyKind::Json => {
            let (metadata, staged) =
                stream_json(&state, request.into_body(), limit, 1, parse_json).await?;
            (metadata, staged.into_iter().next())
        }
    };
    let (metadata, staged) = match (metadata, staged) {
        (Some(m), Some(s)) => (m, s),
        (None, Some(_)) => return Err(bad("Missing metadata")),
        (Some(_), None) => return Err(bad("Missing tarball")),
        (None, None) => return Err(bad("Missing metadata or tarball")),
    };
    let text = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Err(bad("Missing metadata"));
    };
    wharf_format_npm::usecases::validate_name(&name)?;
    semver::Version::parse(&version)
        .map_err(|e| bad(&format!("invalid version {version:?}: {e}")))?;
    let stored = store_version(
        &state,
        &target,
        NewVersion {
            name: &name,
            version: &version,
            manifest: None,
            staged,
            publisher: &caller.user.name,
            tags: vec!["latest".into()],
        },
    )
    .await;
    match stored {
        Ok(()) => Ok((
            StatusCode::CREATED,
            Json(json!({"success": true, "message": format!("Published {name}@{version}")})),
        )
            .into_response()),
        Err(Error::Conflict(_)) => Err(PantryError(
            StatusCode::CONFLICT,
            "Version already exists".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Who publishes, with the original's 401 answers for a missing or unknown token.
pub(crate) async fn publisher(
    state: &AppState,
    headers: &HeaderMap,
) -> std::result::Result<Principal, PantryError> {
    match wharf_server::auth::authenticate(state, headers).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(PantryError(
            StatusCode::UNAUTHORIZED,
            "Authorization required".into(),
        )),
        Err(_) => Err(PantryError(
            StatusCode::UNAUTHORIZED,
            "Invalid token".into(),
        )),
    }
}

/// What kind of body a publish sent.
pub(crate) enum BodyKind {
    Multipart,
    Json,
}

/// The body's kind, or the original's 415.
pub(crate) fn body_kind(headers: &HeaderMap) -> std::result::Result<BodyKind, PantryError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        Ok(BodyKind::Multipart)
    } else if content_type.starts_with("application/json") {
        Ok(BodyKind::Json)
    } else {
        Err(PantryError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported content type".into(),
        ))
    }
}

/// A form's text field, at most [`MAX_METADATA`] bytes.
pub(crate) async fn read_field(part: &mut axum::extract::multipart::Field<'_>) -> Result<Vec<u8>> {
    let mut value = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(|e| broken_form(&e))? {
        if value.len() + chunk.len() > MAX_METADATA {
            return Err(Error::invalid(format!(
                "the form field {} is too large",
                part.name().unwrap_or_default()
            )));
        }
        value.extend_from_slice(&chunk);
    }
    Ok(value)
}

/// A form that cannot be read.
pub(crate) fn broken_form(e: &axum::extract::multipart::MultipartError) -> Error {
    Error::invalid(format!("the form could not be read: {e}"))
}

/// The `metadata` field and the `tarball` file of a multipart publish.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
    limit: u64,
) -> Result<(Option<serde_json::Map<String, Value>>, Option<StagedBlob>)> {
    let mut metadata = None;
    let mut staged = None;
    while let Some(mut part) = form.next_field().await.map_err(|e| broken_form(&e))? {
        match part.name().unwrap_or_default() {
            "tarball" if staged.is_none() => {
                let options = StageOptions {
                    max_size: Some(limit),
                    expected_sha256: None,
                    digests: wharf_format_npm::usecases::DIGESTS,
                };
                staged = Some(state.stage_upload(&mut part, &options).await?);
            }
            "metadata" if metadata.is_none() => {
                let value = read_field(&mut part).await?;
                let parsed: serde_json::Map<String, Value> = serde_json::from_slice(&value)
                    .map_err(|e| {
                        Error::invalid(format!("the metadata is not a JSON object: {e}"))
                    })?;
                metadata = Some(parsed);
            }
            _ => {}
        }
    }
    Ok((metadata, staged))
}

/// `{"metadata":{…},"tarball":"<base64>"}`: the metadata, with the tarball sent to `sink`.
fn parse_json(
    reader: &mut dyn std::io::Read,
    sinks: &mut Sinks,
) -> Result<Option<serde_json::Map<String, Value>>> {
    let mut json = JsonStreamReader::new(reader);
    let mut metadata = None;
    json.begin_object().map_err(bad_json)?;
    while json.has_next().map_err(bad_json)? {
        match json.next_name_owned().map_err(bad_json)?.as_str() {
            "metadata" => match json.deserialize_next::<Value>().map_err(bad_json)? {
                Value::Object(m) => metadata = Some(m),
                _ => return Err(Error::invalid("the metadata is not a JSON object")),
            },
            "tarball" => {
                if sinks.sent() > 0 {
                    return Err(Error::invalid("the body has two tarballs"));
                }
                sinks.stage_base64(json.next_string_reader().map_err(bad_json)?)?;
            }
            _ => json.skip_value().map_err(bad_json)?,
        }
    }
    json.end_object().map_err(bad_json)?;
    json.consume_trailing_whitespace().map_err(bad_json)?;
    Ok(metadata)
}
