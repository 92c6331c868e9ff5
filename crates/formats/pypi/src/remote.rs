//! Reading an upstream simple index: project pages and the project list, in PEP 691 JSON or
//! PEP 503 HTML (whichever the upstream answered), into the facts Wharf re-serves — file
//! names, absolute URLs resolved against the page, hashes, `requires-python`, yanks, core
//! metadata, size and upload time.

use std::collections::BTreeMap;

use html5gum::{Token, Tokenizer};
use serde::Deserialize;
use wharf_core::{Error, Result};

use crate::pages::MetadataLink;

/// What `Accept` a proxy sends: JSON preferred, HTML understood.
pub(crate) const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// One file an upstream project page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteFile {
    pub filename: String,
    /// Absolute, without a fragment.
    pub url: String,
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    /// The yank reason (possibly empty) when yanked.
    pub yanked: Option<String>,
    pub core_metadata: MetadataLink,
    pub size: Option<u64>,
    pub upload_time: Option<String>,
}

fn is_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn bad(url: &str, what: impl std::fmt::Display) -> Error {
    Error::Upstream(format!("upstream {url}: {what}"))
}

/// Resolves `href` against the page URL and splits off a `#sha256=` fragment.
fn resolve(page: &url::Url, href: &str) -> Option<(String, Option<String>)> {
    let mut url = page.join(href).ok()?;
    let sha = url
        .fragment()
        .and_then(|f| f.strip_prefix("sha256="))
        .map(str::to_ascii_lowercase);
    url.set_fragment(None);
    Some((url.into(), sha))
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Reason(String),
    Hashes(BTreeMap<String, String>),
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    yanked: Option<Flag>,
    #[serde(rename = "core-metadata")]
    core_metadata: Option<Flag>,
    #[serde(rename = "dist-info-metadata")]
    dist_info_metadata: Option<Flag>,
    size: Option<u64>,
    #[serde(rename = "upload-time")]
    upload_time: Option<String>,
}

fn metadata_flag(flag: Option<Flag>) -> MetadataLink {
    match flag {
        None | Some(Flag::Bool(false)) => MetadataLink::Absent,
        Some(Flag::Bool(true) | Flag::Reason(_)) => MetadataLink::Unhashed,
        Some(Flag::Hashes(h)) => h.get("sha256").map_or(MetadataLink::Unhashed, |sha| {
            MetadataLink::Sha256(sha.clone())
        }),
    }
}

fn html_metadata_flag(value: Option<&str>) -> MetadataLink {
    match value {
        None | Some("false") => MetadataLink::Absent,
        Some(v) => v
            .strip_prefix("sha256=")
            .map_or(MetadataLink::Unhashed, |sha| {
                MetadataLink::Sha256(sha.to_owned())
            }),
    }
}

/// The files of an upstream project page fetched from `page_url`.
///
/// # Errors
/// [`Error::Upstream`] when the page is neither valid JSON nor a readable HTML page.
pub(crate) fn project_files(page_url: &str, body: &[u8]) -> Result<Vec<RemoteFile>> {
    let base = url::Url::parse(page_url).map_err(|e| bad(page_url, e))?;
    if is_json(body) {
        let page: JsonPage = serde_json::from_slice(body).map_err(|e| bad(page_url, e))?;
        return Ok(page
            .files
            .into_iter()
            .filter_map(|f| json_file(&base, f))
            .collect());
    }
    let text = std::str::from_utf8(body).map_err(|e| bad(page_url, e))?;
    Ok(html_files(&base, text))
}

/// A file of a JSON page (PEP 691), its URL resolved against the page's.
fn json_file(base: &url::Url, f: JsonFile) -> Option<RemoteFile> {
    let (url, fragment) = resolve(base, &f.url)?;
    Some(RemoteFile {
        sha256: f.hashes.get("sha256").cloned().or(fragment),
        url,
        filename: f.filename,
        requires_python: f.requires_python.filter(|r| !r.is_empty()),
        yanked: match f.yanked {
            Some(Flag::Bool(true)) => Some(String::new()),
            Some(Flag::Reason(r)) => Some(r),
            _ => None,
        },
        core_metadata: metadata_flag(f.core_metadata.or(f.dist_info_metadata)),
        size: f.size,
        upload_time: f.upload_time,
    })
}

/// The files of an HTML page (PEP 503): each anchor, named by its text, with the PEP 592,
/// 658 and 714 attributes.
fn html_files(base: &url::Url, text: &str) -> Vec<RemoteFile> {
    let mut files = Vec::new();
    let mut open: Option<(RemoteFile, String)> = None;
    for Ok(token) in Tokenizer::new(text) {
        match token {
            Token::StartTag(tag) if tag.name == b"a" => {
                let attr = |name: &str| {
                    tag.attributes
                        .get(name.as_bytes())
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                };
                let Some((url, sha256)) = attr("href").and_then(|h| resolve(base, &h)) else {
                    continue;
                };
                let core_metadata = html_metadata_flag(
                    attr("data-core-metadata")
                        .or_else(|| attr("data-dist-info-metadata"))
                        .as_deref(),
                );
                let file = RemoteFile {
                    filename: String::new(),
                    url,
                    sha256,
                    requires_python: attr("data-requires-python").filter(|r| !r.is_empty()),
                    yanked: attr("data-yanked"),
                    core_metadata,
                    size: None,
                    upload_time: None,
                };
                open = Some((file, String::new()));
            }
            Token::String(s) => {
                if let Some((_, text)) = open.as_mut() {
                    text.push_str(&String::from_utf8_lossy(&s));
                }
            }
            Token::EndTag(tag) if tag.name == b"a" => {
                if let Some((mut file, text)) = open.take() {
                    text.trim().clone_into(&mut file.filename);
                    if !file.filename.is_empty() {
                        files.push(file);
                    }
                }
            }
            _ => {}
        }
    }
    files
}

