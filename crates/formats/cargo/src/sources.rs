//! Where index files and `.crate` files come from, by repository kind: a hosted repository
//! reads its own database; a proxy reads its upstream sparse index through the shared cache
//! and stores each `.crate` it fetches (checked against the index's `cksum`) as a file of its
//! own, kept for ever; a group merges its members in order, the first member's line winning
//! for a version — and, with the dependency-confusion guard, a name that exists in a hosted
//! member comes from hosted members only.

use bytes::Bytes;
use serde::Deserialize;
use wharf_core::digest::{DigestSet, Sha256};
use wharf_core::model::{FileEntry, RepoKind, Repository};
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::groups::members_for;
use wharf_server::render_cache::{RenderCache, Rendered};
use wharf_server::resolve::{Artifacts, Expected, Located, resolve};

use crate::index::{CHANGED, LINE};
use crate::names;

/// An index file's content and, for hosted repositories, when it last changed.
pub(crate) struct IndexBody {
    pub text: Bytes,
    pub changed: Option<Timestamp>,
    /// The entity tag, when known without hashing the text (hosted: the content tag).
    pub etag: Option<String>,
}

fn upstream_url(repo: &Repository, path: &str) -> Result<String> {
    let upstream = repo
        .upstream
        .as_deref()
        .ok_or_else(|| Error::internal_msg("proxy repository without an upstream"))?;
    let base = upstream.strip_prefix("sparse+").unwrap_or(upstream);
    Ok(format!("{}/{path}", base.trim_end_matches('/')))
}

/// The index file of `name` in `repo`, `None` when the crate is unknown there.
pub(crate) async fn index(
    state: &AppState,
    cache: &RenderCache,
    repo: &Repository,
    name: &str,
) -> Result<Option<IndexBody>> {
    match repo.kind {
        RepoKind::Hosted => hosted_index(state, cache, repo, name).await,
        RepoKind::Proxy => {
            let path = names::index_path(name);
            let url = upstream_url(repo, &path)?;
            let Some(body) = state
                .upstream
                .document(state, repo, &path, &url, None)
                .await?
            else {
                return Ok(None);
            };
            if std::str::from_utf8(&body).is_err() {
                return Err(Error::Upstream(format!(
                    "upstream {url}: index file is not UTF-8"
                )));
            }
            Ok(Some(IndexBody {
                text: Bytes::from(body),
                changed: None,
                etag: None,
            }))
        }
        RepoKind::Group => {
            let mut seen = std::collections::HashSet::new();
            let mut text = String::new();
            for member in members_for(state, repo, &names::canonical(name)).await? {
                let Some(body) = Box::pin(index(state, cache, &member, name)).await? else {
                    continue;
                };
                let lines = std::str::from_utf8(&body.text)
                    .map_err(|_| Error::internal_msg("index file is not UTF-8"))?;
                for line in lines.lines().filter(|l| !l.trim().is_empty()) {
                    if seen.insert(line_version(line)?) {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
            Ok((!text.is_empty()).then_some(IndexBody {
                text: Bytes::from(text),
                changed: None,
                etag: None,
            }))
        }
    }
}

/// A hosted index file: from the cache when the package's content tag is unchanged, else
/// from one aggregated row of the database.
async fn hosted_index(
    state: &AppState,
    cache: &RenderCache,
    repo: &Repository,
    name: &str,
) -> Result<Option<IndexBody>> {
    let Some(package) = state.store.package(repo.id, name).await? else {
        return Ok(None);
    };
    let tag = package.content_tag();
    let key = package.id.to_string();
    if let Some(hit) = cache.get(&key, &tag) {
        return Ok(Some(IndexBody {
            text: hit.body,
            changed: Some(hit.changed),
            etag: Some(format!("\"{tag}\"")),
        }));
    }
    let (lines, changed) = state
        .store
        .joined_version_property(package.id, LINE, CHANGED)
        .await?;
    let Some(mut text) = lines else {
        return Ok(None);
    };
    text.push('\n');
    let changed = Timestamp(changed.unwrap_or(0));
    let text = Bytes::from(text);
    cache.put(
        key,
        Rendered {
            tag: tag.clone(),
            body: text.clone(),
            changed,
        },
    );
    Ok(Some(IndexBody {
        text,
        changed: Some(changed),
        etag: Some(format!("\"{tag}\"")),
    }))
}

#[derive(Deserialize)]
struct LineKey {
    name: String,
    vers: String,
    cksum: String,
}

fn line_version(line: &str) -> Result<String> {
    serde_json::from_str::<LineKey>(line)
        .map(|k| k.vers)
        .map_err(|e| Error::Upstream(format!("an index line does not parse: {e}")))
}

/// The `.crate` of `name` `vers` in `repo`, fetched and cached when `repo` is a proxy.
pub(crate) async fn crate_file(
    state: &AppState,
    cache: &RenderCache,
    repo: &Repository,
    name: &str,
    vers: &str,
) -> Result<Option<FileEntry>> {
    let key = CrateVersion {
        name: name.to_owned(),
        vers: vers.to_owned(),
    };
    resolve(state, &Crates { cache }, repo, &key).await
}

/// A crate's version.
struct CrateVersion {
    name: String,
    vers: String,
}

/// The `.crate` files of cargo repositories, for [`resolve`]: named by crate and version.
struct Crates<'a> {
    cache: &'a RenderCache,
}

#[async_trait::async_trait]
impl Artifacts for Crates<'_> {
    type Key = CrateVersion;

    fn canonical(&self, key: &CrateVersion) -> String {
        names::canonical(&key.name)
    }

    fn flight(&self, key: &CrateVersion) -> String {
        format!("crate:{}:{}", key.name.to_ascii_lowercase(), key.vers)
    }

    fn digests(&self) -> DigestSet {
        DigestSet::SHA256
    }

    async fn stored(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &CrateVersion,
    ) -> Result<Option<FileEntry>> {
        let (name, vers) = (&key.name, &key.vers);
        let Some(package) = state.store.package(repo.id, name).await? else {
            return Ok(None);
        };
        let file = format!("{}-{vers}.crate", package.name);
        state.store.file(repo.id, &package.name, vers, &file).await
    }

    /// The index line's `cksum`, and the upstream's `dl` for the URL.
    async fn locate(
        &self,
        state: &AppState,
        repo: &Repository,
        key: &CrateVersion,
    ) -> Result<Option<Located>> {
        let (name, vers) = (&key.name, &key.vers);
        let Some(index) = index(state, self.cache, repo, name).await? else {
            return Ok(None);
        };
        let Some(line) = std::str::from_utf8(&index.text)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<LineKey>(l).ok())
            .find(|k| &k.vers == vers)
        else {
            return Ok(None);
        };
        let config_url = upstream_url(repo, "config.json")?;
        let config = state
            .upstream
            .document(state, repo, "config.json", &config_url, None)
            .await?
            .ok_or_else(|| Error::Upstream(format!("upstream {config_url}: no config.json")))?;
        let config: UpstreamConfig = serde_json::from_slice(&config)
            .map_err(|e| Error::Upstream(format!("upstream {config_url}: {e}")))?;
        let expected = Sha256::parse(&line.cksum)
            .map_err(|_| Error::Upstream(format!("upstream index: bad cksum for {name} {vers}")))?;
        Ok(Some(Located {
            url: download_url(&config.dl, &line.name, vers, &line.cksum),
            expected: Some(Expected::Sha256(expected)),
            file: format!("{}-{vers}.crate", line.name),
            canonical: Some(names::canonical(&line.name)),
            package: line.name,
            version: vers.clone(),
            properties: Vec::new(),
        }))
    }
}

