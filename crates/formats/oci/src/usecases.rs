//! What other crates build on (the package image uploader, `wharf-compat-image-uploader`):
//! OCI's name and tag rules, reading manifests, storing blobs and manifests into an image,
//! an image's tags, and answering a registry's authentication challenge.

use wharf_core::digest::Sha256;
use wharf_core::model::Package;
use wharf_core::{Error, Result};
use wharf_server::AppState;

pub use crate::FORMAT;
pub use crate::document::{DOCKER_LIST, DOCKER_MANIFEST, Manifest, OCI_INDEX, OCI_MANIFEST};
pub use crate::images::{TAG, digest_name, tags};
pub use crate::manifests::store_manifest;
pub use crate::proxy::client::{Answer, answer_challenge, challenge_of, challenge_realm};
pub use crate::request::{Name, component_ok};
pub use crate::uploads::store_blob;

/// The repository and image a name's `components` address (`["main", "team", "app"]`), after
/// the spec's name grammar; an invalid name is [`Error::Invalid`].
pub fn parse_name(components: &[&str]) -> Result<Name> {
    crate::request::name(components).map_err(|e| Error::invalid(e.message))
}

/// Whether `text` is a tag by the spec's grammar (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`).
pub fn valid_tag(text: &str) -> bool {
    crate::request::tag(text).is_ok()
}

/// Reads and checks a manifest `body` of media type `content_type`; a bad one is
/// [`Error::Invalid`].
pub fn parse_manifest(body: &[u8], content_type: Option<&str>) -> Result<Manifest> {
    crate::document::parse(body, content_type).map_err(|e| Error::invalid(e.message))
}

/// The digest `tag` of the image names, if it is a tag of it.
pub async fn tagged(state: &AppState, package: &Package, tag: &str) -> Result<Option<Sha256>> {
    Ok(tags(state, package)
        .await?
        .into_iter()
        .find(|(t, _)| t == tag)
        .and_then(|(_, digest)| Sha256::parse(digest.strip_prefix("sha256:")?).ok()))
}
