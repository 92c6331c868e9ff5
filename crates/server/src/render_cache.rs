//! Rendered documents (cargo index files, PyPI simple pages, npm packuments), kept in memory and checked on
//! every request against the package's content tag read from the database
//! ([`wharf_core::model::Package::content_tag`]), which every change bumps. Any instance that
//! changes a package changes its tag, so a cached document is never served after a change;
//! memory is bounded. [`RenderCache::respond`] answers a request for such a document whole:
//! `304` for a current validator, else the body (gzipped when the client takes it) with its
//! `ETag`.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use wharf_core::Result;
use wharf_core::model::Package;
use wharf_core::time::Timestamp;

use crate::body::not_modified;
use crate::compress::{self, accepts_gzip};
use crate::state::AppState;
use crate::upstream::Upstream;

/// The most bytes of documents kept.
const MAX_BYTES: usize = 32 << 20;

/// One cached document.
#[derive(Clone)]
pub struct Rendered {
    /// The content tag it was rendered from.
    pub tag: String,
    /// The document.
    pub body: Bytes,
    /// When its content last changed, for `Last-Modified`.
    pub changed: Timestamp,
}

/// Which document of a package a request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The package it is rendered from.
    pub package: &'a Package,
    /// A letter naming the rendering (npm: `a`bbreviated or `f`ull), part of the `ETag`.
    pub variant: char,
    /// The URL its links are written for (part of the cache key).
    pub base: &'a str,
    /// Its media type.
    pub content_type: &'static str,
}

/// Documents by a format-chosen key.
#[derive(Default)]
pub struct RenderCache {
    entries: Mutex<(HashMap<String, Rendered>, usize)>,
}

impl RenderCache {
    /// The document under `key` rendered from content `tag`: from the cache, or made by
    /// `render` (and gzipped when `gzip`) by one request while the others for the same key
    /// wait for it (`flights`), then kept.
    ///
    /// # Errors
    /// What `render` fails with.
    pub async fn get_or_render<F, Fut>(
        &self,
        flights: &Upstream,
        key: String,
        tag: &str,
        changed: Timestamp,
        gzip: bool,
        render: F,
    ) -> Result<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String>>,
    {
        if let Some(hit) = self.get(&key, tag) {
            return Ok(hit.body);
        }
        let _flight = flights.flight(format!("render:{key}")).await;
        if let Some(hit) = self.get(&key, tag) {
            return Ok(hit.body);
        }
        let text = render().await?;
        let body = if gzip {
            compress::gzip(text.as_bytes())
        } else {
            Bytes::from(text)
        };
        self.put(
            key,
            Rendered {
                tag: tag.to_owned(),
                body: body.clone(),
                changed,
            },
        );
        Ok(body)
    }

    /// Answers a request with `headers` for `document`: `304` when its `If-None-Match` names
    /// the current `ETag` (`"{content tag}.{variant}"`, `.gz` added for the gzipped body),
    /// else the document — cached, or made by `render` — with `ETag`, `Vary: Accept,
    /// Accept-Encoding` and, when gzipped, `Content-Encoding`.
    ///
    /// # Errors
    /// What `render` fails with.
    pub async fn respond<F, Fut>(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        document: Document<'_>,
        render: F,
    ) -> Result<Response>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String>>,
    {
        let Document {
            package,
            variant,
            base,
            content_type,
        } = document;
        let gzip = accepts_gzip(headers);
        let tag = package.content_tag();
        let etag = format!("\"{tag}.{variant}{}\"", if gzip { ".gz" } else { "" });
        if not_modified(headers, &etag, None) {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
        }
        let key = format!("{}|{variant}|{gzip}|{base}", package.id);
        let body = self
            .get_or_render(&state.upstream, key, &tag, package.created_at, gzip, render)
            .await?;
        let mut response = (StatusCode::OK, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Accept, Accept-Encoding"),
        );
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(response)
    }

    /// The cached document under `key` if it was rendered from `tag`.
    pub fn get(&self, key: &str, tag: &str) -> Option<Rendered> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.0.get(key).filter(|c| c.tag == tag).cloned()
    }

    /// Keeps a rendered document, dropping everything when the budget would be exceeded.
    pub fn put(&self, key: String, entry: Rendered) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, bytes) = &mut *entries;
        if entry.body.len() > MAX_BYTES {
            return;
        }
        if *bytes + entry.body.len() > MAX_BYTES {
            map.clear();
            *bytes = 0;
        }
        *bytes += entry.body.len();
        if let Some(old) = map.insert(key, entry) {
            *bytes -= old.body.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tag: &str, len: usize) -> Rendered {
        Rendered {
            tag: tag.into(),
            body: Bytes::from(vec![b'x'; len]),
            changed: Timestamp(0),
        }
    }

    #[test]
    fn serves_only_the_current_tag_and_stays_in_budget() {
        let cache = RenderCache::default();
        cache.put("a".into(), doc("1", 10));
        assert!(cache.get("a", "1").is_some());
        assert!(cache.get("a", "2").is_none());
        cache.put("big".into(), doc("1", MAX_BYTES + 1));
        assert!(cache.get("big", "1").is_none());
        cache.put("b".into(), doc("1", MAX_BYTES - 5));
        assert!(
            cache.get("a", "1").is_none(),
            "the budget cleared older entries"
        );
        assert!(cache.get("b", "1").is_some());
    }
}
