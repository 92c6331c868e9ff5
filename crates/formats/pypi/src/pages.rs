//! The documents clients read: the simple repository API as PEP 503 HTML or PEP 691 JSON
//! (with PEP 592 yanks, PEP 658/714 core-metadata, PEP 700 `versions`, `size`,
//! `upload-time`), and the JSON project API.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// File property: `bdist_wheel` or `sdist`.
pub(crate) const FILETYPE: &str = "pypi.filetype";
/// File property: the upload's `pyversion`.
pub(crate) const PYVERSION: &str = "pypi.pyversion";
/// File property: `Requires-Python`.
pub(crate) const REQUIRES_PYTHON: &str = "pypi.requires_python";
/// File property: the core metadata file.
pub(crate) const METADATA: &str = "pypi.metadata";
/// File property: the SHA-256 of the core metadata file.
pub(crate) const METADATA_SHA256: &str = "pypi.metadata_sha256";
/// Version property: the yank reason (present, possibly empty, when yanked).
pub(crate) const YANKED: &str = "pypi.yanked";

/// Whether a file's core metadata (PEP 658) is served, with its SHA-256 when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MetadataLink {
    Absent,
    Unhashed,
    Sha256(String),
}

impl MetadataLink {
    pub(crate) fn is_served(&self) -> bool {
        *self != Self::Absent
    }
}

/// One distribution file of a project, as the pages show it.
pub(crate) struct FileInfo {
    pub version: String,
    pub filename: String,
    pub url: String,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub md5: Option<String>,
    /// RFC 3339.
    pub uploaded: Option<String>,
    pub filetype: String,
    pub pyversion: String,
    pub requires_python: Option<String>,
    pub core_metadata: MetadataLink,
    pub yanked: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// PEP 503 project page.
pub(crate) fn project_html(name: &str, files: &[FileInfo]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for {0}</title>\n  </head>\n  <body>\n    <h1>Links for {0}</h1>\n",
        escape(name)
    );
    for f in files {
        let mut attrs = String::new();
        if let Some(rp) = &f.requires_python {
            let _ = write!(attrs, " data-requires-python=\"{}\"", escape(rp));
        }
        let value = match &f.core_metadata {
            MetadataLink::Absent => None,
            MetadataLink::Unhashed => Some("true".to_owned()),
            MetadataLink::Sha256(sha) => Some(format!("sha256={sha}")),
        };
        if let Some(value) = value {
            let _ = write!(
                attrs,
                " data-dist-info-metadata=\"{value}\" data-core-metadata=\"{value}\""
            );
        }
        if let Some(reason) = &f.yanked {
            let _ = write!(attrs, " data-yanked=\"{}\"", escape(reason));
        }
        let fragment = f
            .sha256
            .as_ref()
            .map(|sha| format!("#sha256={sha}"))
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "    <a href=\"{}{fragment}\"{attrs}>{}</a><br/>",
            escape(&f.url),
            escape(&f.filename)
        );
    }
    html.push_str("  </body>\n</html>\n");
    html
}

/// PEP 691 project page, with PEP 700's fields.
pub(crate) fn project_json(name: &str, files: &[FileInfo]) -> Value {
    let mut versions: Vec<&str> = Vec::new();
    for f in files {
        if !versions.contains(&f.version.as_str()) {
            versions.push(&f.version);
        }
    }
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let metadata = match &f.core_metadata {
                MetadataLink::Absent => Value::Bool(false),
                MetadataLink::Unhashed => Value::Bool(true),
                MetadataLink::Sha256(sha) => json!({"sha256": sha}),
            };
            let hashes = f
                .sha256
                .as_ref()
                .map_or_else(|| json!({}), |sha| json!({"sha256": sha}));
            let mut entry = json!({
                "filename": f.filename,
                "url": f.url,
                "hashes": hashes,
                "core-metadata": metadata,
                "dist-info-metadata": metadata,
                "yanked": f.yanked.as_ref().map_or(Value::Bool(false), |r| if r.is_empty() { Value::Bool(true) } else { Value::String(r.clone()) }),
            });
            if let Some(rp) = &f.requires_python {
                entry["requires-python"] = Value::String(rp.clone());
            }
            if let Some(size) = f.size {
                entry["size"] = json!(size);
            }
            if let Some(uploaded) = &f.uploaded {
                entry["upload-time"] = json!(uploaded);
            }
            entry
        })
        .collect();
    json!({"meta": {"api-version": "1.1"}, "name": name, "versions": versions, "files": files})
}

