//! Crate owners: the users who may publish new versions, yank and change owners. Kept as a
//! JSON list of user names on the package; the first publisher is the first owner. Admins may
//! act on every crate.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wharf_core::auth::Principal;
use wharf_core::model::{Package, PropertyOwner, Scope};
use wharf_core::{Error, Result};

use wharf_server::AppState;

use wharf_server::protocol::Call;

use crate::handlers::{hosted_target, package_in};
use crate::index::OWNERS;

async fn owners_of(state: &AppState, package: &Package) -> Result<Vec<String>> {
    let stored = state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?
        .into_iter()
        .find_map(|(k, v)| (k == OWNERS).then_some(v));
    Ok(stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// Refuses callers who neither own the crate nor are admins.
///
/// # Errors
/// [`Error::Forbidden`].
pub(crate) async fn ensure_owner(
    state: &AppState,
    principal: &Principal,
    package: &Package,
) -> Result<()> {
    if principal.scope() >= Scope::Admin
        || owners_of(state, package)
            .await?
            .contains(&principal.user.name)
    {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "{} is not an owner of crate `{}`",
            principal.user.name, package.name
        )))
    }
}

/// `GET /api/v1/crates/{name}/owners`.
pub(crate) async fn list_owners(call: &Call<'_>, name: &str) -> Result<Response> {
    let target = hosted_target(call).await?;
    let package = package_in(call.state, &target, name).await?;
    let mut users = Vec::new();
    for login in owners_of(call.state, &package).await? {
        if let Some((user, _)) = call.state.store.user_by_name(&login).await? {
            users.push(json!({"id": user.id, "login": user.name, "name": null}));
        }
    }
    Ok(Json(json!({"users": users})).into_response())
}

#[derive(Deserialize)]
struct OwnersBody {
    users: Vec<String>,
}

/// `PUT` (add) and `DELETE` (remove) `/api/v1/crates/{name}/owners` with `{"users":[…]}`.
pub(crate) async fn change_owners(
    call: &Call<'_>,
    name: &str,
    add: bool,
    body: Body,
) -> Result<Response> {
    let principal = call.require(Scope::Write)?;
    let target = hosted_target(call).await?;
    let package = package_in(call.state, &target, name).await?;
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| Error::BodyRead(e.to_string()))?;
    let request: OwnersBody = serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(format!("expected {{\"users\": [...]}}: {e}")))?;
    change(call.state, principal, &package, &request.users, add).await?;
    let verb = if add {
        "added as owners of"
    } else {
        "removed from the owners of"
    };
    let msg = format!(
        "{} {verb} crate `{}`",
        request.users.join(", "),
        package.name
    );
    Ok(Json(json!({"ok": true, "msg": msg})).into_response())
}

/// Adds `users` to the owners of a crate `principal` owns (or removes them); a crate keeps at
/// least one owner.
///
/// # Errors
/// [`Error::Forbidden`] for a caller who does not own the crate, [`Error::NotFound`] for a user
/// that does not exist, [`Error::Invalid`] when no owner would remain.
pub(crate) async fn change(
    state: &AppState,
    principal: &Principal,
    package: &Package,
    users: &[String],
    add: bool,
) -> Result<()> {
    ensure_owner(state, principal, package).await?;
    let mut owners = owners_of(state, package).await?;
    for login in users {
        if add {
            if state.store.user_by_name(login).await?.is_none() {
                return Err(Error::not_found(format!("user {login} does not exist")));
            }
            if !owners.contains(login) {
                owners.push(login.clone());
            }
        } else {
            owners.retain(|o| o != login);
        }
    }
    if owners.is_empty() {
        return Err(Error::invalid("a crate must keep at least one owner"));
    }
    let encoded =
        serde_json::to_string(&owners).map_err(|e| Error::internal("encoding owners", e))?;
    state
        .store
        .set_property(PropertyOwner::Package(package.id), OWNERS, &encoded)
        .await
}
