//! Download counting. A download adds one to an in-memory count per (version, UTC day); the
//! counts are added to the database every few seconds and at shutdown, by one upsert per row
//! that several instances can run side by side. A failed flush keeps its counts for the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::response::Response;
use http::{Method, StatusCode};
use wharf_core::Result;
use wharf_core::store::MetadataStore;
use wharf_core::time::Timestamp;

/// How often counts reach the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

const DAY_MS: i64 = 86_400_000;

/// The day (since the Unix epoch, UTC) of `at`.
#[must_use]
pub fn day_of(at: Timestamp) -> i64 {
    at.0.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a day since the Unix epoch (UTC).
#[must_use]
pub fn date_of(day: i64) -> String {
    Timestamp(day * DAY_MS).rfc3339_seconds()[..10].to_owned()
}

/// Counts not yet in the database.
#[derive(Debug, Clone, Default)]
pub struct Downloads {
    pending: Arc<Mutex<HashMap<(i64, i64), u64>>>,
}

impl Downloads {
    /// Counts one download of the version `version_id`, now.
    pub fn count(&self, version_id: i64) {
        let day = day_of(Timestamp::now());
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending.entry((version_id, day)).or_default() += 1;
    }

    /// Counts a download of `version_id` when `response` hands the whole file to a `GET`
    /// (not a `HEAD`, a range or a 304), and passes the response on.
    #[must_use]
    pub fn counted(&self, method: &Method, response: Response, version_id: i64) -> Response {
        if method == Method::GET && response.status() == StatusCode::OK {
            self.count(version_id);
        }
        response
    }

    /// Adds the pending counts to the database.
    ///
    /// # Errors
    /// A database failure; the counts are kept for the next flush.
    pub async fn flush(&self, store: &dyn MetadataStore) -> Result<()> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<(i64, i64, u64)> = taken.iter().map(|(&(v, d), &n)| (v, d, n)).collect();
        let result = store.add_downloads(&rows).await;
        if result.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (key, n) in taken {
                *pending.entry(key).or_default() += n;
            }
        }
        result
    }
}
