//! Where the Pantry API reads a package from. A hosted repository is read from its rows; a
//! proxy or a group — the original's "npm fallback", with Wharf caching what it fetches — from
//! the packument npm's `packument_of` assembles, and its tarballs through the same path npm
//! clients use (fetched once from the upstream, then kept); searches are completed from the
//! proxies' npm search.

use serde_json::{Map, Value};
use wharf_core::Result;
use wharf_core::model::{FileEntry, Package, PropertyOwner, RepoKind, Repository};
use wharf_server::AppState;
use wharf_server::groups::members_for;

use wharf_format_npm::usecases::{FULL, parse_member};

/// A package as the Pantry API sees it.
pub(crate) enum Source {
    /// A package of a hosted repository.
    Hosted(Package),
    /// The packument of a proxy or group repository (full form).
    Merged(Map<String, Value>),
}

/// One version: its manifest and when it was published (RFC 3339).
pub(crate) struct VersionView {
    pub manifest: Map<String, Value>,
    pub published_at: Option<String>,
}

impl Source {
    /// The package `name` of `repo`, `None` when it has none.
    pub(crate) async fn open(
        state: &AppState,
        repo: &Repository,
        name: &str,
        registry: &str,
    ) -> Result<Option<Self>> {
        if repo.kind == RepoKind::Hosted {
            return Ok(state.store.package(repo.id, name).await?.map(Self::Hosted));
        }
        Ok(
            wharf_format_npm::usecases::packument_of(state, repo, name, false, registry)
                .await?
                .map(Self::Merged),
        )
    }

    /// Every version, highest first (semver; others after, as listed).
    pub(crate) async fn versions(&self, state: &AppState) -> Result<Vec<String>> {
        let mut versions: Vec<String> = match self {
            Self::Hosted(package) => state
                .store
                .list_versions(package.id)
                .await?
                .into_iter()
                .map(|v| v.version)
                .collect(),
            Self::Merged(doc) => doc
                .get("versions")
                .and_then(Value::as_object)
                .map(|v| v.keys().cloned().collect())
                .unwrap_or_default(),
        };
        versions.sort_by(
            |a, b| match (semver::Version::parse(a), semver::Version::parse(b)) {
                (Ok(a), Ok(b)) => b.cmp(&a),
                (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                (Err(_), Err(_)) => std::cmp::Ordering::Equal,
            },
        );
        Ok(versions)
    }

    /// The version `latest` names, else the highest.
    pub(crate) async fn latest(&self, state: &AppState) -> Result<Option<String>> {
        let tagged = match self {
            Self::Hosted(package) => wharf_format_npm::usecases::head(state, package)
                .await?
                .tags
                .get("latest")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Self::Merged(doc) => doc["dist-tags"]["latest"].as_str().map(str::to_owned),
        };
        match tagged {
            Some(latest) => Ok(Some(latest)),
            None => Ok(self.versions(state).await?.into_iter().next()),
        }
    }

    /// One version's manifest, `None` when there is no such version.
    pub(crate) async fn version(
        &self,
        state: &AppState,
        version: &str,
    ) -> Result<Option<VersionView>> {
        match self {
            Self::Hosted(package) => {
                let Some(row) = state.store.version(package.id, version).await? else {
                    return Ok(None);
                };
                let member = state
                    .store
                    .properties(PropertyOwner::Version(row.id))
                    .await?
                    .into_iter()
                    .find_map(|(n, v)| (n == FULL).then_some(v));
                let Some(member) = member else {
                    return Ok(None);
                };
                Ok(Some(VersionView {
                    manifest: parse_member(&member)?.1,
                    published_at: Some(row.created_at.rfc3339()),
                }))
            }
            Self::Merged(doc) => Ok(doc["versions"][version].as_object().map(|m| VersionView {
                manifest: m.clone(),
                published_at: doc["time"][version].as_str().map(str::to_owned),
            })),
        }
    }
}

/// The stored tarball of `name@version` in `repo` or, for a group, in the members it reads
/// the name from; never fetched (a proxy's tarball is stored once someone downloaded it).
pub(crate) async fn stored_tarball(
    state: &AppState,
    repo: &Repository,
    name: &str,
    version: &str,
) -> Result<Option<FileEntry>> {
    let file = wharf_format_npm::usecases::tarball_name(name, version);
    if repo.kind != RepoKind::Group {
        return state.store.file(repo.id, name, version, &file).await;
    }
    for member in members_for(state, repo, &name.to_lowercase()).await? {
        if let Some(entry) = state.store.file(member.id, name, version, &file).await? {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// Up to `wanted` hits for `text` from the npm search (`/-/v1/search`) of the proxies `repo`
/// reads through (itself, or a group's proxy members), in the shape of Pantry's search; a
/// proxy whose upstream fails adds nothing (logged), as the original's fallback.
///
/// # Errors
/// A store failure while listing a group's members.
pub(crate) async fn upstream_search(
    state: &AppState,
    repo: &Repository,
    text: &str,
    wanted: usize,
) -> Result<Vec<Value>> {
    let (objects, _) =
        wharf_format_npm::usecases::upstream_objects(state, repo, text, wanted, 0).await?;
    let hits = objects.iter().filter_map(|object| {
        let package = &object["package"];
        let name = package["name"].as_str()?;
        let mut hit = Map::new();
        hit.insert("name".into(), Value::from(name));
        for key in ["version", "description", "keywords", "author"] {
            if let Some(value) = package.get(key).filter(|v| !v.is_null()) {
                hit.insert(key.into(), value.clone());
            }
        }
        let weekly = object["downloads"]["weekly"].as_u64().unwrap_or(0);
        hit.insert("downloads".into(), Value::from(weekly));
        Some(Value::Object(hit))
    });
    Ok(hits.take(wanted).collect())
}

/// The tarball of `name@version`, fetched from a proxy's upstream when not stored yet.
pub(crate) async fn tarball(
    state: &AppState,
    repo: &Repository,
    name: &str,
    version: &str,
) -> Result<Option<FileEntry>> {
    let file = wharf_format_npm::usecases::tarball_name(name, version);
    if repo.kind == RepoKind::Hosted {
        return state.store.file(repo.id, name, version, &file).await;
    }
    wharf_format_npm::usecases::tarball_of(state, repo, name, &file).await
}