/// PEP 503 project list.
pub(crate) fn index_html(projects: &[(String, String)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n",
    );
    for (name, normalized) in projects {
        let _ = writeln!(
            html,
            "    <a href=\"{}/\">{}</a><br/>",
            escape(normalized),
            escape(name)
        );
    }
    html.push_str("  </body>\n</html>\n");
    html
}

/// PEP 691 project list.
pub(crate) fn index_json(projects: &[(String, String)]) -> Value {
    let projects: Vec<Value> = projects.iter().map(|(n, _)| json!({"name": n})).collect();
    json!({"meta": {"api-version": "1.1"}, "projects": projects})
}

fn json_file(f: &FileInfo) -> Value {
    json!({
        "filename": f.filename,
        "url": f.url,
        "digests": {"sha256": f.sha256, "md5": f.md5},
        "md5_digest": f.md5,
        "size": f.size,
        "packagetype": f.filetype,
        "python_version": f.pyversion,
        "requires_python": f.requires_python,
        "upload_time_iso_8601": f.uploaded,
        "yanked": f.yanked.is_some(),
        "yanked_reason": f.yanked.as_ref().filter(|r| !r.is_empty()),
    })
}

/// The release the JSON project API describes: `version` when given and present, else the
/// newest upload that is not yanked (the last listed when upload times are unknown).
pub(crate) fn chosen_release(files: &[FileInfo], version: Option<&str>) -> Option<String> {
    if let Some(v) = version {
        return files
            .iter()
            .find(|f| f.version == v)
            .map(|f| f.version.clone());
    }
    let newest = |candidates: Vec<&FileInfo>| {
        candidates
            .into_iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| (&a.uploaded, i).cmp(&(&b.uploaded, j)))
            .map(|(_, f)| f.version.clone())
    };
    newest(files.iter().filter(|f| f.yanked.is_none()).collect())
        .or_else(|| newest(files.iter().collect()))
}

/// The JSON project API document of `chosen`: `info` from its core metadata (`metadata`),
/// `urls`, and with `all_releases` every release's files.
pub(crate) fn project_api(
    name: &str,
    files: &[FileInfo],
    chosen: &str,
    metadata: Option<&str>,
    all_releases: bool,
) -> Value {
    let release: Vec<&FileInfo> = files.iter().filter(|f| f.version == chosen).collect();
    let meta = metadata
        .and_then(|raw| crate::metadata::parse(raw).ok())
        .unwrap_or_default();
    let yanked = release.first().and_then(|f| f.yanked.clone());
    let info = json!({
        "name": if meta.name.is_empty() { name.to_owned() } else { meta.name.clone() },
        "version": chosen,
        "summary": meta.summary,
        "requires_python": meta.requires_python,
        "requires_dist": if meta.requires_dist.is_empty() { Value::Null } else { json!(meta.requires_dist) },
        "license": meta.license,
        "author": meta.author,
        "home_page": meta.home_page,
        "yanked": yanked.is_some(),
        "yanked_reason": yanked.filter(|r| !r.is_empty()),
    });
    let urls: Vec<Value> = release.iter().map(|f| json_file(f)).collect();
    let mut out = json!({"info": info, "urls": urls, "vulnerabilities": [], "last_serial": 0});
    if all_releases {
        let mut releases = serde_json::Map::new();
        for f in files {
            if let Some(files) = releases
                .entry(f.version.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
            {
                files.push(json_file(f));
            }
        }
        out["releases"] = Value::Object(releases);
    }
    out
}
