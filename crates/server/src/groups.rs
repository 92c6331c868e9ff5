//! What every format does the same way with repository kinds: where a write to a group goes
//! (its first hosted member), and which members a group reads a package from — in order, and
//! with the dependency-confusion guard, only the hosted ones when a hosted member has the
//! package, so a public package of the same name can never shadow or join a private one.

use wharf_core::model::{RepoKind, Repository};
use wharf_core::{Error, Result};

use crate::state::AppState;

/// The hosted repository a write to `repo` lands in.
///
/// # Errors
/// [`Error::Invalid`] for a proxy (read-only) or a group without a hosted member.
pub async fn hosted_target(state: &AppState, repo: &Repository) -> Result<Repository> {
    match repo.kind {
        RepoKind::Hosted => Ok(repo.clone()),
        RepoKind::Proxy => Err(Error::invalid(format!(
            "repository {} is a proxy of {} and read-only",
            repo.name,
            repo.upstream.as_deref().unwrap_or_default()
        ))),
        RepoKind::Group => {
            for member in &repo.members {
                let member = state.repository(&repo.format, member).await?;
                if member.kind == RepoKind::Hosted {
                    return Ok(member);
                }
            }
            Err(Error::invalid(format!(
                "group {} has no hosted member to publish to",
                repo.name
            )))
        }
    }
}

/// The members of `group`, in order.
///
/// # Errors
/// [`Error::NotFound`] when a member no longer exists.
pub async fn members(state: &AppState, group: &Repository) -> Result<Vec<Repository>> {
    let mut out = Vec::with_capacity(group.members.len());
    for name in &group.members {
        out.push(state.repository(&group.format, name).await?);
    }
    Ok(out)
}

/// The repositories of `kind` that `repo` reads through: itself when it is one, a group's
/// members of that kind, otherwise none.
///
/// # Errors
/// As [`members`].
pub async fn of_kind(
    state: &AppState,
    repo: &Repository,
    kind: RepoKind,
) -> Result<Vec<Repository>> {
    if repo.kind == kind {
        return Ok(vec![repo.clone()]);
    }
    if repo.kind != RepoKind::Group {
        return Ok(Vec::new());
    }
    Ok(members(state, repo)
        .await?
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect())
}

/// The members `group` reads the package of canonical name `canonical` from: all of them, or
/// only the hosted ones when a hosted member has it and the dependency-confusion guard is on.
///
/// # Errors
/// As [`members`], or a database error.
pub async fn members_for(
    state: &AppState,
    group: &Repository,
    canonical: &str,
) -> Result<Vec<Repository>> {
    let all = members(state, group).await?;
    if !state.config.dependency_confusion_guard {
        return Ok(all);
    }
    for member in all.iter().filter(|m| m.kind == RepoKind::Hosted) {
        if state
            .store
            .package_by_canonical(member.id, canonical)
            .await?
            .is_some()
        {
            return Ok(all
                .into_iter()
                .filter(|m| m.kind == RepoKind::Hosted)
                .collect());
        }
    }
    Ok(all)
}
