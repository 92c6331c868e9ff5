//! Seed-system APIs: the APIs of the systems Wharf was made from (the Platform Package
//! Repository, Pantry, the package image uploader), each served over a format's repositories
//! at a root of its own and, when `compat.root` names it, at `/` as the original was.
//! [`Components`] is what a Wharf is made of: the formats and seed APIs the composition root
//! lists once.

use std::sync::Arc;

use axum::Router;

use crate::format::Format;
use crate::state::AppState;

/// A seed system's API.
pub trait SeedApi: Send + Sync {
    /// The name `compat.root` selects it by (`platform`, `pantry`, `image-uploader`).
    fn name(&self) -> &'static str;

    /// Its routes at its own root (`/platform/packages`, `/pantry`, `/image-uploader`).
    fn routes(&self) -> Router<AppState>;

    /// Its routes at `/`, as the original served them.
    fn root_routes(&self) -> Router<AppState>;
}

/// The formats and seed APIs of a Wharf.
#[derive(Clone, Default)]
pub struct Components {
    /// The package formats.
    pub formats: Vec<Arc<dyn Format>>,
    /// The seed APIs.
    pub seeds: Vec<Arc<dyn SeedApi>>,
}

impl Components {
    /// The names `compat.root` may take.
    #[must_use]
    pub fn compat_roots(&self) -> Vec<&'static str> {
        self.seeds.iter().map(|s| s.name()).collect()
    }
}