#[derive(Deserialize)]
struct JsonIndex {
    projects: Vec<JsonProject>,
}

#[derive(Deserialize)]
struct JsonProject {
    name: String,
}

/// The project names of an upstream `/simple/` page.
///
/// # Errors
/// [`Error::Upstream`] when the page is neither valid JSON nor readable HTML.
pub(crate) fn project_names(page_url: &str, body: &[u8]) -> Result<Vec<String>> {
    if is_json(body) {
        let index: JsonIndex = serde_json::from_slice(body).map_err(|e| bad(page_url, e))?;
        return Ok(index.projects.into_iter().map(|p| p.name).collect());
    }
    let text = std::str::from_utf8(body).map_err(|e| bad(page_url, e))?;
    let mut names = Vec::new();
    let mut open: Option<String> = None;
    for Ok(token) in Tokenizer::new(text) {
        match token {
            Token::StartTag(tag) if tag.name == b"a" => open = Some(String::new()),
            Token::String(s) => {
                if let Some(name) = open.as_mut() {
                    name.push_str(&String::from_utf8_lossy(&s));
                }
            }
            Token::EndTag(tag) if tag.name == b"a" => {
                if let Some(name) = open.take().map(|n| n.trim().to_owned())
                    && !name.is_empty()
                {
                    names.push(name);
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://up.example/simple/demo/";

    #[test]
    fn reads_pep_503_html_with_every_attribute() {
        let html = r#"<!DOCTYPE html><html><body>
<a href="../../files/demo-1.0.tar.gz#sha256=AB12" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a><br/>
<a href="https://cdn.example/demo-1.1-py3-none-any.whl#sha256=cd34" data-core-metadata="sha256=ef56" data-yanked="broken">demo-1.1-py3-none-any.whl</a>
<a href="demo-1.2.tar.gz" data-dist-info-metadata="true" data-yanked="">demo-1.2.tar.gz</a>
</body></html>"#;
        let files = project_files(PAGE, html.as_bytes()).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].url, "https://up.example/files/demo-1.0.tar.gz");
        assert_eq!(files[0].sha256.as_deref(), Some("ab12"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].core_metadata, MetadataLink::Absent);
        assert_eq!(files[1].filename, "demo-1.1-py3-none-any.whl");
        assert_eq!(files[1].core_metadata, MetadataLink::Sha256("ef56".into()));
        assert_eq!(files[1].yanked.as_deref(), Some("broken"));
        assert_eq!(
            files[2].url,
            "https://up.example/simple/demo/demo-1.2.tar.gz"
        );
        assert_eq!(files[2].core_metadata, MetadataLink::Unhashed);
        assert_eq!(files[2].yanked.as_deref(), Some(""));
    }

    #[test]
    fn reads_pep_691_json() {
        let json = r#"{"meta":{"api-version":"1.1"},"name":"demo","versions":["1.0"],"files":[
{"filename":"demo-1.0-py3-none-any.whl","url":"/f/demo-1.0-py3-none-any.whl","hashes":{"sha256":"aa"},
 "requires-python":">=3.9","yanked":"bad","core-metadata":{"sha256":"bb"},"size":12,"upload-time":"2024-01-01T00:00:00.000000Z"},
{"filename":"demo-1.0.tar.gz","url":"https://x.example/demo-1.0.tar.gz","hashes":{},"yanked":false,"dist-info-metadata":true}]}"#;
        let files = project_files(PAGE, json.as_bytes()).unwrap();
        assert_eq!(
            files[0].url,
            "https://up.example/f/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(files[0].yanked.as_deref(), Some("bad"));
        assert_eq!(files[0].core_metadata, MetadataLink::Sha256("bb".into()));
        assert_eq!(files[0].size, Some(12));
        assert_eq!(files[1].yanked, None);
        assert_eq!(files[1].sha256, None);
        assert_eq!(files[1].core_metadata, MetadataLink::Unhashed);
        assert!(project_files(PAGE, b"{not json").is_err());
    }

    #[test]
    fn reads_project_lists_in_both_forms() {
        let html = "<html><body><a href=\"a/\">A</a><a href=\"b-c/\">b_c</a></body></html>";
        assert_eq!(
            project_names(PAGE, html.as_bytes()).unwrap(),
            vec!["A", "b_c"]
        );
        let json = r#"{"meta":{"api-version":"1.0"},"projects":[{"name":"x"}]}"#;
        assert_eq!(project_names(PAGE, json.as_bytes()).unwrap(), vec!["x"]);
    }
}
