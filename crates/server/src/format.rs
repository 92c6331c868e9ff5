//! The Format contract: how a package format plugs into the server.
//!
//! A format owns the URL space `/{name}/…` (`/generic/…`, later `/npm/…`, `/pypi/…`). Inside
//! it, the format parses the path by hand, once, into its own endpoint enum (protocols with
//! nested names make route patterns a poor fit), calls `wharf-core` use cases through
//! [`crate::AppState`], and renders errors in the shape its clients understand. Seed systems'
//! APIs over a format's repositories are [`crate::seed::SeedApi`]s of their own.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use wharf_core::Result;
use wharf_core::auth::Principal;
use wharf_core::model::{Package, RepoKind, Repository, Version};
use wharf_core::usecases::RepositoryRules;

use crate::state::AppState;

/// Yanking: a version stays downloadable by exact pins but is no longer chosen by resolvers.
/// What that means on the wire is the format's (cargo rewrites its index line, PyPI marks
/// the release in its simple pages), so the management API delegates here.
#[async_trait]
pub trait Yanks: Send + Sync {
    /// Yanks `version` with an optional reason (`Some`), or un-yanks it (`None`).
    async fn set_yanked(
        &self,
        state: &AppState,
        repository: &Repository,
        package: &Package,
        version: &Version,
        reason: Option<&str>,
    ) -> Result<()>;
}

/// Who may change a package beyond the repository's write scope (cargo's crate owners). Every
/// path that changes a package asks it — the format's own protocol and `/api/v1` alike — so
/// that a writer of the repository cannot yank or delete what another owns.
#[async_trait]
pub trait Ownership: Send + Sync {
    /// Refuses `principal` changing `package` (publishing to it, yanking, deleting) unless the
    /// format's rules let it.
    async fn authorize_change(
        &self,
        state: &AppState,
        principal: &Principal,
        package: &Package,
    ) -> Result<()>;
}

/// What a format keeps consistent when versions of a package are deleted outside its own
/// protocol (through the management API, or a file deleted alone): package-level metadata
/// that names versions (npm's dist-tags, OCI's tags) must not name one that is gone.
#[async_trait]
pub trait Removals: Send + Sync {
    /// Called after versions of `package` were deleted, when the package remains.
    async fn versions_removed(
        &self,
        state: &AppState,
        repository: &Repository,
        package: &Package,
    ) -> Result<()>;
}

/// Upkeep of a format's own data, run before each garbage collection (by `serve` and by
/// `POST /api/v1/gc`) under a lease of its own, so that one instance does it: what it unlinks
/// becomes garbage for the collection that follows.
#[async_trait]
pub trait Upkeep: Send + Sync {
    /// Does the work, treating as abandoned what is older than `grace`; how many things it
    /// removed.
    async fn run(&self, state: &AppState, grace: std::time::Duration) -> Result<u64>;
}

/// A package format.
pub trait Format: Send + Sync {
    /// The URL segment and the repository format key (`generic`).
    fn name(&self) -> &'static str;

    /// The repository kinds this format implements; creating another kind is refused.
    fn kinds(&self) -> &'static [RepoKind] {
        &[RepoKind::Hosted]
    }

    /// The upstream a proxy repository of this format uses when none is given (the public
    /// registry of the ecosystem).
    fn default_upstream(&self) -> Option<&'static str> {
        None
    }

    /// What the format allows of its repositories, for
    /// [`wharf_core::usecases::create_repository`].
    fn repository_rules(&self) -> RepositoryRules {
        RepositoryRules {
            format: self.name(),
            kinds: self.kinds(),
            default_upstream: self.default_upstream(),
        }
    }

    /// How the format yanks versions, if it has yanks.
    fn yanks(&self) -> Option<Arc<dyn Yanks>> {
        None
    }

    /// Who may change a package, if the format has owners.
    fn ownership(&self) -> Option<Arc<dyn Ownership>> {
        None
    }

    /// What the format repairs after deletions, if it keeps metadata naming versions.
    fn removals(&self) -> Option<Arc<dyn Removals>> {
        None
    }

    /// Whether a deleted version's names stay taken: its files leave tombstones, and a
    /// publish of the same package, version and file with other content is refused (cargo,
    /// npm and PyPI never let a version come back different). An admin may purge them.
    fn keeps_tombstones(&self) -> bool {
        false
    }

    /// The format's upkeep, if it keeps data that needs it.
    fn upkeep(&self) -> Option<Arc<dyn Upkeep>> {
        None
    }

    /// Where clients find a repository's URL space, before its name (`/generic/`); formats
    /// whose clients expect a fixed root say so (OCI's `/v2/`).
    fn url_prefix(&self) -> String {
        format!("/{}/", self.name())
    }

    /// Routes nested under `/{name}`.
    fn routes(&self) -> Router<AppState>;

    /// Routes mounted at the server root, for protocols whose clients expect a fixed root
    /// (OCI's `/v2`).
    fn root_routes(&self) -> Router<AppState> {
        Router::new()
    }
}
