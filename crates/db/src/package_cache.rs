//! A read-through cache of package rows, for SQLite only.
//!
//! A SQLite database belongs to one serving process, so that process sees every change to
//! its packages: each write that can change a package row (a publish, a deletion, a
//! property change, a repository's deletion) clears the cache once committed, before it
//! answers. An entry also lives at most [`MAX_AGE`], which bounds how long a write of another
//! process (the admin CLI on the same file) can go unseen. A reader that raced a write does
//! not store what it read: entries are only stored when no write happened during the read.
//! PostgreSQL is shared by several instances, so there the cache is off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use wharf_core::model::Package;

/// How long an entry is trusted without a write of this process clearing it.
const MAX_AGE: Duration = Duration::from_secs(1);

/// Entries kept at most; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 65_536;

/// How a package was looked up: repository, by canonical name (or by lower-case name), name.
pub(crate) type Key = (i64, bool, String);

/// A cached lookup's answer: the package, or `None` when it is known to be absent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Hit(pub(crate) Option<Package>);

/// The cache; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct PackageCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<Key, (Instant, Option<Package>)>>,
}

impl PackageCache {
    /// The cached answer of a lookup, if any.
    pub(crate) fn get(&self, key: &Key) -> Option<Hit> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, package) = entries.get(key)?;
        (at.elapsed() < MAX_AGE).then(|| Hit(package.clone()))
    }

    /// The write generation, taken before a read whose answer may be stored.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores what a read that began at `generation` found, unless a write came in between.
    pub(crate) fn put(&self, generation: u64, key: Key, package: Option<Package>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), package));
    }

    /// Forgets everything: called after every committed write that can change a package.
    pub(crate) fn changed(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::time::Timestamp;

    fn package() -> Package {
        Package {
            id: 1,
            repository_id: 2,
            name: "demo".into(),
            created_at: Timestamp(3),
            revision: 4,
            updated_at: Timestamp(5),
        }
    }

    #[test]
    fn a_write_during_a_read_keeps_the_read_out_of_the_cache() {
        let cache = PackageCache::default();
        let key = (2, false, "demo".to_owned());
        let before = cache.generation();
        cache.changed();
        cache.put(before, key.clone(), Some(package()));
        assert_eq!(cache.get(&key), None);
        cache.put(cache.generation(), key.clone(), Some(package()));
        assert_eq!(cache.get(&key), Some(Hit(Some(package()))));
        cache.changed();
        assert_eq!(cache.get(&key), None);
    }
}
