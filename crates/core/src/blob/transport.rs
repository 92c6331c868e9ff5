//! The HTTP transport of the object-store backends (S3, Swift): reqwest over rustls with the
//! `ring` provider, one connection pool per process, and their retries.

use std::sync::OnceLock;

use opendal::HttpTransporter;
use opendal_http_transport_reqwest::ReqwestTransport;

/// The transport every HTTP backend's operator uses.
pub(super) fn transport() -> HttpTransporter {
    static TRANSPORT: OnceLock<HttpTransporter> = OnceLock::new();
    TRANSPORT
        .get_or_init(|| {
            // reqwest is built without a TLS provider of its own: rustls takes the process
            // default, which must be set before the first client exists. Another part of the
            // process may have set it already; either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
            HttpTransporter::new(ReqwestTransport::default())
        })
        .clone()
}

/// Requests that fail for a passing reason (a dropped connection, a 503) are sent again with
/// backoff, as object-store clients are expected to.
pub(super) fn retries() -> opendal::layers::RetryLayer {
    opendal::layers::RetryLayer::new()
        .with_max_times(4)
        .with_jitter()
}
