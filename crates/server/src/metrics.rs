//! Prometheus metrics: requests by route and status, latency histograms, bytes in and out,
//! uploads in flight, and blobs stored (read from the store at scrape time). Requests of the
//! package protocols are also counted by operation, by [`crate::protocol`].

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process-wide recorder once; later calls reuse it.
///
/// # Panics
/// Never: the histogram buckets are a non-empty constant.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("wharf_http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("static buckets are valid")
            .set_buckets_for_metric(
                Matcher::Full("wharf_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests embedding several apps).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts one request: route pattern, method, status, latency and declared sizes.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    if let Some(n) = content_length(request.headers()) {
        metrics::counter!("wharf_http_request_bytes_total").increment(n);
    }
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("wharf_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("wharf_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    if let Some(n) = content_length(response.headers()) {
        metrics::counter!("wharf_http_response_bytes_total").increment(n);
    }
    response
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Bytes of uploads stored.
pub fn bytes_stored(n: u64) {
    metrics::counter!("wharf_blob_bytes_stored_total").increment(n);
}

/// Bytes of files streamed to clients.
pub fn bytes_served(n: u64) {
    metrics::counter!("wharf_blob_bytes_served_total").increment(n);
}

/// Marks an upload in flight for as long as it lives.
pub struct UploadInFlight(());

impl UploadInFlight {
    /// Counts an upload as started.
    #[must_use]
    pub fn start() -> Self {
        metrics::gauge!("wharf_uploads_in_flight").increment(1.0);
        Self(())
    }
}

impl Drop for UploadInFlight {
    fn drop(&mut self) {
        metrics::gauge!("wharf_uploads_in_flight").decrement(1.0);
    }
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn render(State(state): State<AppState>) -> Response {
    if let Ok((count, bytes)) = state.store.blob_totals().await {
        #[expect(clippy::cast_precision_loss, reason = "gauges are f64 by definition")]
        {
            metrics::gauge!("wharf_blobs_stored").set(count as f64);
            metrics::gauge!("wharf_blobs_stored_bytes").set(bytes as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}
