//! The composition root: what a Wharf is made of — its package formats and the seed-system
//! APIs served over them — listed once, here. The binary (`wharf serve`, the admin commands)
//! and the tests build their routers and states from [`components`]; adding a format is one
//! line in [`formats`] (see ARCHITECTURE.md, "Adding a format").

use std::sync::Arc;

use wharf_server::{Components, Format, SeedApi};

pub use wharf_compat_image_uploader::UploaderConfig;
pub use wharf_compat_pantry::PantryConfig;
pub use wharf_compat_platform::PlatformConfig;

/// The settings of the seed APIs (`[platform]`, `[pantry]`, `[image_uploader]`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The Platform Package Repository API.
    pub platform: PlatformConfig,
    /// The Pantry registry API.
    pub pantry: PantryConfig,
    /// The package image uploader.
    pub image_uploader: UploaderConfig,
}

/// The compiled-in package formats, in the order they are listed to users.
#[must_use]
pub fn formats() -> Vec<Arc<dyn Format>> {
    vec![
        Arc::new(wharf_format_generic::GenericFormat),
        Arc::new(wharf_format_cargo::CargoFormat),
        Arc::new(wharf_format_pypi::PypiFormat),
        Arc::new(wharf_format_npm::NpmFormat),
        Arc::new(wharf_format_oci::OciFormat),
    ]
}

/// The seed-system APIs, set up by `settings`.
#[must_use]
pub fn seeds(settings: &Settings) -> Vec<Arc<dyn SeedApi>> {
    vec![
        Arc::new(wharf_compat_platform::PlatformApi::new(
            settings.platform.clone(),
        )),
        Arc::new(wharf_compat_pantry::PantryApi::new(settings.pantry.clone())),
        Arc::new(wharf_compat_image_uploader::ImageUploaderApi::new(
            settings.image_uploader.clone(),
        )),
    ]
}

/// The names of the compiled-in formats (`generic`, `cargo`, …).
#[must_use]
pub fn format_names() -> Vec<&'static str> {
    formats().iter().map(|f| f.name()).collect()
}

/// The seed APIs `compat.root` may serve at `/` (`platform`, `pantry`, `image-uploader`).
#[must_use]
pub fn compat_roots() -> Vec<&'static str> {
    seeds(&Settings::default())
        .iter()
        .map(|s| s.name())
        .collect()
}

/// Everything a Wharf serves, set up by `settings`.
#[must_use]
pub fn components(settings: &Settings) -> Components {
    Components {
        formats: formats(),
        seeds: seeds(settings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_seed_has_a_root() {
        let components = components(&Settings::default());
        let mut names: Vec<&str> = components.formats.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), components.formats.len(), "format names repeat");
        assert_eq!(
            components.compat_roots(),
            ["platform", "pantry", "image-uploader"]
        );
    }
}
