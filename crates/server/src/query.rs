//! Query strings for handlers that take the raw query (formats parsing their own paths).

use serde::de::DeserializeOwned;
use wharf_core::{Error, Result};

/// Decodes a raw query string (`a=1&b=x%2By`) into `T`.
///
/// # Errors
/// [`Error::Invalid`] for a malformed query or one that does not fit `T`.
pub fn parse_query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T> {
    let uri: http::Uri = format!("/?{}", raw.unwrap_or_default())
        .parse()
        .map_err(|_| Error::invalid("malformed query string"))?;
    axum::extract::Query::<T>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| Error::invalid(e.body_text()))
}
