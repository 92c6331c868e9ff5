//! Publishing a file, with Forgejo's semantics: create a version with its file (conflict if
//! the version exists), add a file to an existing version, or either. One transaction: a
//! failed publish leaves no package, version, file or property behind. [`publish_files`]
//! publishes several files — of one package or several — in one transaction, all or nothing.

use std::time::Duration;

use crate::blob::{BlobStore, StagedBlob};
use crate::digest::Digests;
use crate::model::{PropertyOwner, Repository};
use crate::names::{FileName, PackageName, VersionName};
use crate::store::{BlobClaim, MetadataStore};
use crate::time::Timestamp;
use crate::{Error, Result};

/// How long a publisher's pin protects a blob from GC between storing it and referencing it.
pub const PUBLISH_PIN: Duration = Duration::from_hours(1);
/// How long a publish waits for GC to finish deleting the same content before giving up.
const CONDEMNED_WAIT: Duration = Duration::from_secs(30);

/// What a publish may do with versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishMode {
    /// The version must be new (Forgejo's `CreatePackageAndAddFile`).
    CreateVersion,
    /// The version must exist (`AddFileToExistingPackage`).
    AddToExisting,
    /// Either (`CreatePackageOrAddFileToExisting`).
    CreateOrAdd,
}

/// Where a property goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyTarget {
    /// On the package, when this publish creates it.
    NewPackage,
    /// On the package, whether this publish creates it or not.
    Package,
    /// On the version.
    Version,
    /// On the file.
    File,
}

/// A publish request.
#[derive(Debug, Clone)]
pub struct PublishFile<'a> {
    /// The target repository (must be hosted).
    pub repository: &'a Repository,
    /// Package name.
    pub package: &'a PackageName,
    /// The package's canonical name, when the format defines one (default: lower case).
    pub canonical: Option<&'a str>,
    /// Version.
    pub version: &'a VersionName,
    /// File name.
    pub file: &'a FileName,
    /// Version semantics.
    pub mode: PublishMode,
    /// Properties to set.
    pub properties: Vec<(PropertyTarget, String, String)>,
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The package.
    pub package_id: i64,
    /// The version.
    pub version_id: i64,
    /// The new file.
    pub file_id: i64,
    /// Whether the version was created by this publish.
    pub version_created: bool,
    /// The content's digests.
    pub digests: Digests,
    /// The content's size.
    pub size: u64,
}

/// Publishes a staged upload as a file of a package version.
///
/// # Errors
/// [`Error::Conflict`] for an existing version (with [`PublishMode::CreateVersion`]) or file
/// (unless the repository allows overwrite), [`Error::NotFound`] for a missing version (with
/// [`PublishMode::AddToExisting`]). Callers check the repository kind: users publish to hosted
/// repositories, while proxies store what they cache through this same path.
pub async fn publish_file(
    store: &dyn MetadataStore,
    blobs: &BlobStore,
    req: PublishFile<'_>,
    staged: StagedBlob,
) -> Result<Published> {
    let digests = staged.digests.clone();
    let size = staged.size;
    let claim = claim(store, &digests, size).await?;
    let result = async {
        blobs.commit(staged).await?;
        record(store, &req, claim, digests, size).await
    }
    .await;
    if result.is_err()
        && let Err(e) = store.release_pin(claim.pin_id).await
    {
        tracing::warn!(error = %e, "could not release a blob pin; it expires on its own");
    }
    result
}

