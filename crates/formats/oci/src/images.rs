//! How images map onto Wharf's model. An image (`team/app`) is a package of an `oci`
//! repository. Each manifest is a version named by its digest (`sha256:…`) whose files are
//! the manifest itself and, linked without copying, every blob and child manifest it
//! references, all named by digest — so GC keeps exactly what some manifest references.
//! Blobs uploaded (or mounted) and not yet referenced wait as files of the version
//! [`UPLOADS`]; a manifest push takes its blobs out of it. Tags are package properties
//! `oci.tag.{tag}` naming a digest; a manifest's media type, size, artifact type, subject and
//! annotations are version properties (the referrers API reads them).

use wharf_core::digest::Sha256;
use wharf_core::model::{FileEntry, Package, PropertyOwner, Repository};
use wharf_server::AppState;

use crate::error::{Code, OciError};
use crate::request::Reference;

/// The version holding uploaded blobs no manifest references yet.
pub(crate) const UPLOADS: &str = "uploads";
/// Prefix of tag properties.
pub const TAG: &str = "oci.tag.";
pub(crate) const MEDIA_TYPE: &str = "oci.media_type";
pub(crate) const SIZE: &str = "oci.size";
pub(crate) const ARTIFACT_TYPE: &str = "oci.artifact_type";
pub(crate) const SUBJECT: &str = "oci.subject";
pub(crate) const ANNOTATIONS: &str = "oci.annotations";

/// `sha256:<hex>`: how digests are written on the wire and as file and version names.
pub fn digest_name(sha: &Sha256) -> String {
    format!("sha256:{sha}")
}

/// A blob of the image, wherever the image holds it.
pub(crate) async fn find_blob(
    state: &AppState,
    repo: &Repository,
    image: &str,
    sha: &Sha256,
) -> Result<Option<FileEntry>, OciError> {
    Ok(state
        .store
        .package_file(repo.id, image, &digest_name(sha))
        .await?)
}

/// The image's package, or `MANIFEST_UNKNOWN`/`NAME_UNKNOWN` as `code` says.
pub(crate) async fn package(
    state: &AppState,
    repo: &Repository,
    image: &str,
    code: Code,
) -> Result<Package, OciError> {
    state
        .store
        .package(repo.id, image)
        .await?
        .ok_or_else(|| OciError::new(code, format!("no image {image} in {}", repo.name)))
}

/// The image's tags, each with the digest it names, sorted by tag.
pub async fn tags(
    state: &AppState,
    package: &Package,
) -> wharf_core::Result<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?
        .into_iter()
        .filter_map(|(name, value)| name.strip_prefix(TAG).map(|t| (t.to_owned(), value)))
        .collect();
    tags.sort();
    Ok(tags)
}

/// The digest a reference names: itself, or what its tag points at.
pub(crate) async fn resolve(
    state: &AppState,
    package: &Package,
    reference: &Reference,
) -> Result<Sha256, OciError> {
    match reference {
        Reference::Digest(sha) => Ok(sha.clone()),
        Reference::Tag(tag) => {
            let value = state
                .store
                .properties(PropertyOwner::Package(package.id))
                .await?
                .into_iter()
                .find_map(|(name, value)| (name.strip_prefix(TAG) == Some(tag)).then_some(value))
                .ok_or_else(|| {
                    OciError::new(
                        Code::ManifestUnknown,
                        format!("no tag {tag} in {}", package.name),
                    )
                })?;
            value
                .strip_prefix("sha256:")
                .and_then(|hex| Sha256::parse(hex).ok())
                .ok_or_else(|| {
                    OciError::from(wharf_core::Error::internal_msg("a tag names no digest"))
                })
        }
    }
}

/// Tags never name a manifest deleted through the management API.
pub(crate) struct TagRepair;

#[async_trait::async_trait]
impl wharf_server::format::Removals for TagRepair {
    async fn versions_removed(
        &self,
        state: &AppState,
        _repository: &wharf_core::model::Repository,
        package: &Package,
    ) -> wharf_core::Result<()> {
        let owner = PropertyOwner::Package(package.id);
        for (tag, named) in tags(state, package).await? {
            if state.store.version(package.id, &named).await?.is_none() {
                state
                    .store
                    .delete_property(owner, &format!("{TAG}{tag}"))
                    .await?;
            }
        }
        Ok(())
    }
}
