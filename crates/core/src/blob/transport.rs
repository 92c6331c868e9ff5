//! The HTTP transport of the object-store backends (S3, Swift): reqwest over rustls with the
//! `ring` provider, one connection pool per process.

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
