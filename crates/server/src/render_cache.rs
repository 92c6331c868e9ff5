//! Rendered documents (cargo index files, PyPI simple pages, npm packuments), kept in memory and checked on
//! every request against the package's content tag read from the database
//! ([`wharf_core::model::Package::content_tag`]), which every change bumps. Any instance that
//! changes a package changes its tag, so a cached document is never served after a change;
//! memory is bounded.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use wharf_core::Result;
use wharf_core::time::Timestamp;

use crate::compress;
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
