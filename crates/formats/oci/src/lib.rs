//! The OCI registry format: the distribution specification (v1.1) at `/v2/`, so that docker,
//! podman, skopeo, buildah and ORAS push and pull images and artifacts.
//!
//! Images live at `/v2/{repository}/{image}`: `HOST/main/team/app:1.0` is the image
//! `team/app` of the `oci` repository `main` (see [`request`]). How images, manifests, tags
//! and uploads map onto packages, versions, files and properties is in [`images`].

mod auth;
mod blobs;
mod document;
mod error;
mod handlers;
mod images;
mod manifests;
mod proxy;
mod request;
mod tags;
mod uploads;

use std::sync::Arc;

use axum::routing::any;
use axum::{Extension, Router};
use wharf_core::model::RepoKind;
use wharf_server::{AppState, Format};

/// The repository format key.
pub(crate) const FORMAT: &str = "oci";

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

    /// Nothing under `/oci`: registry clients only ever speak to `/v2/`.
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }

    fn root_routes(&self) -> Router<AppState> {
        Router::new()
            .route("/v2", any(handlers::dispatch))
            .route("/v2/", any(handlers::dispatch))
            .route("/v2/{*path}", any(handlers::dispatch))
            .layer(Extension(Arc::new(proxy::Tokens::default())))
    }
}
