//! The cargo registry format: a sparse index and the web API, so that `cargo publish`,
//! `cargo build`, `cargo yank`, `cargo owner`, `cargo search` and `cargo login` work against
//! `sparse+http://HOST/cargo/{repo}/index/`.
//!
//! Each crate is a package (its name as first published, its canonical name lower case with
//! `_` as `-` so that clashing names are found), each version holds `{name}-{vers}.crate`, and
//! the version's index line is rendered once at publish time and kept as a property.

mod error;
mod handlers;
mod index;
mod names;
mod owners;
mod publish;
mod request;
mod search;
mod sources;
mod usecases;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use wharf_core::Result;
use wharf_core::auth::Principal;
use wharf_core::model::RepoKind;
use wharf_core::model::{Package, Repository, Version};
use wharf_server::format::{Ownership, Yanks};
use wharf_server::{AppState, Format};

/// The cargo format.
#[derive(Debug, Clone, Copy, Default)]
pub struct CargoFormat;

impl Format for CargoFormat {
    fn name(&self) -> &'static str {
        "cargo"
    }

    fn kinds(&self) -> &'static [RepoKind] {
        &[RepoKind::Hosted, RepoKind::Proxy, RepoKind::Group]
    }

    fn default_upstream(&self) -> Option<&'static str> {
        Some("https://index.crates.io/")
    }

    fn yanks(&self) -> Option<Arc<dyn Yanks>> {
        Some(Arc::new(CargoYanks))
    }

    fn ownership(&self) -> Option<Arc<dyn Ownership>> {
        Some(Arc::new(CrateOwners))
    }

    fn keeps_tombstones(&self) -> bool {
        true
    }

    fn routes(&self) -> Router<AppState> {
        wharf_server::protocol::routes(handlers::Cargo::default())
    }
}

/// Yanks through the management API: the same index-line rewrite as `cargo yank` (cargo has
/// no yank reasons).
struct CargoYanks;

#[async_trait]
impl Yanks for CargoYanks {
    async fn set_yanked(
        &self,
        state: &AppState,
        _repository: &Repository,
        _package: &Package,
        version: &Version,
        reason: Option<&str>,
    ) -> Result<()> {
        usecases::set_yanked(state, version, reason.is_some()).await
    }
}

/// Crate owners decide who changes a crate, through the management API as through cargo.
struct CrateOwners;

#[async_trait]
impl Ownership for CrateOwners {
    async fn authorize_change(
        &self,
        state: &AppState,
        principal: &Principal,
        package: &Package,
    ) -> Result<()> {
        owners::ensure_owner(state, principal, package).await
    }
}
