//! Creating repositories: the rules a proxy's upstream and a group's members must follow.

use crate::model::{NewRepository, RepoKind, Repository};
use crate::store::MetadataStore;
use crate::{Error, Result};

/// Checks and creates a repository. A proxy needs an `http(s)://` upstream; a group needs
/// members that are existing hosted or proxy repositories of its format, each named once;
/// a hosted repository has neither.
///
/// # Errors
/// [`Error::Invalid`] for a broken rule, [`Error::NotFound`] for a member that does not exist,
/// [`Error::Conflict`] for a taken name or a member that is a group.
pub async fn create_repository(
    store: &dyn MetadataStore,
    new: &NewRepository,
) -> Result<Repository> {
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
    store.create_repository(new).await
}
