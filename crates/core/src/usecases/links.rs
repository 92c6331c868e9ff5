//! Publishing a version made of blobs already stored: an OCI manifest is a small document of
//! its own plus references to layers and a config uploaded before it. Each referenced blob
//! becomes a file of the version (so GC keeps it while the version lives) without its bytes
//! moving; the document, when there is one, is committed like any upload. One transaction,
//! as [`super::publish_file`]: on any failure nothing is recorded.

use crate::blob::{BlobStore, StagedBlob};
use crate::digest::{Digests, Sha256};
use crate::model::{PropertyOwner, Repository};
use crate::names::{FileName, PackageName, VersionName};
use crate::store::{BlobClaim, MetadataStore};
use crate::time::Timestamp;
use crate::usecases::publish::{PUBLISH_PIN, PropertyTarget};
use crate::{Error, Result};

/// A version of linked blobs (and an optional new document), created or added to.
#[derive(Debug)]
pub struct PublishLinked<'a> {
    /// The target repository.
    pub repository: &'a Repository,
    /// Package name.
    pub package: &'a PackageName,
    /// Version.
    pub version: &'a VersionName,
    /// A new document stored as a file of the version.
    pub document: Option<(&'a FileName, StagedBlob)>,
    /// Blobs already stored, each as a file of the version under its name. A file already
    /// there under that name is kept.
    pub links: &'a [(FileName, Sha256)],
    /// Properties to set.
    pub properties: Vec<(PropertyTarget, String, String)>,
}

/// What a linked publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The package.
    pub package_id: i64,
    /// The version.
    pub version_id: i64,
    /// Whether the version was created by this publish.
    pub version_created: bool,
}

/// Publishes `req`; see [`PublishLinked`].
///
/// # Errors
/// [`Error::NotFound`] naming the first linked digest the store does not hold (or that GC is
/// deleting); a storage or metadata error.
pub async fn publish_linked(
    store: &dyn MetadataStore,
    blobs: &BlobStore,
    req: PublishLinked<'_>,
) -> Result<Linked> {
    let PublishLinked {
        repository,
        package,
        version,
        document,
        links,
        properties,
    } = req;
    let now = Timestamp::now();
    let mut claims: Vec<(BlobClaim, &FileName)> = Vec::new();
    let result = async {
        for (name, sha256) in links {
            let blob = store
                .blob(sha256)
                .await?
                .ok_or_else(|| Error::not_found(format!("blob sha256:{sha256} is unknown")))?;
            let digests = Digests {
                sha256: blob.sha256,
                sha1: blob.sha1,
                md5: blob.md5,
                sha512: blob.sha512,
            };
            let claim = store
                .claim_blob(&digests, blob.size, now, now.plus(PUBLISH_PIN))
                .await?
                .ok_or_else(|| Error::not_found(format!("blob sha256:{sha256} is unknown")))?;
            claims.push((claim, name));
        }
        let document = match document {
            Some((name, staged)) => {
                let claim = store
                    .claim_blob(&staged.digests, staged.size, now, now.plus(PUBLISH_PIN))
                    .await?
                    .ok_or_else(|| {
                        Error::internal_msg("the same content is being garbage-collected; retry")
                    })?;
                claims.push((claim, name));
                blobs.commit(staged).await?;
                Some(name)
            }
            None => None,
        };
        let target = (repository, package, version);
        record(store, target, &properties, &claims, document).await
    }
    .await;
    if result.is_err() {
        for (claim, _) in &claims {
            if let Err(e) = store.release_pin(claim.pin_id).await {
                tracing::warn!(error = %e, "could not release a blob pin; it expires on its own");
            }
        }
    }
    result
}

async fn record(
    store: &dyn MetadataStore,
    (repository, package, version): (&Repository, &PackageName, &VersionName),
    properties: &[(PropertyTarget, String, String)],
    claims: &[(BlobClaim, &FileName)],
    document: Option<&FileName>,
) -> Result<Linked> {
    let mut tx = store.begin_publish().await?;
    let (package_id, package_created) = tx
        .package(repository.id, package.as_str(), &package.lower())
        .await?;
    let (version_id, version_created) = tx.version(package_id, version.as_str()).await?;
    for (claim, name) in claims {
        match tx.file(version_id, name.as_str()).await? {
            Some((file_id, blob_id)) if Some(*name) == document && blob_id != claim.blob_id => {
                tx.remove_file(file_id).await?;
                tx.insert_file(version_id, name.as_str(), claim.blob_id)
                    .await?;
            }
            Some(_) => {}
            None => {
                tx.insert_file(version_id, name.as_str(), claim.blob_id)
                    .await?;
            }
        }
        tx.release_pin(claim.pin_id).await?;
    }
    for (target, name, value) in properties {
        let owner = match target {
            PropertyTarget::NewPackage if package_created => PropertyOwner::Package(package_id),
            PropertyTarget::NewPackage => continue,
            PropertyTarget::Package => PropertyOwner::Package(package_id),
            PropertyTarget::Version => PropertyOwner::Version(version_id),
            PropertyTarget::File => {
                return Err(Error::invalid("a linked publish sets no file properties"));
            }
        };
        tx.set_property(owner, name, value).await?;
    }
    tx.commit().await?;
    Ok(Linked {
        package_id,
        version_id,
        version_created,
    })
}