#[derive(Deserialize)]
struct UpstreamConfig {
    dl: String,
}

/// The download URL from a registry's `dl`: its markers replaced, or `/{crate}/{version}/download`
/// appended when it has none (cargo's rule).
fn download_url(dl: &str, name: &str, vers: &str, cksum: &str) -> String {
    let markers = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    if !markers.iter().any(|m| dl.contains(m)) {
        return format!("{}/{name}/{vers}/download", dl.trim_end_matches('/'));
    }
    dl.replace("{crate}", name)
        .replace("{version}", vers)
        .replace("{lowerprefix}", &names::prefix(&name.to_ascii_lowercase()))
        .replace("{prefix}", &names::prefix(name))
        .replace("{sha256-checksum}", cksum)
}

#[cfg(test)]
mod tests {
    use super::download_url;

    #[test]
    fn download_urls_follow_cargo_markers() {
        assert_eq!(
            download_url("http://h/api/v1/crates", "Serde", "1.0.0", "ab"),
            "http://h/api/v1/crates/Serde/1.0.0/download"
        );
        assert_eq!(
            download_url(
                "https://static.example/crates/{crate}/{crate}-{version}.crate",
                "serde",
                "1.0.0",
                "ab"
            ),
            "https://static.example/crates/serde/serde-1.0.0.crate"
        );
        assert_eq!(
            download_url(
                "http://h/{prefix}/{lowerprefix}/{sha256-checksum}",
                "SeRde",
                "1",
                "cc"
            ),
            "http://h/Se/Rd/se/rd/cc"
        );
    }
}
