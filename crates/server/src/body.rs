//! Streaming response bodies for stored files, with `Range`, `ETag`, `Last-Modified` and
//! conditional requests (RFC 9110 §13–14) — or, for repositories that redirect downloads, a
//! 307 to a presigned storage URL — and the early size check for uploads.

use std::ops::Range;

use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use wharf_core::blob::BlobStore;
use wharf_core::model::BlobRecord;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

/// What to serve.
#[derive(Debug, Clone, Copy)]
pub struct Download<'a> {
    /// The content.
    pub blob: &'a BlobRecord,
    /// When the file was published (`Last-Modified`).
    pub modified: Timestamp,
    /// `Content-Type`.
    pub content_type: &'a str,
    /// Whether to answer with a 307 to a presigned storage URL, where the storage signs them
    /// (the repository's `redirect_downloads`).
    pub redirect: bool,
}

/// Refuses a body whose declared length exceeds `limit` before reading it.
///
/// # Errors
/// [`Error::TooLarge`].
pub fn check_content_length(headers: &HeaderMap, limit: u64) -> Result<()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => Err(Error::TooLarge { limit }),
        _ => Ok(()),
    }
}

fn etag(blob: &BlobRecord) -> String {
    format!("\"{}\"", blob.sha256)
}

fn etag_matches(list: &str, tag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

/// Whether the client's cached copy is current (`If-None-Match`, else `If-Modified-Since`
/// when the document has a modification time): answer 304. `tag` is the quoted entity tag.
#[must_use]
pub fn not_modified(headers: &HeaderMap, tag: &str, modified: Option<Timestamp>) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return etag_matches(inm, tag);
    }
    let Some(modified) = modified else {
        return false;
    };
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            let since_ms = since
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            modified.0 / 1000 <= since_ms / 1000
        })
}

/// The single range to serve, `None` for the whole body. Multi-range requests get the whole
/// body (allowed by RFC 9110 §14.2).
fn requested_range(
    headers: &HeaderMap,
    size: u64,
    tag: &str,
    modified: Timestamp,
) -> std::result::Result<Option<Range<u64>>, ()> {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        let current = if if_range.starts_with('"') || if_range.starts_with("W/") {
            if_range == tag
        } else {
            httpdate::fmt_http_date(modified.system_time()) == if_range
        };
        if !current {
            return Ok(None);
        }
    }
    let parsed = http_range_header::parse_range_header(range).map_err(|_| ())?;
    let ranges = parsed.validate(size).map_err(|_| ())?;
    match ranges.as_slice() {
        [one] => Ok(Some(*one.start()..*one.end() + 1)),
        _ => Ok(None),
    }
}

/// Answers a `GET` or `HEAD` of a stored file.
///
/// # Errors
/// [`Error::NotFound`] when the content is missing from storage, or a storage error.
pub async fn serve_blob(
    blobs: &BlobStore,
    method: &Method,
    headers: &HeaderMap,
    download: Download<'_>,
) -> Result<Response> {
    if download.redirect
        && let Some(url) = blobs.presigned_url(&download.blob.sha256).await?
    {
        // RFC 9110 §15.4.8: the client repeats the request, Range included, at the new URL.
        let mut response = Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(header::LOCATION, url)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .map_err(|e| Error::internal("building response", e))?;
        if !headers.contains_key(header::RANGE) {
            response
                .extensions_mut()
                .insert(crate::downloads::WholeFile);
        }
        return Ok(response);
    }
    let size = download.blob.size;
    let tag = etag(download.blob);
    let mut builder = Response::builder()
        .header(header::ETAG, &tag)
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(download.modified.system_time()),
        )
        .header(header::ACCEPT_RANGES, "bytes")
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(download.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
    if not_modified(headers, &tag, Some(download.modified)) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| Error::internal("building response", e));
    }
    let Ok(range) = requested_range(headers, size, &tag, download.modified) else {
        return builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{size}"))
            .body(Body::empty())
            .map_err(|e| Error::internal("building response", e));
    };
    let (status, span) = match &range {
        Some(r) => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            );
            (StatusCode::PARTIAL_CONTENT, r.clone())
        }
        None => (StatusCode::OK, 0..size),
    };
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, span.end - span.start);
    let body = if *method == Method::HEAD || span.is_empty() {
        Body::empty()
    } else {
        let stream = blobs.read(&download.blob.sha256, span.clone()).await?;
        crate::metrics::bytes_served(span.end - span.start);
        Body::from_stream(stream)
    };
    builder
        .body(body)
        .map_err(|e| Error::internal("building response", e))
}
