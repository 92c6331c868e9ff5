//! Rendered index files of hosted repositories, kept in memory and checked on every request
//! against the package's generation in the database (a new random value on every publish and
//! yank). Any instance that changes a crate changes its generation, so a cached file is never
//! served after a change; memory is bounded.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use wharf_core::time::Timestamp;

/// The most bytes of index files kept.
const MAX_BYTES: usize = 32 << 20;

/// One cached index file.
#[derive(Clone)]
pub(crate) struct CachedIndex {
    pub generation: String,
    pub body: Bytes,
    pub changed: Timestamp,
}

/// Index files by package id.
#[derive(Default)]
pub(crate) struct IndexCache {
    entries: Mutex<(HashMap<i64, CachedIndex>, usize)>,
}

impl IndexCache {
    /// The cached file of `package_id` if it is of `generation`.
    pub(crate) fn get(&self, package_id: i64, generation: &str) -> Option<CachedIndex> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .0
            .get(&package_id)
            .filter(|c| c.generation == generation)
            .cloned()
    }

    /// Keeps a rendered file, dropping everything when the budget would be exceeded.
    pub(crate) fn put(&self, package_id: i64, entry: CachedIndex) {
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
        if let Some(old) = map.insert(package_id, entry) {
            *bytes -= old.body.len();
        }
    }
}
