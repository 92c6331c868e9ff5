//! The per-version fragments a packument is assembled from, made once at publish time (and
//! again when a version is deprecated): the full manifest, the abbreviated one npm and pnpm
//! install from, and the publish time — each a `"version":…` JSON member, so a packument is
//! a join of stored text. Tarball URLs are stored with a [`BASE`] marker that rendering
//! replaces by the repository's URL.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use wharf_core::digest::Digests;
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};

/// Version property: the full manifest member.
pub const FULL: &str = "npm.full";
/// Version property: the abbreviated manifest member.
pub(crate) const ABBREV: &str = "npm.abbrev";
/// Version property: the publish time member of `time`.
pub(crate) const TIME: &str = "npm.time";
/// Version property: the readme published with the version.
pub(crate) const README: &str = "npm.readme";
/// Package property prefix of dist-tags: `npm.tag.latest` = `1.2.3`.
pub(crate) const TAG_PREFIX: &str = "npm.tag.";
/// Package property: what search shows of the last publish (description, keywords, version).
pub(crate) const SUMMARY: &str = "npm.summary";
/// Package property: when the package last changed — a publish, a deprecation, an unpublished
/// version or a dist-tag (unix milliseconds).
pub(crate) const MODIFIED: &str = "npm.modified";

/// What stands for `{registry URL of the repository}` in stored tarball URLs: the JSON text
/// of a string starting with U+0001, which serde_json always writes escaped.
pub(crate) const BASE: &str = "\"\\u0001";

/// The largest readme a version keeps.
pub(crate) const MAX_README: usize = 1 << 20;
/// The largest manifest a version keeps (its full member, readme apart): every packument
/// carries one per version, so this bounds what rendering one costs per version.
pub(crate) const MAX_MANIFEST: usize = 1 << 20;

/// The fields of a version the abbreviated packument keeps (npm's "corgi" documents).
const ABBREVIATED: [&str; 17] = [
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "dist",
    "engines",
    "cpu",
    "os",
    "libc",
];

/// The integrity string of content: `sha512-{base64}`.
pub(crate) fn integrity(digests: &Digests) -> String {
    let raw = hex::decode(&digests.sha512).unwrap_or_default();
    format!("sha512-{}", STANDARD.encode(raw))
}

/// A version as published, ready to store.
pub(crate) struct Fragments {
    pub full: String,
    pub abbrev: String,
    pub time: String,
    pub readme: Option<String>,
    pub summary: String,
}

/// What a publish knows besides the client's manifest.
pub(crate) struct Published<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub file: &'a str,
    pub digests: &'a Digests,
    pub publisher: &'a str,
    pub at: Timestamp,
}

/// Checks the client's `dist` against the stored content, when it sent one.
fn check_dist(manifest: &Map<String, Value>, digests: &Digests) -> Result<()> {
    let dist = manifest.get("dist").and_then(Value::as_object);
    let sent = |key: &str| dist.and_then(|d| d.get(key)).and_then(Value::as_str);
    let integrity = integrity(digests);
    if let Some(expected) = sent("integrity")
        && expected.starts_with("sha512-")
        && expected != integrity
    {
        return Err(Error::DigestMismatch {
            expected: expected.to_owned(),
            actual: integrity,
        });
    }
    if let Some(expected) = sent("shasum")
        && !expected.eq_ignore_ascii_case(&digests.sha1)
    {
        return Err(Error::DigestMismatch {
            expected: expected.to_owned(),
            actual: digests.sha1.clone(),
        });
    }
    Ok(())
}

/// Builds the stored fragments of a newly published version from the client's manifest.
///
/// # Errors
/// [`Error::DigestMismatch`] when the client's `dist` disagrees with the tarball.
pub(crate) fn fragments(mut manifest: Map<String, Value>, p: &Published<'_>) -> Result<Fragments> {
    check_dist(&manifest, p.digests)?;
    let readme = match manifest.remove("readme") {
        Some(Value::String(text)) if !text.is_empty() => Some(text),
        _ => None,
    };
    if let Some(readme) = readme.as_ref().filter(|r| r.len() > MAX_README) {
        return Err(Error::invalid(format!(
            "the readme of {}@{} is {} bytes; at most {MAX_README} are kept",
            p.name,
            p.version,
            readme.len()
        )));
    }
    let dist = dist(manifest.remove("dist"), p);
    manifest.insert("name".into(), json!(p.name));
    manifest.insert("version".into(), json!(p.version));
    manifest.insert("_id".into(), json!(format!("{}@{}", p.name, p.version)));
    manifest.insert("_npmUser".into(), json!({"name": p.publisher}));
    manifest.insert("dist".into(), dist);
    if has_install_script(&manifest) {
        manifest.insert("hasInstallScript".into(), json!(true));
    }
    let summary = json!({
        "description": manifest.get("description").cloned().unwrap_or(Value::Null),
        "keywords": manifest.get("keywords").cloned().unwrap_or(json!([])),
        "version": p.version,
        "date": p.at.rfc3339(),
        "publisher": p.publisher,
    });
    let (full, abbrev) = members(p.version, &manifest);
    if full.len() > MAX_MANIFEST {
        return Err(Error::invalid(format!(
            "the manifest of {}@{} is {} bytes; at most {MAX_MANIFEST} are kept (readme apart)",
            p.name,
            p.version,
            full.len()
        )));
    }
    Ok(Fragments {
        full,
        abbrev,
        time: member(p.version, &json!(p.at.rfc3339())),
        readme,
        summary: summary.to_string(),
    })
}

