//! Accounts as npm sees them: `npm login --auth-type=legacy` / `npm adduser` (the CouchDB
//! user document, answered with a new token), `npm whoami`, `npm logout` (revokes the token
//! it used) and `npm token list|create|revoke`. Accounts themselves are made with
//! `wharf user create`: a login never creates one.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use wharf_core::auth::{Credential, Principal, generate_token, hash_token, signed_in};
use wharf_core::model::{NewToken, Scope, TokenInfo};
use wharf_core::{Error, Result};
use wharf_server::auth::password_login;

use wharf_server::protocol::Call;

#[derive(Deserialize)]
struct LoginBody {
    name: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, Default)]
struct CreateTokenBody {
    password: Option<String>,
    #[serde(default)]
    readonly: bool,
}

async fn json_body<T: for<'de> Deserialize<'de>>(body: Body) -> Result<T> {
    let bytes = axum::body::to_bytes(body, 64 << 10)
        .await
        .map_err(|e| Error::invalid(format!("the body could not be read: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(format!("the body is not valid: {e}")))
}

/// A new token of `principal`'s user: write access (read-only when asked or when the user
/// may only read).
async fn new_token(
    call: &Call<'_>,
    principal: &Principal,
    readonly: bool,
    label: &str,
) -> Result<(String, TokenInfo)> {
    let scope = if readonly || principal.user.role == Scope::Read {
        Scope::Read
    } else {
        Scope::Write
    };
    let secret = generate_token();
    let info = call
        .state
        .store
        .create_token(&NewToken {
            user_id: principal.user.id,
            name: label.to_owned(),
            hash: hash_token(&secret),
            scope,
            repository_id: None,
            expires_at: None,
        })
        .await?;
    Ok((secret, info))
}

/// `PUT /-/user/org.couchdb.user:{user}`: signs in with name and password, answering a token
/// that npm writes to `.npmrc`.
pub(crate) async fn login(call: &Call<'_>, user: &str, body: Body) -> Result<Response> {
    let body: LoginBody = json_body(body).await?;
    if body.name.as_deref().is_some_and(|n| n != user) {
        return Err(Error::invalid("the user document names another user"));
    }
    let password = body
        .password
        .ok_or_else(|| Error::invalid("a login needs a password"))?;
    let principal = password_login(call.state, user, &password).await.map_err(|_| {
        Error::Unauthorized(format!(
            "wrong user name or password for {user} (Wharf accounts are made with `wharf user create`)"
        ))
    })?;
    let (secret, _) = new_token(call, &principal, false, "npm login").await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"ok": true, "id": format!("org.couchdb.user:{user}"), "token": secret})),
    )
        .into_response())
}

/// `GET /-/whoami`.
pub(crate) fn whoami(call: &Call<'_>) -> Result<Response> {
    let caller = signed_in(call.caller.as_ref())?;
    Ok(Json(json!({"username": caller.user.name})).into_response())
}

/// `DELETE /-/user/token/{token}`: `npm logout` revokes the token it signed in with.
pub(crate) async fn logout(call: &Call<'_>, token: &str) -> Result<Response> {
    let caller = signed_in(call.caller.as_ref())?;
    let found = call
        .state
        .store
        .token_by_hash(&hash_token(token), wharf_core::time::Timestamp::now())
        .await?;
    match found {
        Some((info, user)) if user.id == caller.user.id => {
            call.state.store.delete_token(user.id, info.id).await?;
            Ok(Json(json!({"ok": true})).into_response())
        }
        _ => Err(Error::not_found("no such token")),
    }
}

/// The stable key npm shows for a token (and revokes it by).
fn key(info: &TokenInfo) -> String {
    hex::encode(Sha256::digest(format!("wharf-token:{}", info.id)))
}

/// `GET /-/npm/v1/tokens`: the caller's tokens, secrets never shown.
pub(crate) async fn list_tokens(call: &Call<'_>) -> Result<Response> {
    let caller = signed_in(call.caller.as_ref())?;
    let objects: Vec<_> = call
        .state
        .store
        .list_tokens(caller.user.id)
        .await?
        .iter()
        .map(|t| {
            json!({
                "key": key(t),
                "token": "wharf_…",
                "name": t.name,
                "created": t.created_at.rfc3339(),
                "updated": t.created_at.rfc3339(),
                "readonly": t.scope == Scope::Read,
                "cidr_whitelist": null,
            })
        })
        .collect();
    Ok(Json(json!({"total": objects.len(), "objects": objects, "urls": {}})).into_response())
}

/// `POST /-/npm/v1/tokens`: a new token; a password sign-in is asked to repeat the password
/// as npm sends it.
pub(crate) async fn create_token(call: &Call<'_>, body: Body) -> Result<Response> {
    let caller = signed_in(call.caller.as_ref())?;
    let body: CreateTokenBody = json_body(body).await?;
    if let Some(password) = &body.password {
        password_login(call.state, &caller.user.name, password).await?;
    } else if matches!(caller.credential, Credential::Password) {
        return Err(Error::invalid("creating a token needs the password"));
    }
    let (secret, info) = new_token(call, caller, body.readonly, "npm token create").await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": secret,
            "key": key(&info),
            "readonly": info.scope == Scope::Read,
            "cidr_whitelist": [],
            "created": info.created_at.rfc3339(),
        })),
    )
        .into_response())
}

/// `DELETE /-/npm/v1/tokens/token/{key}`: `npm token revoke`.
pub(crate) async fn revoke_token(call: &Call<'_>, wanted: &str) -> Result<Response> {
    let caller = signed_in(call.caller.as_ref())?;
    let store = &call.state.store;
    let token = store
        .list_tokens(caller.user.id)
        .await?
        .into_iter()
        .find(|t| key(t) == wanted)
        .ok_or_else(|| Error::not_found("no such token"))?;
    store.delete_token(caller.user.id, token.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
