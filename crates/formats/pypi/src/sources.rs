//! Where a project's files, their bytes and their core metadata come from, by repository
//! kind: a hosted repository reads its database; a proxy reads its upstream's simple pages
//! through the shared cache (fresh for `proxy.metadata_max_age`, then revalidated, stale
//! while the upstream is down) and stores each file it fetches — checked against the page's
//! SHA-256 — as a file of its own, kept for ever; a group merges its members in order, the
//! first member's file of a name winning, and with the dependency-confusion guard a project
//! that exists in a hosted member comes from hosted members only.

use wharf_core::digest::{DigestSet, Sha256};
use wharf_core::model::{FileEntry, Package, PropertyOwner, RepoKind, Repository};
use wharf_core::usecases::PropertyTarget;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::groups::{members, members_for};
use wharf_server::resolve::{Artifacts, Expected, Located, resolve};

use crate::names::{normalize, parse_filename};
use crate::pages::{
    FILETYPE, FileInfo, METADATA, METADATA_SHA256, MetadataLink, PYVERSION, REQUIRES_PYTHON, YANKED,
};
use crate::remote::{self, RemoteFile};

/// How files are addressed in the pages being rendered: the server's base URL and the
/// repository the client asked (a group's files are served through the group).
pub(crate) struct Shown<'a> {
    pub base: &'a str,
    pub repo: &'a str,
}

impl Shown<'_> {
    fn url(&self, project: &str, version: &str, file: &str) -> String {
        format!(
            "{}/pypi/{}/files/{project}/{version}/{file}",
            self.base, self.repo
        )
    }
}

/// The hosted package of a normalized project name.
pub(crate) async fn hosted_package(
    state: &AppState,
    repo: &Repository,
    project: &str,
) -> Result<Option<Package>> {
    state.store.package_by_canonical(repo.id, project).await
}

/// The files of a hosted package, oldest release first: two queries, whatever their number.
pub(crate) async fn hosted_files(
    state: &AppState,
    shown: &Shown<'_>,
    package: &Package,
    project: &str,
) -> Result<Vec<FileInfo>> {
    let yanks: std::collections::HashMap<i64, String> = state
        .store
        .versions_with_properties(package.id)
        .await?
        .into_iter()
        .filter_map(|(v, props)| {
            props
                .into_iter()
                .find_map(|(k, reason)| (k == YANKED).then_some((v.id, reason)))
        })
        .collect();
    let wanted = [FILETYPE, PYVERSION, REQUIRES_PYTHON, METADATA_SHA256];
    let files = state.store.package_files(package.id, &wanted).await?;
    Ok(files
        .into_iter()
        .map(|f| {
            let prop = |name: &str| {
                f.properties
                    .iter()
                    .find_map(|(k, v)| (k == name).then(|| v.clone()))
            };
            FileInfo {
                url: shown.url(project, &f.version.version, &f.file.name),
                filename: f.file.name.clone(),
                size: Some(f.file.blob.size),
                sha256: Some(f.file.blob.sha256.to_string()),
                md5: Some(f.file.blob.md5.clone()),
                uploaded: Some(f.file.created_at.rfc3339()),
                filetype: prop(FILETYPE).unwrap_or_default(),
                pyversion: prop(PYVERSION).unwrap_or_default(),
                requires_python: prop(REQUIRES_PYTHON),
                core_metadata: prop(METADATA_SHA256)
                    .map_or(MetadataLink::Absent, MetadataLink::Sha256),
                yanked: yanks.get(&f.version.id).cloned(),
                version: f.version.version,
            }
        })
        .collect())
}

fn upstream_root(repo: &Repository) -> Result<&str> {
    repo.upstream
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .ok_or_else(|| Error::internal_msg("proxy repository without an upstream"))
}

