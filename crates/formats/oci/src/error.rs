//! Errors in the distribution spec's shape: `{"errors":[{"code","message","detail"}]}` with
//! the spec's codes ("Error Codes" table) and their statuses; a 401 carries the Bearer
//! challenge docker and podman follow to the token endpoint (added by the dispatcher, which
//! knows the scope).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use wharf_core::Error;
use wharf_server::error::{finish, parts};

/// The spec's error codes Wharf answers (and `UNKNOWN` for a server fault); `TOOMANYREQUESTS`
/// answers sign-ins past the failed-login limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TooManyRequests,
    Unauthorized,
    Denied,
    Unsupported,
    Unknown,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Self::BlobUnknown => "BLOB_UNKNOWN",
            Self::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Self::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Self::DigestInvalid => "DIGEST_INVALID",
            Self::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Self::ManifestInvalid => "MANIFEST_INVALID",
            Self::ManifestUnknown => "MANIFEST_UNKNOWN",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameUnknown => "NAME_UNKNOWN",
            Self::SizeInvalid => "SIZE_INVALID",
            Self::TooManyRequests => "TOOMANYREQUESTS",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Denied => "DENIED",
            Self::Unsupported => "UNSUPPORTED",
            Self::Unknown => "UNKNOWN",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::BlobUnknown
            | Self::BlobUploadUnknown
            | Self::ManifestUnknown
            | Self::NameUnknown => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Denied => StatusCode::FORBIDDEN,
            Self::Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::BlobUploadInvalid
            | Self::DigestInvalid
            | Self::ManifestBlobUnknown
            | Self::ManifestInvalid
            | Self::NameInvalid
            | Self::SizeInvalid => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error answered to a registry client.
#[derive(Debug)]
pub(crate) struct OciError {
    pub code: Code,
    pub message: String,
    pub status: StatusCode,
    /// The core error behind it, for logging a server fault.
    source: Option<Error>,
    /// Extra headers (`Range` on a 416, `WWW-Authenticate` on a 401).
    pub headers: Vec<(http::HeaderName, String)>,
}

impl OciError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: code.status(),
            source: None,
            headers: Vec::new(),
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_header(mut self, name: http::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A core error seen where a missing thing has a code of its own.
    pub fn or_missing(e: Error, code: Code) -> Self {
        match e {
            Error::NotFound(message) => Self::new(code, message),
            other => other.into(),
        }
    }
}

impl From<Error> for OciError {
    fn from(e: Error) -> Self {
        let (status, message, _) = parts(&e);
        let code = match &e {
            Error::NotFound(_) => Code::NameUnknown,
            Error::Unauthorized(_) => Code::Unauthorized,
            Error::Forbidden(_) | Error::Conflict(_) => Code::Denied,
            Error::TooLarge { .. } => Code::SizeInvalid,
            Error::DigestMismatch { .. } => Code::DigestInvalid,
            Error::BodyRead(_) | Error::Invalid(_) => Code::BlobUploadInvalid,
            Error::RateLimited { .. } => Code::TooManyRequests,
            _ => Code::Unknown,
        };
        Self {
            code,
            message,
            status,
            source: Some(e),
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [{"code": self.code.as_str(), "message": self.message, "detail": null}]});
        let mut response = (self.status, Json(body)).into_response();
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name.clone(), value);
            }
        }
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        match self.source {
            Some(e) => {
                let (_, _, logged) = parts(&e);
                finish(response, &e, logged)
            }
            None => response,
        }
    }
}
