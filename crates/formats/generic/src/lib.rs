//! The generic package format, and the Platform Package Repository API served over it.
//!
//! Generic (after Forgejo's): any file under a package name and version,
//! `PUT|GET|HEAD|DELETE /generic/{repo}/{package}/{version}/{file}` and
//! `DELETE /generic/{repo}/{package}/{version}`. The Platform API (seed 001) keeps
//! `name-X.Y.Z.tar.gz` files in a generic repository and is served at `/platform/packages`,
//! and at `/packages` when `compat.root = "platform"`.

mod handlers;
pub mod platform;
mod request;

use axum::Router;
use wharf_server::{AppState, Format};

pub use platform::PlatformConfig;

/// The generic format.
#[derive(Debug, Clone, Default)]
pub struct GenericFormat {
    platform: PlatformConfig,
}

impl GenericFormat {
    /// The format, with the Platform API over the configured repository.
    #[must_use]
    pub fn new(platform: PlatformConfig) -> Self {
        Self { platform }
    }
}

impl Format for GenericFormat {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn routes(&self) -> Router<AppState> {
        wharf_server::protocol::routes(handlers::Generic)
    }

    fn root_routes(&self) -> Router<AppState> {
        platform::routes("/platform/packages", &self.platform)
    }

    fn compat_roots(&self) -> &'static [&'static str] {
        &["platform"]
    }

    fn compat_routes(&self, root: &str) -> Router<AppState> {
        match root {
            "platform" => platform::routes("/packages", &self.platform),
            _ => Router::new(),
        }
    }
}
