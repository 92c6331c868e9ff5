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
use wharf_core::digest::DigestSet;
use wharf_core::model::{FileEntry, RepoKind, Repository};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::groups::members_for;
use wharf_server::resolve::{Artifacts, Expected, Located, resolve};

use crate::names;
use crate::packument;

/// What npm asks an upstream for when it installs.
const ABBREVIATED_ACCEPT: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// A packument of `repo` as a JSON object, tarball URLs under `registry` (the URL the client
/// used). `None` when the repository does not have the package.
pub async fn packument_of(
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

/// A tarball of a repository: stored already, fetched from a proxy's upstream, or found in a
/// group's member. `None` when none has it.
pub async fn tarball_of(
    state: &AppState,
    repo: &Repository,
    name: &str,
    file: &str,
) -> Result<Option<FileEntry>> {
    let Some(version) = names::version_of_tarball(name, file) else {
        return Ok(None);
    };
    let key = TarballKey {
        name: name.to_owned(),
        version: version.to_owned(),
        file: file.to_owned(),
    };
    resolve(state, &Tarballs, repo, &key).await
}

/// A version's tarball.
struct TarballKey {
    name: String,
    version: String,
    file: String,
}

/// The tarballs of npm repositories, for [`resolve`].
struct Tarballs;

#[async_trait::async_trait]
impl Artifacts for Tarballs {
    type Key = TarballKey;

    fn canonical(&self, key: &TarballKey) -> String {
        key.name.to_lowercase()
    }

    fn flight(&self, key: &TarballKey) -> String {
        format!("npm:{}:{}", key.name, key.file)
    }

    fn digests(&self) -> DigestSet {
        crate::DIGESTS
    }

    async fn stored(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &TarballKey,
    ) -> Result<Option<FileEntry>> {
        state
            .store
            .file(repo.id, &key.name, &key.version, &key.file)
            .await
    }

    /// The tarball the upstream's packument lists for the version, with its integrity
    /// (`dist.integrity`, else `dist.shasum`; a tarball with neither is not taken).
    async fn locate(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &TarballKey,
    ) -> Result<Option<Located>> {
        let Some(doc) = upstream_packument(state, repo, &key.name, true).await? else {
            return Ok(None);
        };
        let Some(manifest) = doc.get("versions").and_then(|v| v.get(&key.version)) else {
            return Ok(None);
        };
        let Some(url) =
            upstream_tarball(manifest).filter(|u| basename(u).as_deref() == Some(&key.file))
        else {
            return Ok(None);
        };
        let dist = &manifest["dist"];
        let unverifiable = || {
            Error::Upstream(format!(
                "{url} does not match the integrity its packument lists: none Wharf can check"
            ))
        };
        let sha512 = dist["integrity"]
            .as_str()
            .and_then(|i| i.strip_prefix("sha512-"));
        let expected = match (sha512, dist["shasum"].as_str()) {
            (Some(b64), _) => Expected::Sha512(hex::encode(
                STANDARD.decode(b64).map_err(|_| unverifiable())?,
            )),
            (None, Some(sha1)) => Expected::Sha1(sha1.to_owned()),
            (None, None) => return Err(unverifiable()),
        };
        Ok(Some(Located {
            url,
            expected: Some(expected),
            package: key.name.clone(),
            canonical: None,
            version: key.version.clone(),
            file: key.file.clone(),
            properties: Vec::new(),
        }))
    }
}
