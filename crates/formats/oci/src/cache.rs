//! Manifests of hosted repositories kept in memory, so that a pull's manifest request by tag
//! costs no database query beyond the package row: each entry is checked against the package's
//! content tag ([`wharf_core::model::Package::content_tag`]), which every push, tag change and
//! deletion in the image bumps — through any instance. Memory is bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use wharf_core::digest::Sha256;
use wharf_core::time::Timestamp;

/// The most manifest bytes kept.
const MAX_BYTES: usize = 32 << 20;

/// A manifest as it is answered.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub digest: Sha256,
    pub media_type: String,
    pub body: Bytes,
    /// The version it is, for download counts.
    pub version_id: i64,
    /// When it was pushed (`Last-Modified`).
    pub modified: Timestamp,
}

/// Entries by key: the content tag each was read at, and the manifest.
type Entries = HashMap<String, (String, Arc<Manifest>)>;

/// Manifests by (repository, image, reference), each with the content tag it was read at, and
/// their total size.
#[derive(Debug, Default)]
pub(crate) struct Manifests(Mutex<(Entries, usize)>);

impl Manifests {
    /// The manifest under `key` if it was read at content `tag`.
    pub fn get(&self, key: &str, tag: &str) -> Option<Arc<Manifest>> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.0
            .get(key)
            .filter(|(t, _)| t == tag)
            .map(|(_, m)| m.clone())
    }

    /// Keeps `manifest` under `key`, read at content `tag`.
    pub fn put(&self, key: String, tag: String, manifest: Arc<Manifest>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (entries, bytes) = &mut *map;
        if *bytes + manifest.body.len() > MAX_BYTES {
            entries.clear();
            *bytes = 0;
        }
        *bytes += manifest.body.len();
        if let Some((_, old)) = entries.insert(key, (tag, manifest)) {
            *bytes -= old.body.len();
        }
    }
}

/// The cache key of a reference in an image.
pub(crate) fn key(repository_id: i64, image: &str, reference: &str) -> String {
    format!("{repository_id}/{image}/{reference}")
}
