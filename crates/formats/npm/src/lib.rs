//! The npm registry format, so that npm, pnpm and yarn publish to and install from
//! `http://HOST/npm/{repo}/`.
//!
//! Each npm package is a package (scoped names as `@scope/name`), each version holds one
//! tarball `{name}-{version}.tgz`, and the version's manifest is stored once at publish time
//! as the members packuments are joined from (see [`manifest`]); dist-tags are package
//! properties. Packuments are rendered once per change and kept in memory. Proxy and group
//! repositories are read through [`sources`].

mod audit;
mod error;
mod handlers;
mod manifest;
mod names;
mod packument;
mod publish;
mod request;
mod search;
mod sources;
mod streamed;
mod updates;
pub mod usecases;
mod users;
mod writes;

use std::sync::Arc;

use axum::Router;
use wharf_core::digest::DigestSet;
use wharf_core::model::{Package, RepoKind, Repository};
use wharf_server::format::Removals;
use wharf_server::{AppState, Format};

/// The digests npm tarballs are hashed for besides SHA-256: `dist.shasum` (SHA-1) and
/// `dist.integrity` (SHA-512).
pub const DIGESTS: DigestSet = DigestSet {
    sha1: true,
    md5: false,
    sha512: true,
};

/// The npm format.
#[derive(Debug, Clone, Copy, Default)]
pub struct NpmFormat;

impl Format for NpmFormat {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn keeps_tombstones(&self) -> bool {
        true
    }

    fn removals(&self) -> Option<Arc<dyn Removals>> {
        Some(Arc::new(DistTagRepair))
    }

    fn kinds(&self) -> &'static [RepoKind] {
        &[RepoKind::Hosted, RepoKind::Proxy, RepoKind::Group]
    }

    fn default_upstream(&self) -> Option<&'static str> {
        Some("https://registry.npmjs.org/")
    }

    fn routes(&self) -> Router<AppState> {
        wharf_server::protocol::routes(handlers::Npm::default())
    }
}

/// Dist-tags never name a version deleted through the management API.
struct DistTagRepair;

#[async_trait::async_trait]
impl Removals for DistTagRepair {
    async fn versions_removed(
        &self,
        state: &AppState,
        repository: &Repository,
        package: &Package,
    ) -> wharf_core::Result<()> {
        updates::repair_tags(state, repository, package).await
    }
}
