//! The documents clients read: the simple repository API as PEP 503 HTML or PEP 691 JSON
//! (with PEP 592 yanks, PEP 658/714 core-metadata, PEP 700 `versions`, `size`,
//! `upload-time`), and the JSON project API.

use std::fmt::Write as _;

use serde_json::{Value, json};
use wharf_core::Result;
use wharf_core::model::{Package, PropertyOwner, Repository};
use wharf_core::time::Timestamp;
use wharf_server::AppState;

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

/// One distribution file of a project, as the pages show it.
pub(crate) struct FileInfo {
    pub version: String,
    pub filename: String,
    pub url: String,
    pub size: u64,
    pub sha256: String,
    pub md5: String,
    pub uploaded: Timestamp,
    pub filetype: String,
    pub pyversion: String,
    pub requires_python: Option<String>,
    pub metadata_sha256: Option<String>,
    pub metadata: Option<String>,
    pub yanked: Option<String>,
}

fn prop(props: &[(String, String)], name: &str) -> Option<String> {
    props
        .iter()
        .find_map(|(k, v)| (k == name).then(|| v.clone()))
}

/// Every file of a project, oldest release first.
pub(crate) async fn project_files(
    state: &AppState,
    base: &str,
    repo: &Repository,
    package: &Package,
    normalized: &str,
) -> Result<Vec<FileInfo>> {
    let mut out = Vec::new();
    for (version, version_props) in state.store.versions_with_properties(package.id).await? {
        let yanked = prop(&version_props, YANKED);
        for file in state.store.list_files(version.id).await? {
            let props = state.store.properties(PropertyOwner::File(file.id)).await?;
            out.push(FileInfo {
                url: format!(
                    "{base}/pypi/{}/files/{normalized}/{}/{}",
                    repo.name, version.version, file.name
                ),
                version: version.version.clone(),
                filename: file.name.clone(),
                size: file.blob.size,
                sha256: file.blob.sha256.to_string(),
                md5: file.blob.md5.clone(),
                uploaded: file.created_at,
                filetype: prop(&props, FILETYPE).unwrap_or_default(),
                pyversion: prop(&props, PYVERSION).unwrap_or_default(),
                requires_python: prop(&props, REQUIRES_PYTHON),
                metadata_sha256: prop(&props, METADATA_SHA256),
                metadata: prop(&props, METADATA),
                yanked: yanked.clone(),
            });
        }
    }
    Ok(out)
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
        if let Some(sha) = &f.metadata_sha256 {
            let _ = write!(
                attrs,
                " data-dist-info-metadata=\"sha256={sha}\" data-core-metadata=\"sha256={sha}\""
            );
        }
        if let Some(reason) = &f.yanked {
            let _ = write!(attrs, " data-yanked=\"{}\"", escape(reason));
        }
        let _ = writeln!(
            html,
            "    <a href=\"{}#sha256={}\"{attrs}>{}</a><br/>",
            escape(&f.url),
            f.sha256,
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
            let metadata = f
                .metadata_sha256
                .as_ref()
                .map_or(Value::Bool(false), |sha| json!({"sha256": sha}));
            let mut entry = json!({
                "filename": f.filename,
                "url": f.url,
                "hashes": {"sha256": f.sha256},
                "core-metadata": metadata,
                "dist-info-metadata": metadata,
                "yanked": f.yanked.as_ref().map_or(Value::Bool(false), |r| if r.is_empty() { Value::Bool(true) } else { Value::String(r.clone()) }),
                "size": f.size,
                "upload-time": f.uploaded.rfc3339(),
            });
            if let Some(rp) = &f.requires_python {
                entry["requires-python"] = Value::String(rp.clone());
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
        "upload_time_iso_8601": f.uploaded.rfc3339(),
        "yanked": f.yanked.is_some(),
        "yanked_reason": f.yanked.as_ref().filter(|r| !r.is_empty()),
    })
}

/// The JSON project API: `info` from the chosen release's metadata, `releases`, `urls`.
/// Without a version, the release is the newest upload that is not yanked.
pub(crate) fn project_api(name: &str, files: &[FileInfo], version: Option<&str>) -> Option<Value> {
    let chosen = match version {
        Some(v) => files.iter().find(|f| f.version == v)?.version.clone(),
        None => files
            .iter()
            .filter(|f| f.yanked.is_none())
            .max_by_key(|f| f.uploaded)
            .or_else(|| files.iter().max_by_key(|f| f.uploaded))?
            .version
            .clone(),
    };
    let release: Vec<&FileInfo> = files.iter().filter(|f| f.version == chosen).collect();
    let meta = release
        .iter()
        .find_map(|f| f.metadata.as_deref())
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
    if version.is_none() {
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
    Some(out)
}