/// The version's `dist`: the digests and tarball URL of what was stored, with the file count
/// and unpacked size the client sent.
fn dist(sent: Option<Value>, p: &Published<'_>) -> Value {
    let mut dist = Map::new();
    if let Some(Value::Object(sent)) = sent {
        for key in ["fileCount", "unpackedSize"] {
            if let Some(n) = sent.get(key).filter(|v| v.is_u64()) {
                dist.insert(key.to_owned(), n.clone());
            }
        }
    }
    dist.insert("integrity".into(), json!(integrity(p.digests)));
    dist.insert("shasum".into(), json!(p.digests.sha1));
    dist.insert(
        "tarball".into(),
        json!(format!("\u{1}/{}/-/{}", p.name, p.file)),
    );
    Value::Object(dist)
}

/// Whether the manifest runs a script at install (`hasInstallScript`, which npm reads from
/// the abbreviated packument).
fn has_install_script(manifest: &Map<String, Value>) -> bool {
    manifest
        .get("scripts")
        .and_then(Value::as_object)
        .is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        })
}

fn member(version: &str, value: &Value) -> String {
    format!("{}:{value}", Value::from(version))
}

/// The full and abbreviated members of a stored manifest.
fn members(version: &str, manifest: &Map<String, Value>) -> (String, String) {
    let mut abbrev: Map<String, Value> = ABBREVIATED
        .iter()
        .filter_map(|k| manifest.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    if manifest.get("hasInstallScript") == Some(&json!(true)) {
        abbrev.insert("hasInstallScript".into(), json!(true));
    }
    (
        member(version, &Value::Object(manifest.clone())),
        member(version, &Value::Object(abbrev)),
    )
}

/// The manifest of a stored full member (`"1.0.0":{…}` → `{…}`).
///
/// # Errors
/// [`Error::Internal`] when the stored text is damaged.
pub fn parse_member(member: &str) -> Result<(String, Map<String, Value>)> {
    let wrapped: Map<String, Value> = serde_json::from_str(&format!("{{{member}}}"))
        .map_err(|e| Error::internal("reading a stored npm manifest", e))?;
    wrapped
        .into_iter()
        .next()
        .and_then(|(v, m)| match m {
            Value::Object(m) => Some((v, m)),
            _ => None,
        })
        .ok_or_else(|| Error::internal_msg("a stored npm manifest is empty"))
}

/// The full and abbreviated members of a stored manifest after `npm deprecate` (an empty
/// message un-deprecates).
pub(crate) fn deprecated(
    version: &str,
    mut manifest: Map<String, Value>,
    message: &str,
) -> (String, String) {
    if message.is_empty() {
        manifest.remove("deprecated");
    } else {
        manifest.insert("deprecated".into(), json!(message));
    }
    members(version, &manifest)
}

/// Replaces the [`BASE`] marker by `registry` (the repository's URL, no trailing `/`).
pub(crate) fn with_base(text: &str, registry: &str) -> String {
    text.replace(BASE, &format!("\"{registry}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::digest::Sha256;

    fn digests() -> Digests {
        Digests {
            sha256: Sha256::parse(&"0".repeat(64)).unwrap(),
            sha1: "11f6ad8ec52a2984abaafd7c3b516503785c2072".into(),
            md5: String::new(),
            sha512: "00".repeat(64),
        }
    }

    /// The fragments of `a@1.0.0` published by `ann` with `manifest`.
    fn fragments_of(manifest: &Value) -> Result<Fragments> {
        let digests = digests();
        fragments(
            manifest.as_object().unwrap().clone(),
            &Published {
                name: "a",
                version: "1.0.0",
                file: "a-1.0.0.tgz",
                digests: &digests,
                publisher: "ann",
                at: Timestamp(0),
            },
        )
    }

    #[test]
    fn stores_members_with_the_base_marker() {
        let manifest = json!({"name": "a", "version": "1.0.0", "readme": "# A",
            "dependencies": {"b": "^1"}, "scripts": {"postinstall": "x"}, "description": "d\u{1}/"});
        let f = fragments_of(&manifest).unwrap();
        assert_eq!(f.readme.as_deref(), Some("# A"));
        let abbrev = with_base(&f.abbrev, "http://h/npm/main");
        assert!(abbrev.contains("\"tarball\":\"http://h/npm/main/a/-/a-1.0.0.tgz\""));
        assert!(abbrev.contains("\"hasInstallScript\":true"));
        assert!(!abbrev.contains("description"));
        let full = with_base(&f.full, "http://h/npm/main");
        assert!(full.contains("\"_npmUser\":{\"name\":\"ann\"}"));
        let (version, parsed) = parse_member(&f.full).unwrap();
        assert_eq!(version, "1.0.0");
        assert_eq!(parsed["description"], "d\u{1}/");
    }

    #[test]
    fn refuses_a_dist_that_disagrees() {
        let manifest = json!({"dist": {"shasum": "0000"}});
        let e = fragments_of(&manifest);
        assert!(matches!(e, Err(Error::DigestMismatch { .. })));
    }
}