/// The files of an upstream project page, `None` when the upstream has no such project.
async fn remote_files(
    state: &AppState,
    repo: &Repository,
    project: &str,
) -> Result<Option<Vec<RemoteFile>>> {
    let url = format!("{}/{project}/", upstream_root(repo)?);
    let key = format!("simple/{project}");
    let Some(body) = state
        .upstream
        .document(state, repo, &key, &url, Some(remote::ACCEPT))
        .await?
    else {
        return Ok(None);
    };
    remote::project_files(&url, &body).map(Some)
}

fn remote_info(shown: &Shown<'_>, project: &str, f: RemoteFile) -> Option<FileInfo> {
    let dist = parse_filename(&f.filename).ok()?;
    Some(FileInfo {
        url: shown.url(project, &dist.version, &f.filename),
        version: dist.version,
        filetype: dist.kind.filetype().to_owned(),
        pyversion: String::new(),
        filename: f.filename,
        size: f.size,
        sha256: f.sha256,
        md5: None,
        uploaded: f.upload_time,
        requires_python: f.requires_python,
        core_metadata: f.core_metadata,
        yanked: f.yanked,
    })
}

/// The files of `project` (normalized) in `repo`, `None` when it has no such project.
pub(crate) async fn project_files(
    state: &AppState,
    shown: &Shown<'_>,
    repo: &Repository,
    project: &str,
) -> Result<Option<Vec<FileInfo>>> {
    match repo.kind {
        RepoKind::Hosted => match hosted_package(state, repo, project).await? {
            Some(package) => hosted_files(state, shown, &package, project)
                .await
                .map(Some),
            None => Ok(None),
        },
        RepoKind::Proxy => Ok(remote_files(state, repo, project).await?.map(|files| {
            files
                .into_iter()
                .filter_map(|f| remote_info(shown, project, f))
                .collect()
        })),
        RepoKind::Group => {
            let mut merged: Option<Vec<FileInfo>> = None;
            for member in members_for(state, repo, project).await? {
                let Some(files) = Box::pin(project_files(state, shown, &member, project)).await?
                else {
                    continue;
                };
                let out = merged.get_or_insert_with(Vec::new);
                for file in files {
                    if !out.iter().any(|f| f.filename == file.filename) {
                        out.push(file);
                    }
                }
            }
            Ok(merged)
        }
    }
}

async fn stored_file(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    let Some(package) = hosted_package(state, repo, project).await? else {
        return Ok(None);
    };
    state
        .store
        .file(repo.id, &package.name, version, file)
        .await
}

/// A distribution file of `repo`, fetched from the upstream and kept when `repo` is a proxy.
pub(crate) async fn file_entry(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    let key = Distribution {
        project: project.to_owned(),
        version: version.to_owned(),
        file: file.to_owned(),
    };
    resolve(state, &Distributions, repo, &key).await
}

/// A distribution file: the project's normalized name, the release, the file name.
struct Distribution {
    project: String,
    version: String,
    file: String,
}

/// The distribution files of PyPI repositories, for [`resolve`].
struct Distributions;

#[async_trait::async_trait]
impl Artifacts for Distributions {
    type Key = Distribution;

    fn canonical(&self, key: &Distribution) -> String {
        key.project.clone()
    }

    fn flight(&self, key: &Distribution) -> String {
        format!("pypi-file:{}", key.file)
    }

    fn digests(&self) -> DigestSet {
        crate::DIGESTS
    }

    async fn stored(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &Distribution,
    ) -> Result<Option<FileEntry>> {
        stored_file(state, repo, &key.project, &key.version, &key.file).await
    }

    /// The file the upstream's project page lists, with its SHA-256.
    async fn locate(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &Distribution,
    ) -> Result<Option<Located>> {
        let Some(listed) = remote_files(state, repo, &key.project)
            .await?
            .and_then(|files| files.into_iter().find(|f| f.filename == key.file))
        else {
            return Ok(None);
        };
        let dist = parse_filename(&key.file)?;
        if dist.project != key.project || dist.version != key.version {
            return Ok(None);
        }
        let expected = listed
            .sha256
            .as_deref()
            .map(Sha256::parse)
            .transpose()
            .map_err(|_| {
                Error::Upstream(format!("upstream lists a bad sha256 for {}", key.file))
            })?;
        let mut properties = vec![(
            PropertyTarget::File,
            FILETYPE.to_owned(),
            dist.kind.filetype().to_owned(),
        )];
        if let Some(rp) = listed.requires_python {
            properties.push((PropertyTarget::File, REQUIRES_PYTHON.to_owned(), rp));
        }
        Ok(Some(Located {
            url: listed.url,
            expected: expected.map(Expected::Sha256),
            package: key.project.clone(),
            canonical: Some(key.project.clone()),
            version: key.version.clone(),
            file: key.file.clone(),
            properties,
        }))
    }
}

