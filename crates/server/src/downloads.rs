//! Download counting. A download adds one to an in-memory count per (version, UTC day), a
//! reported analytics event one per (repository, category, name, UTC day); the counts are
//! added to the database every few seconds and at shutdown, by one upsert per row that several
//! instances can run side by side. A failed flush keeps its counts for the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::response::Response;
use http::{Method, StatusCode};
use wharf_core::Result;
use wharf_core::store::{EventCount, MetadataStore};
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

/// Marks a redirect that sends a client for a whole file (not a range): a download.
#[derive(Debug, Clone, Copy)]
pub struct WholeFile;

/// An event's key: repository, category, name, day.
type EventKey = (i64, String, String, i64);

/// Counts not yet in the database.
#[derive(Debug, Default)]
struct Pending {
    downloads: HashMap<(i64, i64), u64>,
    events: HashMap<EventKey, u64>,
}

/// Counts not yet in the database.
#[derive(Debug, Clone, Default)]
pub struct Downloads {
    pending: Arc<Mutex<Pending>>,
}

impl Downloads {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one download of the version `version_id`, now.
    pub fn count(&self, version_id: i64) {
        let day = day_of(Timestamp::now());
        *self
            .pending()
            .downloads
            .entry((version_id, day))
            .or_default() += 1;
    }

    /// Counts one analytics event of `category` about `name`, reported to a repository now.
    pub fn count_event(&self, repository_id: i64, category: &str, name: &str) {
        let key = (
            repository_id,
            category.to_owned(),
            name.to_owned(),
            day_of(Timestamp::now()),
        );
        *self.pending().events.entry(key).or_default() += 1;
    }

    /// Counts a download of `version_id` when `response` hands the whole file to a `GET`, or
    /// sends it to a presigned storage URL for it (not a `HEAD`, a range or a 304), and
    /// passes the response on.
    #[must_use]
    pub fn counted(&self, method: &Method, response: Response, version_id: i64) -> Response {
        let whole = match response.status() {
            StatusCode::OK => true,
            StatusCode::TEMPORARY_REDIRECT => response.extensions().get::<WholeFile>().is_some(),
            _ => false,
        };
        if method == Method::GET && whole {
            self.count(version_id);
        }
        response
    }

    /// Adds the pending counts to the database.
    ///
    /// # Errors
    /// A database failure; the counts not saved are kept for the next flush.
    pub async fn flush(&self, store: &dyn MetadataStore) -> Result<()> {
        let taken = std::mem::take(&mut *self.pending());
        if !taken.downloads.is_empty() {
            let rows: Vec<(i64, i64, u64)> = taken
                .downloads
                .iter()
                .map(|(&(v, d), &n)| (v, d, n))
                .collect();
            if let Err(e) = store.add_downloads(&rows).await {
                self.restore(taken);
                return Err(e);
            }
        }
        if !taken.events.is_empty() {
            let rows: Vec<EventCount> = taken
                .events
                .iter()
                .map(
                    |((repository_id, category, name, day), &count)| EventCount {
                        repository_id: *repository_id,
                        category: category.clone(),
                        name: name.clone(),
                        day: *day,
                        count,
                    },
                )
                .collect();
            if let Err(e) = store.add_events(&rows).await {
                self.restore(Pending {
                    downloads: HashMap::new(),
                    events: taken.events,
                });
                return Err(e);
            }
        }
        Ok(())
    }

    /// Puts counts that could not be saved back.
    fn restore(&self, taken: Pending) {
        let mut pending = self.pending();
        for (key, n) in taken.downloads {
            *pending.downloads.entry(key).or_default() += n;
        }
        for (key, n) in taken.events {
            *pending.events.entry(key).or_default() += n;
        }
    }
}

impl crate::state::AppState {
    /// Answers a `GET` or `HEAD` of `file` of `repo` as every format serves its files:
    /// conditional requests and a `Range` ([`crate::body::serve_blob`]), a 307 to a presigned
    /// URL where the repository redirects downloads, and the download count of a whole file.
    ///
    /// # Errors
    /// As [`crate::body::serve_blob`].
    pub async fn serve_file(
        &self,
        method: &Method,
        headers: &http::HeaderMap,
        repo: &wharf_core::model::Repository,
        file: &wharf_core::model::FileEntry,
        content_type: &str,
    ) -> Result<Response> {
        let response = crate::body::serve_blob(
            &self.blobs,
            method,
            headers,
            crate::body::Download {
                blob: &file.blob,
                modified: file.created_at,
                content_type,
                redirect: repo.policy.redirect_downloads,
            },
        )
        .await?;
        Ok(self.downloads.counted(method, response, file.version_id))
    }
}
