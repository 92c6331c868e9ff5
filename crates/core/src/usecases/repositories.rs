//! Creating repositories: the kinds each format implements, a proxy's default upstream, and
//! the rules a proxy's upstream and a group's members must follow — one use case for the
//! management API, the CLI and seed APIs that create repositories.

use crate::model::{NewRepository, RepoKind, Repository};
use crate::store::MetadataStore;
use crate::{Error, Result};

/// What a format allows of its repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepositoryRules {
    /// The format key (`npm`).
    pub format: &'static str,
    /// The repository kinds it implements.
    pub kinds: &'static [RepoKind],
    /// The upstream of a proxy created without one (`https://registry.npmjs.org/`).
    pub default_upstream: Option<&'static str>,
}

/// Checks and creates a repository of one of `formats`. Its kind must be one its format
/// implements; a proxy without an upstream gets the format's default one and needs an
/// `http(s)://` upstream; a group needs members that are existing hosted or proxy
/// repositories of its format, each named once; a hosted repository has neither.
///
/// # Errors
/// [`Error::Invalid`] for an unknown format or a broken rule, [`Error::NotFound`] for a member
/// that does not exist, [`Error::Conflict`] for a taken name or a member that is a group.
pub async fn create_repository(
    store: &dyn MetadataStore,
    formats: &[RepositoryRules],
    mut new: NewRepository,
) -> Result<Repository> {
    let rules = formats
        .iter()
        .find(|f| f.format == new.format)
        .ok_or_else(|| {
            let known: Vec<&str> = formats.iter().map(|f| f.format).collect();
            Error::invalid(format!(
                "unknown format {:?}; this server has {}",
                new.format,
                known.join(", ")
            ))
        })?;
    if !rules.kinds.contains(&new.kind) {
        return Err(Error::invalid(format!(
            "the {} format does not implement {} repositories",
            rules.format,
            new.kind.as_str()
        )));
    }
    if new.kind == RepoKind::Proxy && new.upstream.is_none() {
        new.upstream = rules.default_upstream.map(str::to_owned);
    }
    check(store, &new).await?;
    store.create_repository(&new).await
}

/// The kind's rules for upstream and members.
async fn check(store: &dyn MetadataStore, new: &NewRepository) -> Result<()> {
    match new.kind {
        RepoKind::Hosted => {
            if new.upstream.is_some() || !new.members.is_empty() {
                return Err(Error::invalid(
                    "a hosted repository has no upstream and no members",
                ));
            }
        }
        RepoKind::Proxy => {
            let upstream = new
                .upstream
                .as_deref()
                .ok_or_else(|| Error::invalid("a proxy repository needs an upstream URL"))?;
            if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
                return Err(Error::invalid(format!(
                    "upstream {upstream:?} must be an http:// or https:// URL"
                )));
            }
            if !new.members.is_empty() {
                return Err(Error::invalid("a proxy repository has no members"));
            }
        }
        RepoKind::Group => {
            if new.members.is_empty() || new.upstream.is_some() {
                return Err(Error::invalid(
                    "a group repository needs members and no upstream",
                ));
            }
            for (i, member) in new.members.iter().enumerate() {
                if new.members[..i].contains(member) {
                    return Err(Error::invalid(format!("member {member} is listed twice")));
                }
                let repo = store
                    .repository(&new.format, member)
                    .await?
                    .ok_or_else(|| {
                        Error::not_found(format!(
                            "member {member} is not a {} repository",
                            new.format
                        ))
                    })?;
                if repo.kind == RepoKind::Group {
                    return Err(Error::conflict(format!(
                        "member {member} is a group; groups contain hosted and proxy repositories"
                    )));
                }
            }
        }
    }
    Ok(())
}
