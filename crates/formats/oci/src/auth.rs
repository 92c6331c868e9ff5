//! Authentication as docker, podman and skopeo expect it (the distribution "token
//! authentication" flow): a request without usable credentials gets 401 with
//! `WWW-Authenticate: Bearer realm="{base}/v2/token",service="wharf",scope="repository:{name}:pull,push"`;
//! the client asks the token endpoint with Basic credentials (a password or a Wharf token)
//! and repeats its request with `Authorization: Bearer {token}`. Basic credentials are also
//! accepted on every request directly.
//!
//! The token endpoint answers a Wharf token: the one given as the Basic password, or, for a
//! user name and password, a new token of the user's role that expires after [`TOKEN_TTL`].
//! Without credentials it answers the token `anonymous`, which reads what anonymous reads may.

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde_json::json;
use wharf_core::auth::{Principal, TOKEN_PREFIX, generate_token, hash_token};
use wharf_core::model::NewToken;
use wharf_core::time::Timestamp;
use wharf_server::AppState;
use wharf_server::auth::authenticate;

use crate::error::{Code, OciError};
use crate::request::Name;

/// How long a token made from a password lives (docker asks again when it runs out).
pub(crate) const TOKEN_TTL: Duration = Duration::from_hours(1);
/// The token handed out without credentials.
const ANONYMOUS: &str = "anonymous";
/// The `service` of the challenge.
const SERVICE: &str = "wharf";

/// The caller, if the request carries credentials (`Bearer anonymous` carries none).
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, OciError> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, token)) = value.trim().split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
        && token.trim() == ANONYMOUS
    {
        return Ok(None);
    }
    Ok(authenticate(state, headers).await?)
}

/// The `WWW-Authenticate` value for a request on `name` (none for `/v2/` itself) of a server
/// clients reach at `base`.
pub(crate) fn challenge(base: &str, name: Option<&Name>, push: bool) -> String {
    let realm = format!("{base}/v2/token");
    let value = format!("Bearer realm=\"{realm}\",service=\"{SERVICE}\"");
    match name {
        Some(name) => {
            let actions = if push { "pull,push" } else { "pull" };
            format!("{value},scope=\"repository:{}:{actions}\"", name.full())
        }
        None => value,
    }
}

/// `GET /v2/token`: "Requesting a Token" of the token authentication specification.
pub(crate) async fn token(state: &AppState, headers: &HeaderMap) -> Result<Response, OciError> {
    let issued = time::OffsetDateTime::now_utc();
    let Some(principal) = authenticate(state, headers).await? else {
        return Ok(answer(ANONYMOUS, None, issued));
    };
    if let Some(secret) = basic_token(headers) {
        return Ok(answer(&secret, None, issued));
    }
    let secret = generate_token();
    let expires = Timestamp::now().plus(TOKEN_TTL);
    state
        .store
        .create_token(&NewToken {
            user_id: principal.user.id,
            name: "registry login".into(),
            hash: hash_token(&secret),
            scope: principal.scope(),
            repository_id: None,
            expires_at: Some(expires),
        })
        .await?;
    Ok(answer(&secret, Some(TOKEN_TTL), issued))
}

fn answer(token: &str, ttl: Option<Duration>, issued: time::OffsetDateTime) -> Response {
    let issued = issued
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut body = json!({"token": token, "access_token": token, "issued_at": issued});
    if let Some(ttl) = ttl {
        body["expires_in"] = json!(ttl.as_secs());
    }
    Json(body).into_response()
}

/// The Wharf token sent as a Basic password or bearer token, if that is what was sent.
fn basic_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (_, secret) = decoded.split_once(':')?;
    secret.starts_with(TOKEN_PREFIX).then(|| secret.to_owned())
}

/// The error a request without the right credentials gets.
pub(crate) fn unauthorized(message: impl Into<String>) -> OciError {
    OciError::new(Code::Unauthorized, message)
}
