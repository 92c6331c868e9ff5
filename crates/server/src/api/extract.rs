//! Extractors whose rejections use the API's error shape instead of axum's plain text.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;
use wharf_core::Error;

use crate::error::ApiError;

/// A JSON body; a missing content type or malformed JSON is a 400 in the API's shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(Error::TooLarge { limit: JSON_LIMIT })
                } else {
                    ApiError(Error::invalid(rejection.body_text()))
                }
            })?;
        object(value).map(Self).map_err(ApiError)
    }
}

/// `value` as `T`, if it is a JSON object (serde would also take an array for a struct).
fn object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    if !value.is_object() {
        return Err(Error::invalid("the request body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| Error::invalid(format!("request body: {e}")))
}

/// An optional JSON object body: nothing (or whitespace) gives `T::default()`.
///
/// # Errors
/// [`Error::Invalid`] for anything but a JSON object of `T`'s shape.
pub fn optional_object<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid(format!("request body: {e}")))?;
    object(value)
}

/// The largest JSON body the API reads.
pub const JSON_LIMIT: u64 = 1 << 20;

/// A query string; a malformed one is a 400 in the API's shape.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|rejection| ApiError(Error::invalid(rejection.body_text())))
    }
}

/// A body read whole (at most the API's body limit); over it, a 413 in the API's shape.
#[derive(Debug)]
pub struct ApiBytes(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        bytes::Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(Error::TooLarge { limit: JSON_LIMIT })
                } else {
                    ApiError(Error::BodyRead(rejection.body_text()))
                }
            })
    }
}

/// Path parameters; one that cannot be decoded is a 400 in the API's shape.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|rejection| ApiError(Error::invalid(rejection.body_text())))
    }
}
