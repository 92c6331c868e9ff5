//! The Python package index format: the upload API of twine and `uv publish`, the simple
//! repository API (PEP 503 HTML, PEP 691 JSON, PEP 592, 658/714, 700) that pip and uv
//! install from, file downloads, and the JSON project API.
//!
//! A project is a package (its first published spelling; its canonical name is the PEP 503
//! normal form), a release is a version, and each distribution file is a file with its
//! core metadata and `Requires-Python` kept as properties.

mod error;
mod handlers;
pub mod metadata;
pub mod names;
mod pages;
mod remote;
mod request;
mod sources;
mod upload;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use wharf_core::Result;
use wharf_core::digest::DigestSet;
use wharf_core::model::{Package, PropertyOwner, RepoKind, Repository, Version};
use wharf_server::format::Yanks;
use wharf_server::{AppState, Format};

/// The digests distribution files are hashed for besides SHA-256: MD5, which twine sends to
/// be checked and the JSON API answers (`md5_digest`).
const DIGESTS: DigestSet = DigestSet {
    sha1: false,
    md5: true,
    sha512: false,
};

/// The PyPI format.
#[derive(Debug, Clone, Copy, Default)]
pub struct PypiFormat;

impl Format for PypiFormat {
    fn name(&self) -> &'static str {
        "pypi"
    }

    fn keeps_tombstones(&self) -> bool {
        true
    }

    fn kinds(&self) -> &'static [RepoKind] {
        &[RepoKind::Hosted, RepoKind::Proxy, RepoKind::Group]
    }

    fn default_upstream(&self) -> Option<&'static str> {
        Some("https://pypi.org/simple/")
    }

    fn yanks(&self) -> Option<Arc<dyn Yanks>> {
        Some(Arc::new(PypiYanks))
    }

    fn routes(&self) -> Router<AppState> {
        // Uploads are bounded by the repository's limit while they stream, not by a buffer.
        wharf_server::protocol::routes(handlers::Pypi::default()).layer(DefaultBodyLimit::disable())
    }
}

/// PEP 592 yanks: the release's files are marked in the simple pages, with the reason.
struct PypiYanks;

#[async_trait]
impl Yanks for PypiYanks {
    async fn set_yanked(
        &self,
        state: &AppState,
        _repository: &Repository,
        _package: &Package,
        version: &Version,
        reason: Option<&str>,
    ) -> Result<()> {
        let owner = PropertyOwner::Version(version.id);
        match reason {
            Some(reason) => state.store.set_property(owner, pages::YANKED, reason).await,
            None => state
                .store
                .delete_property(owner, pages::YANKED)
                .await
                .map(|_| ()),
        }
    }
}
