//! The [`Caller`] extractor: the authenticated principal of an API request, if any.

use axum::extract::FromRequestParts;
use http::request::Parts;
use wharf_core::auth::Principal;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller of an API request; `None` when the request carries no credentials.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(authenticate(state, &parts.headers).await?))
    }
}
