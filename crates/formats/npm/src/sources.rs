//! Packuments and tarballs of proxy and group repositories. A proxy reads its upstream's
//! packument (cached in the database, revalidated after `proxy.metadata_max_age`, served stale
//! while the upstream is down), points every tarball at itself, and fetches a tarball once,
//! checked against the packument's `dist.integrity` (or `shasum`), keeping it for ever. A group
//! merges its members' packuments in order — the first member that has a version or a
//! dist-tag wins — reading a name a hosted member has from hosted members only (the
//! dependency-confusion guard).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use wharf_core::model::{FileEntry, RepoKind, Repository};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::usecases::{PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::groups::members_for;

use crate::names;
use crate::packument;

/// What npm asks an upstream for when it installs.
const ABBREVIATED_ACCEPT: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// A packument of `repo` as a JSON object, tarball URLs under `registry` (the URL the client
/// used). `None` when the repository does not have the package.
pub(crate) async fn packument_of(
    state: &AppState,
    repo: &Repository,
    name: &str,
    abbreviated: bool,
    registry: &str,
) -> Result<Option<Map<String, Value>>> {
    match repo.kind {
        RepoKind::Hosted => {
            let Some(package) = state.store.package(repo.id, name).await? else {
                return Ok(None);
            };
            let Some(text) = packument::render(state, &package, abbreviated, registry).await?
            else {
                return Ok(None);
            };
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::internal("reading a rendered packument", e))
        }
        RepoKind::Proxy => {
            let Some(mut doc) = upstream_packument(state, repo, name, abbreviated).await? else {
                return Ok(None);
            };
            for (_, manifest) in versions_mut(&mut doc) {
                if let Some(file) = upstream_tarball(manifest).and_then(|u| basename(&u)) {
                    manifest["dist"]["tarball"] =
                        Value::from(format!("{registry}/{name}/-/{file}"));
                }
            }
            Ok(Some(doc))
        }
        RepoKind::Group => {
            let mut merged: Option<Map<String, Value>> = None;
            for member in members_for(state, repo, &name.to_lowercase()).await? {
                let Some(doc) =
                    Box::pin(packument_of(state, &member, name, abbreviated, registry)).await?
                else {
                    continue;
                };
                match &mut merged {
                    None => merged = Some(doc),
                    Some(first) => merge(first, doc),
                }
            }
            Ok(merged)
        }
    }
}

/// Adds what `later` has and `first` lacks: versions, dist-tags, times.
fn merge(first: &mut Map<String, Value>, mut later: Map<String, Value>) {
    for key in ["versions", "dist-tags", "time"] {
        let Some(Value::Object(theirs)) = later.remove(key) else {
            continue;
        };
        let ours = first
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ours) = ours {
            for (k, v) in theirs {
                ours.entry(k).or_insert(v);
            }
        }
    }
}

fn versions_mut(doc: &mut Map<String, Value>) -> impl Iterator<Item = (&String, &mut Value)> {
    doc.get_mut("versions")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|v| v.iter_mut())
}

fn upstream_tarball(manifest: &Value) -> Option<String> {
    manifest["dist"]["tarball"].as_str().map(str::to_owned)
}

fn basename(url: &str) -> Option<String> {
    url.rsplit('/')
        .next()
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
}

/// The upstream's packument, as cached.
async fn upstream_packument(
    state: &AppState,
    repo: &Repository,
    name: &str,
    abbreviated: bool,
) -> Result<Option<Map<String, Value>>> {
    let root = repo
        .upstream
        .as_deref()
        .ok_or_else(|| Error::internal_msg("a proxy repository without an upstream"))?
        .trim_end_matches('/');
    let url = format!("{root}/{}", name.replace('/', "%2f"));
    let key = format!(
        "packument/{}/{name}",
        if abbreviated { "abbreviated" } else { "full" }
    );
    let accept = if abbreviated {
        ABBREVIATED_ACCEPT
    } else {
        "application/json"
    };
    let Some(body) = state
        .upstream
        .document(state, repo, &key, &url, Some(accept))
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| Error::Upstream(format!("{url} is not a packument: {e}")))
}

/// A tarball of a proxy or group repository: stored already, fetched from the upstream, or
/// found in a member. `None` when none has it.
pub(crate) async fn tarball_of(
    state: &AppState,
    repo: &Repository,
    name: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    let Some(version) = names::version_of_tarball(name, file) else {
        return Ok(None);
    };
    if let Some(entry) = state.store.file(repo.id, name, version, file).await? {
        return Ok(Some(entry));
    }
    match repo.kind {
        RepoKind::Hosted => Ok(None),
        RepoKind::Proxy => fetch_tarball(state, repo, name, version, file).await,
        RepoKind::Group => {
            for member in members_for(state, repo, &name.to_lowercase()).await? {
                if let Some(entry) = Box::pin(tarball_of(state, &member, name, file)).await? {
                    return Ok(Some(entry));
                }
            }
            Ok(None)
        }
    }
}

/// Fetches a tarball the upstream's packument lists (once, under single flight), checks it
/// against `dist.integrity` or `dist.shasum`, and stores it in the proxy repository.
async fn fetch_tarball(
    state: &AppState,
    repo: &Repository,
    name: &str,
    version: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    let Some(doc) = upstream_packument(state, repo, name, true).await? else {
        return Ok(None);
    };
    let Some(manifest) = doc.get("versions").and_then(|v| v.get(version)) else {
        return Ok(None);
    };
    let Some(url) = upstream_tarball(manifest).filter(|u| basename(u).as_deref() == Some(file))
    else {
        return Ok(None);
    };
    let _flight = state
        .upstream
        .flight(format!("npm:{}:{name}:{file}", repo.id))
        .await;
    if let Some(entry) = state.store.file(repo.id, name, version, file).await? {
        return Ok(Some(entry));
    }
    let staged = state
        .upstream
        .fetch_artifact(
            &state.blobs,
            repo,
            &url,
            None,
            crate::DIGESTS,
            state.upload_limit(repo),
        )
        .await?;
    let dist = &manifest["dist"];
    let integrity = dist["integrity"]
        .as_str()
        .and_then(|i| i.strip_prefix("sha512-"));
    let verified = match (integrity, dist["shasum"].as_str()) {
        (Some(sha512), _) => STANDARD
            .decode(sha512)
            .is_ok_and(|raw| hex::encode(raw) == staged.digests.sha512),
        (None, Some(sha1)) => sha1.eq_ignore_ascii_case(&staged.digests.sha1),
        (None, None) => false,
    };
    if !verified {
        return Err(Error::Upstream(format!(
            "{url} does not match the integrity its packument lists"
        )));
    }
    publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: repo,
            package: &PackageName::new(name)?,
            canonical: None,
            version: &VersionName::new(version)?,
            file: &FileName::new(file)?,
            mode: PublishMode::CreateOrAdd,
            properties: Vec::new(),
        },
        staged,
    )
    .await?;
    state.store.file(repo.id, name, version, file).await
}
