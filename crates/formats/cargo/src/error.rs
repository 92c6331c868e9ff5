//! Errors in cargo's shape, `{"errors":[{"detail":"…"}]}`, which cargo prints; a 401 carries
//! `WWW-Authenticate: Cargo login_url="…"` so cargo can tell the user where to get a token.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::json;
use wharf_core::Error;
use wharf_server::error::{finish, parts};

/// An error rendered for cargo, with the login URL of the repository when known.
#[derive(Debug)]
pub(crate) struct CargoError {
    pub error: Error,
    pub login_url: Option<String>,
}

impl From<Error> for CargoError {
    fn from(error: Error) -> Self {
        Self {
            error,
            login_url: None,
        }
    }
}

impl IntoResponse for CargoError {
    fn into_response(self) -> Response {
        let (status, message, logged) = parts(&self.error);
        let mut response = (status, Json(json!({"errors": [{"detail": message}]}))).into_response();
        if matches!(self.error, Error::Unauthorized(_))
            && let Some(url) = &self.login_url
            && let Ok(value) = HeaderValue::from_str(&format!("Cargo login_url=\"{url}\""))
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        finish(response, &self.error, logged)
    }
}
