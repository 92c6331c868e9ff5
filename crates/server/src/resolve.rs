//! "Give me file F of package P in repository R", answered one way for every format and kind:
//!
//! - a **hosted** repository has the file or not;
//! - a **proxy** has it once it fetched it: otherwise the request takes the artifact's single
//!   flight, looks again (another request may just have stored it), asks the format where the
//!   upstream has it and what it must hash to, streams it into a staged blob (verifying the
//!   SHA-256 as it arrives, or the upstream's other digest right after), publishes it into the
//!   proxy through the same use case as any upload, and reads it back — so GC, fsck and the
//!   API treat cached files like any other;
//! - a **group** asks its members in order, with the dependency-confusion guard: a package a
//!   hosted member has comes from hosted members only.
//!
//! A format supplies only an [`Artifacts`]: how it finds a stored file and where its upstream
//! keeps one. Upstream metadata documents come through [`crate::upstream::Upstream::document`]
//! (cached, revalidated, stale while the upstream is down).

use async_trait::async_trait;
use wharf_core::blob::StagedBlob;
use wharf_core::digest::{DigestSet, Digests, Sha256};
use wharf_core::model::{FileEntry, RepoKind, Repository};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};

use crate::groups::members_for;
use crate::state::AppState;

/// The digest an upstream's metadata names for an artifact: the SHA-256 is checked while the
/// artifact streams in, the others once it is staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// SHA-256 (cargo's `cksum`, PyPI's `sha256`, OCI digests).
    Sha256(Sha256),
    /// SHA-512, hex (npm's `integrity`).
    Sha512(String),
    /// SHA-1, hex (npm's `shasum` of old packages).
    Sha1(String),
}

/// Where a proxy's upstream has an artifact, what it must hash to, and what it becomes here.
#[derive(Debug, Clone)]
pub struct Located {
    /// The artifact's URL.
    pub url: String,
    /// What it must hash to; `None` when the upstream names nothing.
    pub expected: Option<Expected>,
    /// The package it is stored as (the upstream's spelling).
    pub package: String,
    /// The package's canonical name, when the format defines one.
    pub canonical: Option<String>,
    /// The version it is stored in.
    pub version: String,
    /// Its file name.
    pub file: String,
    /// Properties stored with it.
    pub properties: Vec<(PropertyTarget, String, String)>,
}

/// How a format finds its artifacts.
#[async_trait]
pub trait Artifacts: Send + Sync {
    /// What names an artifact (package, version, file, in the format's terms).
    type Key: Send + Sync + ?Sized;

    /// The package's canonical name, for the dependency-confusion guard of groups.
    fn canonical(&self, key: &Self::Key) -> String;

    /// What concurrent fetches of the same artifact of a proxy wait on (unique within it).
    fn flight(&self, key: &Self::Key) -> String;

    /// The digests stored files of the format carry.
    fn digests(&self) -> DigestSet;

    /// The file, if `repo` (hosted or proxy) stores it.
    async fn stored(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &Self::Key,
    ) -> Result<Option<FileEntry>>;

    /// Where the proxy `repo`'s upstream has the artifact; `None` when it has none.
    async fn locate(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &Self::Key,
    ) -> Result<Option<Located>>;

    /// Streams the located artifact into a staged blob, its SHA-256 checked when known; by
    /// default a GET of its URL with the proxy's credentials where they belong
    /// ([`crate::upstream::Upstream::fetch_artifact`]). Protocols that negotiate credentials
    /// themselves (OCI's token flow) fetch their own way.
    async fn fetch(
        &self,
        state: &AppState,
        repo: &Repository,
        located: &Located,
    ) -> Result<StagedBlob> {
        let sha256 = match &located.expected {
            Some(Expected::Sha256(sha)) => Some(sha.clone()),
            _ => None,
        };
        state
            .upstream
            .fetch_artifact(
                &state.blobs,
                repo,
                &located.url,
                sha256,
                self.digests(),
                state.upload_limit(repo),
            )
            .await
    }

    /// Stores a fetched, verified artifact in the proxy `repo`; by default as a file of
    /// [`Located`]'s package, version and name, through the publish use case.
    async fn store(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &Self::Key,
        located: &Located,
        staged: StagedBlob,
    ) -> Result<()> {
        let _ = key;
        publish_file(
            state.store.as_ref(),
            &state.blobs,
            PublishFile {
                repository: repo,
                package: &PackageName::new(located.package.as_str())?,
                canonical: located.canonical.as_deref(),
                version: &VersionName::new(located.version.as_str())?,
                file: &FileName::new(located.file.as_str())?,
                mode: PublishMode::CreateOrAdd,
                properties: located.properties.clone(),
            },
            staged,
        )
        .await?;
        Ok(())
    }
}

/// The file `key` names in `repo`, fetched and kept when `repo` is a proxy; `None` when no
/// repository it reads has it.
///
/// # Errors
/// [`Error::Upstream`] when a proxy's upstream fails or sends what does not verify, a
/// metadata or storage error.
pub async fn resolve<A: Artifacts>(
    state: &AppState,
    artifacts: &A,
    repo: &Repository,
    key: &A::Key,
) -> Result<Option<FileEntry>> {
    match repo.kind {
        RepoKind::Hosted => artifacts.stored(state, repo, key).await,
        RepoKind::Proxy => {
            if let Some(found) = artifacts.stored(state, repo, key).await? {
                return Ok(Some(found));
            }
            let _flight = state
                .upstream
                .flight(format!("{}:{}", repo.id, artifacts.flight(key)))
                .await;
            if let Some(found) = artifacts.stored(state, repo, key).await? {
                return Ok(Some(found));
            }
            let Some(located) = artifacts.locate(state, repo, key).await? else {
                return Ok(None);
            };
            let staged = artifacts.fetch(state, repo, &located).await?;
            verify(&located, &staged.digests)?;
            artifacts.store(state, repo, key, &located, staged).await?;
            artifacts.stored(state, repo, key).await
        }
        RepoKind::Group => {
            for member in members_for(state, repo, &artifacts.canonical(key)).await? {
                if let Some(found) = Box::pin(resolve(state, artifacts, &member, key)).await? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
    }
}

/// Checks what arrived against the upstream's other digests.
fn verify(located: &Located, digests: &Digests) -> Result<()> {
    let matches = match &located.expected {
        None | Some(Expected::Sha256(_)) => true,
        Some(Expected::Sha512(hex)) => hex.eq_ignore_ascii_case(&digests.sha512),
        Some(Expected::Sha1(hex)) => hex.eq_ignore_ascii_case(&digests.sha1),
    };
    if matches {
        Ok(())
    } else {
        Err(Error::Upstream(format!(
            "{} does not match the integrity its upstream lists",
            crate::redact::url(&located.url)
        )))
    }
}
