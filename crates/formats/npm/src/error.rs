//! Errors in the registry's shape, `{"error": "…"}`, which npm, pnpm and yarn print after
//! the status line. A 401 tells the user how to log in to this repository.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wharf_core::Error;
use wharf_server::error::{finish, parts};

/// An error rendered for npm clients, with the repository's registry URL when known.
#[derive(Debug)]
pub(crate) struct NpmError {
    pub error: Error,
    pub registry: Option<String>,
}

impl From<Error> for NpmError {
    fn from(error: Error) -> Self {
        Self {
            error,
            registry: None,
        }
    }
}

impl IntoResponse for NpmError {
    fn into_response(self) -> Response {
        let (status, mut message, logged) = parts(&self.error);
        if matches!(self.error, Error::Unauthorized(_))
            && let Some(registry) = &self.registry
        {
            message = format!(
                "{message}; log in with `npm login --auth-type=legacy --registry {registry}` \
                 or set `//{}:_authToken` in .npmrc to a Wharf token",
                registry
                    .split_once("://")
                    .map_or(registry.as_str(), |(_, r)| r)
            );
        }
        let response = (status, Json(json!({"error": message}))).into_response();
        finish(response, &self.error, logged)
    }
}