/// The core metadata (PEP 658) of a file of `repo`, `None` when none is served.
pub(crate) async fn core_metadata(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    file: &str,
) -> Result<Option<String>> {
    match repo.kind {
        RepoKind::Hosted => {
            let Some(entry) = stored_file(state, repo, project, version, file).await? else {
                return Ok(None);
            };
            let props = state
                .store
                .properties(PropertyOwner::File(entry.id))
                .await?;
            Ok(props
                .into_iter()
                .find_map(|(k, v)| (k == METADATA).then_some(v)))
        }
        RepoKind::Proxy => upstream_metadata(state, repo, project, file).await,
        RepoKind::Group => {
            for member in members_for(state, repo, project).await? {
                if let Some(found) =
                    Box::pin(core_metadata(state, &member, project, version, file)).await?
                {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
    }
}

/// The core metadata (PEP 658) of an upstream's file, checked against the SHA-256 its page
/// gives for it; `None` when the page offers none.
async fn upstream_metadata(
    state: &AppState,
    repo: &Repository,
    project: &str,
    file: &str,
) -> Result<Option<String>> {
    let Some(listed) = remote_files(state, repo, project)
        .await?
        .and_then(|files| files.into_iter().find(|f| f.filename == file))
    else {
        return Ok(None);
    };
    let expected = match listed.core_metadata {
        MetadataLink::Absent => return Ok(None),
        MetadataLink::Unhashed => None,
        MetadataLink::Sha256(sha) => Some(sha),
    };
    let url = format!("{}.metadata", listed.url);
    let Some(body) = state
        .upstream
        .document(state, repo, &format!("metadata/{file}"), &url, None)
        .await?
    else {
        return Ok(None);
    };
    if let Some(expected) = expected
        && !expected
            .eq_ignore_ascii_case(&wharf_core::digest::digest_bytes(&body).sha256.to_string())
    {
        return Err(Error::Upstream(format!(
            "upstream {url}: the core metadata does not match its sha256"
        )));
    }
    String::from_utf8(body)
        .map(Some)
        .map_err(|_| Error::Upstream(format!("upstream {url}: metadata is not UTF-8")))
}

/// Every project of `repo` as `(name, normalized)`, sorted by normalized name.
pub(crate) async fn project_names(
    state: &AppState,
    repo: &Repository,
) -> Result<Vec<(String, String)>> {
    let mut names: Vec<(String, String)> = Vec::new();
    match repo.kind {
        RepoKind::Hosted => {
            let packages = state.store.all_packages(repo.id).await?;
            names.extend(
                packages
                    .iter()
                    .map(|p| (p.name.clone(), normalize(&p.name))),
            );
        }
        RepoKind::Proxy => {
            let url = format!("{}/", upstream_root(repo)?);
            if let Some(body) = state
                .upstream
                .document(state, repo, "simple/", &url, Some(remote::ACCEPT))
                .await?
            {
                names = remote::project_names(&url, &body)?
                    .into_iter()
                    .map(|n| {
                        let normalized = normalize(&n);
                        (n, normalized)
                    })
                    .collect();
            }
        }
        RepoKind::Group => {
            for member in members(state, repo).await? {
                names.extend(Box::pin(project_names(state, &member)).await?);
            }
        }
    }
    names.sort_by(|a, b| a.1.cmp(&b.1));
    names.dedup_by(|a, b| a.1 == b.1);
    Ok(names)
}