/// Claims the blob row, waiting while GC finishes deleting the same content.
async fn claim(store: &dyn MetadataStore, digests: &Digests, size: u64) -> Result<BlobClaim> {
    let started = std::time::Instant::now();
    loop {
        let now = Timestamp::now();
        if let Some(claim) = store
            .claim_blob(digests, size, now, now.plus(PUBLISH_PIN))
            .await?
        {
            return Ok(claim);
        }
        if started.elapsed() > CONDEMNED_WAIT {
            return Err(Error::internal_msg(
                "the same content is being garbage-collected; try again",
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes several staged uploads, each as [`publish_file`] would, in one transaction: all
/// are recorded, or none (a refused one rolls the others back).
///
/// # Errors
/// As [`publish_file`], for the first file that fails.
pub async fn publish_files(
    store: &dyn MetadataStore,
    blobs: &BlobStore,
    files: Vec<(PublishFile<'_>, StagedBlob)>,
) -> Result<Vec<Published>> {
    let mut claimed = Vec::with_capacity(files.len());
    let result = async {
        let mut ready = Vec::with_capacity(files.len());
        for (req, staged) in files {
            let (digests, size) = (staged.digests.clone(), staged.size);
            let claim = claim(store, &digests, size).await?;
            claimed.push(claim.pin_id);
            blobs.commit(staged).await?;
            ready.push((req, claim, digests, size));
        }
        let mut tx = store.begin_publish().await?;
        let mut published = Vec::with_capacity(ready.len());
        for (req, claim, digests, size) in ready {
            published.push(record_in(tx.as_mut(), &req, claim, digests, size).await?);
        }
        tx.commit().await?;
        Ok(published)
    }
    .await;
    if result.is_err() {
        for pin in claimed {
            if let Err(e) = store.release_pin(pin).await {
                tracing::warn!(error = %e, "could not release a blob pin; it expires on its own");
            }
        }
    }
    result
}

async fn record(
    store: &dyn MetadataStore,
    req: &PublishFile<'_>,
    claim: BlobClaim,
    digests: Digests,
    size: u64,
) -> Result<Published> {
    let mut tx = store.begin_publish().await?;
    let published = record_in(tx.as_mut(), req, claim, digests, size).await?;
    tx.commit().await?;
    Ok(published)
}

/// Records one file in `tx`: package, version and file rows, properties, the pin's release.
async fn record_in(
    tx: &mut dyn crate::store::PublishTx,
    req: &PublishFile<'_>,
    claim: BlobClaim,
    digests: Digests,
    size: u64,
) -> Result<Published> {
    let canonical = req
        .canonical
        .map_or_else(|| req.package.lower(), str::to_owned);
    let (package_id, package_created) = tx
        .package(req.repository.id, req.package.as_str(), &canonical)
        .await?;
    let (version_id, version_created) = tx.version(package_id, req.version.as_str()).await?;
    match req.mode {
        PublishMode::CreateVersion if !version_created => {
            return Err(Error::conflict(format!(
                "version {} of package {} already exists",
                req.version, req.package
            )));
        }
        PublishMode::AddToExisting if version_created => {
            return Err(Error::not_found(format!(
                "version {} of package {} does not exist",
                req.version, req.package
            )));
        }
        _ => {}
    }
    if !req.repository.policy.allow_overwrite
        && let Some(held) = tx
            .tombstone(
                req.repository.id,
                &canonical,
                &req.version.lower(),
                &req.file.lower(),
            )
            .await?
        && held != digests.sha256.to_string()
    {
        return Err(Error::conflict(format!(
            "{} {} was deleted and its {} cannot be published again with other content",
            req.package, req.version, req.file
        )));
    }
    if let Some((file_id, _)) = tx.file(version_id, req.file.as_str()).await? {
        if !req.repository.policy.allow_overwrite {
            return Err(Error::conflict(format!(
                "file {} already exists in {} {}",
                req.file, req.package, req.version
            )));
        }
        tx.remove_file(file_id).await?;
    }
    let file_id = tx
        .insert_file(version_id, req.file.as_str(), claim.blob_id)
        .await?;
    for (target, name, value) in &req.properties {
        let owner = match target {
            PropertyTarget::NewPackage if package_created => PropertyOwner::Package(package_id),
            PropertyTarget::NewPackage => continue,
            PropertyTarget::Package => PropertyOwner::Package(package_id),
            PropertyTarget::Version => PropertyOwner::Version(version_id),
            PropertyTarget::File => PropertyOwner::File(file_id),
        };
        tx.set_property(owner, name, value).await?;
    }
    tx.release_pin(claim.pin_id).await?;
    Ok(Published {
        package_id,
        version_id,
        file_id,
        version_created,
        digests,
        size,
    })
}
