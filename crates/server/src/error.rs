//! The error shape of Wharf's own APIs (`/api/v1`, generic): `{"error":{"code","message"}}`.
//!
//! Rendering has no side effects: an internal error's source travels in the response
//! extensions to the logging middleware, which logs it once with the request id.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;
use wharf_core::Error;

/// An error rendered as Wharf's JSON error body.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

/// The body of every error of Wharf's own APIs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The detail of an [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable kind: `not_found`, `conflict`, `invalid`, `unauthorized`,
    /// `forbidden`, `too_large`, `digest_mismatch`, `bad_body`, `rate_limited`, `upstream`,
    /// `method_not_allowed`, `internal`.
    pub code: &'static str,
    /// A human-readable message.
    pub message: String,
}

/// A failure worth logging, carried from a response to the logging middleware.
#[derive(Debug, Clone)]
pub struct LoggedFailure(pub String);

/// The stable code of an error kind.
#[must_use]
pub fn code(e: &Error) -> &'static str {
    match e {
        Error::NotFound(_) => "not_found",
        Error::Conflict(_) => "conflict",
        Error::Invalid(_) => "invalid",
        Error::Unauthorized(_) => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::TooLarge { .. } => "too_large",
        Error::DigestMismatch { .. } => "digest_mismatch",
        Error::BodyRead(_) => "bad_body",
        Error::RateLimited { .. } => "rate_limited",
        Error::Upstream(_) => "upstream",
        Error::Internal { .. } => "internal",
    }
}

/// The status and client-safe message of an error, plus what to log for internal ones.
/// Formats use it to render their own shapes consistently.
#[must_use]
pub fn parts(e: &Error) -> (StatusCode, String, Option<LoggedFailure>) {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match e {
        Error::Internal { context, source } => {
            let detail = source
                .as_ref()
                .map_or_else(|| context.clone(), |s| format!("{context}: {s}"));
            (
                status,
                "internal server error".to_owned(),
                Some(LoggedFailure(detail)),
            )
        }
        other => (status, other.to_string(), None),
    }
}

/// Adds the log note, for 401 a Basic challenge and for 429 a `Retry-After`, to any format's
/// error response.
pub fn finish(mut response: Response, e: &Error, logged: Option<LoggedFailure>) -> Response {
    if let Some(logged) = logged {
        response.extensions_mut().insert(logged);
    }
    if let Error::RateLimited { retry_after } = e {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    if matches!(e, Error::Unauthorized(_))
        && !response.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Wharf\""),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, logged) = parts(&self.0);
        let body = ErrorBody {
            error: ErrorDetail {
                code: code(&self.0),
                message,
            },
        };
        finish((status, Json(body)).into_response(), &self.0, logged)
    }
}
