//! Who is calling: reads the `Authorization` header in every form registry clients send it.
//!
//! - `Bearer <token>` (npm, the JSON API);
//! - `Basic` with any user name and a token as password (twine, mvn, gem, docker), or a user
//!   name with that user's password;
//! - the raw token alone (cargo).
//!
//! Secrets are never logged: only the token's hash reaches the store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use wharf_core::auth::{
    Credential, Principal, TOKEN_PREFIX, hash_password, hash_token, verify_password,
};
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

use crate::state::AppState;

fn invalid() -> Error {
    Error::Unauthorized("invalid credentials".into())
}

/// The caller, if the request carries credentials.
///
/// # Errors
/// [`Error::Unauthorized`] when credentials are present but wrong or malformed.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid())?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return token(state, rest).await.map(Some);
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).map_err(|_| invalid())?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (user, secret) = decoded.split_once(':').ok_or_else(invalid)?;
        if secret.starts_with(TOKEN_PREFIX) {
            return token(state, secret).await.map(Some);
        }
        return password_login(state, user, secret).await.map(Some);
    }
    if value.starts_with(TOKEN_PREFIX) {
        return token(state, value).await.map(Some);
    }
    Err(invalid())
}

async fn token(state: &AppState, secret: &str) -> Result<Principal> {
    let (token, user) = state
        .store
        .token_by_hash(&hash_token(secret), Timestamp::now())
        .await?
        .filter(|(_, user)| !user.disabled)
        .ok_or_else(invalid)?;
    Ok(Principal {
        user,
        credential: Credential::Token(token),
    })
}

/// A user signing in with name and password (Basic credentials, `npm login`). An unknown
/// user costs the same argon2 verification as a wrong password, and failed sign-ins are
/// limited per user and client address ([`crate::logins`]).
///
/// # Errors
/// [`Error::Unauthorized`] for an unknown user or a wrong password, [`Error::RateLimited`]
/// past the limits.
pub async fn password_login(state: &AppState, user: &str, password: &str) -> Result<Principal> {
    state.logins.check(user)?;
    let found = state.store.user_by_name(user).await?;
    let hash = found
        .as_ref()
        .map_or_else(|| UNKNOWN_USER.clone(), |(_, hash)| hash.clone());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::internal("verifying password", e))?;
    match found {
        Some((user, _)) if matches && !user.disabled => {
            state.logins.succeeded(&user.name);
            Ok(Principal {
                user,
                credential: Credential::Password,
            })
        }
        _ => {
            state.logins.failed(user);
            Err(invalid())
        }
    }
}

/// What a password is checked against for a user that does not exist: a hash made with the
/// same parameters as real ones, so that both answers take as long.
static UNKNOWN_USER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    hash_password(&wharf_core::auth::generate_token()).unwrap_or_default()
});
