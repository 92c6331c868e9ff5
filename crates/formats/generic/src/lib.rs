//! The generic package format (after Forgejo's): any file under a package name and version,
//! `PUT|GET|HEAD|DELETE /generic/{repo}/{package}/{version}/{file}` and
//! `DELETE /generic/{repo}/{package}/{version}`. The Platform Package Repository API is served
//! over generic repositories by its own crate (`wharf-compat-platform`).

mod handlers;
mod request;

use axum::Router;
use wharf_server::{AppState, Format};

/// The generic format.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenericFormat;

impl Format for GenericFormat {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn routes(&self) -> Router<AppState> {
        wharf_server::protocol::routes(handlers::Generic)
    }
}
