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
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| Self(v))
            .map_err(|rejection| {
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(Error::TooLarge { limit: JSON_LIMIT })
                } else {
                    ApiError(Error::invalid(rejection.body_text()))
                }
            })
    }
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
