//! Users, API tokens and the caller.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use wharf_core::auth::{
    Credential, Principal, authorize_server, generate_token, hash_password, hash_token,
    parse_token_lifetime, token_expiry,
};
use wharf_core::model::{NewToken, Scope};
use wharf_core::names::UserName;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result as CoreResult};

use super::Caller;
use super::extract::{ApiJson, ApiPath};
use super::views::{CreateToken, CreateUser, CreatedToken, TokenView, UserView, WhoAmI};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn signed_in(caller: Option<Principal>) -> CoreResult<Principal> {
    caller.ok_or_else(|| Error::Unauthorized("authentication required: send a Wharf token".into()))
}

fn parse_scope(s: &str) -> CoreResult<Scope> {
    Scope::parse(s)
        .ok_or_else(|| Error::invalid(format!("unknown scope {s:?}: read, write or admin")))
}

/// Shows who the credentials belong to.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "users", security(("token" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(Caller(caller): Caller) -> ApiResult<Json<WhoAmI>> {
    let p = signed_in(caller)?;
    Ok(Json(WhoAmI {
        name: p.user.name.clone(),
        role: p.user.role.as_str().to_owned(),
        scope: p.scope().as_str().to_owned(),
        authenticated_by: match p.credential {
            Credential::Token(_) => "token",
            Credential::Password => "password",
        }
        .to_owned(),
    }))
}

/// Lists users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("token" = [])),
    responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Vec<UserView>>> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    let users = state.store.list_users().await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("token" = [])),
    request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    let name = UserName::new(req.name)?;
    if req.password.chars().count() < 8 {
        return Err(Error::invalid("password must have at least 8 characters").into());
    }
    let role = req.role.as_deref().map_or(Ok(Scope::Write), parse_scope)?;
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::internal("hashing password", e))??;
    let user = state.store.create_user(name.as_str(), &hash, role).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Deletes a user and their tokens (admin).
#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "users", security(("token" = [])),
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    let (user, _) = state
        .store
        .user_by_name(&name)
        .await?
        .ok_or_else(|| Error::not_found(format!("user {name} not found")))?;
    state.store.delete_user(user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn repository_names(state: &AppState) -> CoreResult<HashMap<i64, String>> {
    Ok(state
        .store
        .list_repositories()
        .await?
        .into_iter()
        .map(|r| (r.id, format!("{}/{}", r.format, r.name)))
        .collect())
}

/// Lists the caller's tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", security(("token" = [])),
    responses((status = 200, body = [TokenView]), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    let p = signed_in(caller)?;
    let names = repository_names(&state).await?;
    let tokens = state.store.list_tokens(p.user.id).await?;
    Ok(Json(
        tokens
            .iter()
            .map(|t| TokenView::new(t, t.repository_id.and_then(|id| names.get(&id).cloned())))
            .collect(),
    ))
}

/// Creates a token for the caller, with at most the caller's own scope.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", security(("token" = [])),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let p = signed_in(caller)?;
    let scope = req.scope.as_deref().map_or(Ok(Scope::Write), parse_scope)?;
    if scope > p.scope() {
        return Err(Error::Forbidden(format!(
            "cannot create a {} token with {} credentials",
            scope.as_str(),
            p.scope().as_str()
        ))
        .into());
    }
    let repository = match req.repository.as_deref() {
        None => None,
        Some(r) => {
            let (format, name) = r
                .split_once('/')
                .ok_or_else(|| Error::invalid("repository must be given as format/name"))?;
            Some(state.repository(format, name).await?)
        }
    };
    if let Credential::Token(own) = &p.credential
        && let Some(limit) = own.repository_id
        && repository.as_ref().is_none_or(|r| r.id != limit)
    {
        return Err(Error::Forbidden(
            "a repository-limited token can only create tokens for that repository".into(),
        )
        .into());
    }
    check_token_name(&req.name)?;
    let expires_at = match req.expires_in.as_deref() {
        None => None,
        Some(s) => Some(token_expiry(Timestamp::now(), parse_token_lifetime(s)?)?),
    };
    let secret = generate_token();
    let info = state
        .store
        .create_token(&NewToken {
            user_id: p.user.id,
            name: req.name,
            hash: hash_token(&secret),
            scope,
            repository_id: repository.as_ref().map(|r| r.id),
            expires_at,
        })
        .await?;
    let view = TokenView::new(
        &info,
        repository.map(|r| format!("{}/{}", r.format, r.name)),
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: secret,
            info: view,
        }),
    ))
}

/// The longest token label.
pub(super) const MAX_TOKEN_NAME: usize = 64;

/// A token's label: 1 to 64 characters, no control characters.
fn check_token_name(name: &str) -> CoreResult<()> {
    let count = name.chars().count();
    if count == 0 || count > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "a token's name has 1 to 64 characters and no control characters",
        ));
    }
    Ok(())
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", security(("token" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let p = signed_in(caller)?;
    let id: i64 = id
        .parse()
        .map_err(|_| Error::invalid(format!("token id must be a number, found {id:?}")))?;
    if state.store.delete_token(p.user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::not_found(format!("token {id} not found")).into())
    }
}
