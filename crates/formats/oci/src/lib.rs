//! The OCI registry format: the distribution specification (v1.1) at `/v2/`, so that docker,
//! podman, skopeo, buildah and ORAS push and pull images and artifacts.
//!
//! Images live at `/v2/{repository}/{image}`: `HOST/main/team/app:1.0` is the image
//! `team/app` of the `oci` repository `main` (see [`request`]). How images, manifests, tags
//! and uploads map onto packages, versions, files and properties is in [`images`].

mod auth;
mod blobs;
mod cache;
mod document;
mod error;
mod handlers;
mod images;
mod manifests;
mod proxy;
mod pull;
mod request;
mod tags;
mod upkeep;
mod uploads;
pub mod usecases;

use std::sync::Arc;

use axum::Router;
use http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;
use wharf_core::model::RepoKind;
use wharf_server::{AppState, Format};

/// The repository format key.
pub const FORMAT: &str = "oci";

/// The OCI format.
#[derive(Debug, Clone, Copy, Default)]
pub struct OciFormat;

impl Format for OciFormat {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn kinds(&self) -> &'static [RepoKind] {
        &[RepoKind::Hosted, RepoKind::Proxy]
    }

    /// Docker Hub (official images are `library/{name}` there).
    fn default_upstream(&self) -> Option<&'static str> {
        Some("https://registry-1.docker.io/")
    }

    fn removals(&self) -> Option<Arc<dyn wharf_server::format::Removals>> {
        Some(Arc::new(images::TagRepair))
    }

    fn upkeep(&self) -> Option<Arc<dyn wharf_server::format::Upkeep>> {
        Some(Arc::new(upkeep::AbandonedUploads))
    }

    /// Images of repository `main` are `/v2/main/{image}/…`.
    fn url_prefix(&self) -> String {
        "/v2/".into()
    }

    /// Nothing under `/oci`: registry clients only ever speak to `/v2/`.
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }

    fn root_routes(&self) -> Router<AppState> {
        wharf_server::protocol::mount("/v2", handlers::Oci::default()).layer(
            SetResponseHeaderLayer::overriding(
                HeaderName::from_static("docker-distribution-api-version"),
                HeaderValue::from_static("registry/2.0"),
            ),
        )
    }
}
