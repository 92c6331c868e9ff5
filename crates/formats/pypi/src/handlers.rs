//! The PyPI protocol on the kernel's pipeline ([`Pypi`]) and its thin handlers: each calls the
//! operation and answers as the public index does.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use wharf_core::model::{RepoKind, Repository};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::usecases::{PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::groups::hosted_target;
use wharf_server::protocol::{Call, Parsed, Protocol, Site, Target};
use wharf_server::query::parse_query;
use wharf_server::render_cache::{Document, RenderCache};

use crate::error::PypiError;
use crate::names::normalize;
use crate::pages::{self, FileInfo};
use crate::request::{Endpoint, parse};
use crate::sources::{self, Shown};
use crate::upload::read_upload;

const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
const HTML_TYPE: &str = "application/vnd.pypi.simple.v1+html";
/// What HTML pages are served as (pip reads any HTML type; browsers show this one).
const HTML_TYPE_UTF8: &str = "text/html; charset=utf-8";

/// The PyPI protocol: uploads, the simple API and the JSON API, with hosted project pages
/// cached by their content tag.
#[derive(Default)]
pub(crate) struct Pypi {
    cache: RenderCache,
}

#[async_trait::async_trait]
impl Protocol for Pypi {
    type Endpoint = Endpoint;
    type Error = PypiError;

    fn format(&self) -> &'static str {
        "pypi"
    }

    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Endpoint>, PypiError> {
        let (repo, endpoint) = parse(target.method, target.path)?;
        Ok(Parsed {
            repository: Some(repo.to_string()),
            endpoint,
        })
    }

    async fn handle(
        &self,
        call: &Call<'_>,
        endpoint: &Endpoint,
        body: Body,
    ) -> Result<Response, PypiError> {
        let repo = call.repo()?;
        Ok(match endpoint {
            Endpoint::Upload => {
                let form = Multipart::from_request(call.request(body), call.state)
                    .await
                    .map_err(|e| {
                        Error::invalid(format!("expected a multipart upload: {}", e.body_text()))
                    })?;
                upload_file(call.state, repo, form).await?
            }
            Endpoint::AddSlash => {
                Redirect::permanent(&format!("/pypi{}/", call.uri.path())).into_response()
            }
            Endpoint::Index => simple_index(call, repo).await?,
            Endpoint::Project { project } => simple_project(call, &self.cache, project).await?,
            Endpoint::File {
                project,
                version,
                file,
            } => download(call, repo, project, version, file).await?,
            Endpoint::Metadata {
                project,
                version,
                file,
            } => {
                let metadata = sources::core_metadata(call.state, repo, project, version, file)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("{file} has no core metadata")))?;
                (
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    metadata,
                )
                    .into_response()
            }
            Endpoint::Json { project, version } => {
                json_api(call, repo, project, version.as_deref()).await?
            }
        })
    }

    fn render(&self, error: PypiError, _site: &Site<'_, Endpoint>) -> Response {
        error.into_response()
    }
}

/// `GET /files/{project}/{version}/{file}`: a distribution file.
async fn download(
    call: &Call<'_>,
    repo: &Repository,
    project: &str,
    version: &str,
    file: &str,
) -> Result<Response> {
    let entry = sources::file_entry(call.state, repo, project, version, file)
        .await?
        .ok_or_else(|| Error::not_found(format!("{file} not found")))?;
    call.serve_file(repo, &entry, "application/octet-stream")
        .await
}

/// Upload a file (`:action=file_upload`): all checks first, then one publish. An existing
/// file answers 400 "File already exists", as the public index does (twine's
/// `--skip-existing` recognises it).
async fn upload_file(state: &AppState, repo: &Repository, form: Multipart) -> Result<Response> {
    let repo = &hosted_target(state, repo).await?;
    let upload = read_upload(state, repo, form).await?;
    let existing = state
        .store
        .package_by_canonical(repo.id, &upload.dist.project)
        .await?;
    let package_name = existing
        .as_ref()
        .map_or_else(|| upload.name.clone(), |p| p.name.clone());
    let already = || {
        Error::invalid(format!(
            "File already exists ('{}'). Uploading a file under the same name again is not allowed; change the version.",
            upload.filename
        ))
    };
    if existing.is_some()
        && state
            .store
            .file(repo.id, &package_name, &upload.version, &upload.filename)
            .await?
            .is_some()
    {
        return Err(already());
    }
    let properties = upload.properties();
    let package = PackageName::new(package_name)?;
    let version = VersionName::new(upload.version.clone())?;
    let file = FileName::new(upload.filename.clone())?;
    publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: repo,
            package: &package,
            canonical: Some(&upload.dist.project),
            version: &version,
            file: &file,
            mode: PublishMode::CreateOrAdd,
            properties,
        },
        upload.staged,
    )
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => already(),
        other => other,
    })?;
    Ok((StatusCode::OK, "OK\n").into_response())
}

#[derive(serde::Deserialize, Default)]
struct FormatQuery {
    format: Option<String>,
}

/// JSON (PEP 691) when the client asks for it by `?format=` or `Accept` (with q-values),
/// else HTML.
///
/// # Errors
/// [`Error::Invalid`] for a malformed query or an `Accept` naming no page type Wharf serves.
fn wants_json(headers: &HeaderMap, query: Option<&str>) -> Result<bool> {
    let unsupported = || Error::invalid("unsupported Accept: ask for HTML or the PEP 691 JSON");
    let accept = parse_query::<FormatQuery>(query)?.format.or_else(|| {
        headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let Some(accept) = accept else {
        return Ok(false);
    };
    let mut best: Option<(f32, bool)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let json = match media {
            JSON_TYPE | "application/vnd.pypi.simple.latest+json" => true,
            HTML_TYPE | "application/vnd.pypi.simple.latest+html" | "text/html" | "*/*" => false,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, json));
        }
    }
    best.map(|(_, json)| json).ok_or_else(unsupported)
}

fn page(json: bool, body: impl Into<Bytes>) -> Response {
    let content_type = if json { JSON_TYPE } else { HTML_TYPE_UTF8 };
    let mut response = body.into().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// `GET /simple/`: every project.
async fn simple_index(call: &Call<'_>, repo: &Repository) -> Result<Response> {
    let json = wants_json(&call.headers, call.query())?;
    let projects = sources::project_names(call.state, repo).await?;
    Ok(if json {
        page(true, pages::index_json(&projects).to_string())
    } else {
        page(false, pages::index_html(&projects))
    })
}

/// `GET /simple/{project}/`: a project's files; other spellings redirect to the normal form.
/// Hosted pages are rendered (and gzipped, for clients that accept it) once per change of
/// the project, and answer `If-None-Match`.
async fn simple_project(call: &Call<'_>, cache: &RenderCache, project: &str) -> Result<Response> {
    let (state, repo, headers) = (call.state, call.repo()?, &call.headers);
    let normalized = normalize(project);
    if normalized != project {
        let suffix = call.query().map(|q| format!("?{q}")).unwrap_or_default();
        return Ok(Redirect::permanent(&format!(
            "/pypi/{}/simple/{normalized}/{suffix}",
            repo.name
        ))
        .into_response());
    }
    let json = wants_json(headers, call.query())?;
    let base = &call.base;
    let shown = Shown {
        base,
        repo: repo.name.as_str(),
    };
    let missing = || Error::not_found(format!("project {project} not found"));
    if repo.kind != RepoKind::Hosted {
        let files = sources::project_files(state, &shown, repo, &normalized)
            .await?
            .ok_or_else(missing)?;
        return Ok(page(json, render(json, &normalized, &files)));
    }
    let package = sources::hosted_package(state, repo, &normalized)
        .await?
        .ok_or_else(missing)?;
    let document = Document {
        package: &package,
        variant: if json { 'j' } else { 'h' },
        base,
        content_type: if json { JSON_TYPE } else { HTML_TYPE_UTF8 },
    };
    cache
        .respond(state, headers, document, || async {
            let files = sources::hosted_files(state, &shown, &package, &normalized).await?;
            Ok(render(json, &normalized, &files))
        })
        .await
}

fn render(json: bool, project: &str, files: &[FileInfo]) -> String {
    if json {
        pages::project_json(project, files).to_string()
    } else {
        pages::project_html(project, files)
    }
}

/// `GET /pypi/{project}[/{version}]/json`.
async fn json_api(
    call: &Call<'_>,
    repo: &Repository,
    project: &str,
    version: Option<&str>,
) -> Result<Response> {
    let state = call.state;
    let normalized = normalize(project);
    let shown = Shown {
        base: &call.base,
        repo: repo.name.as_str(),
    };
    let files = sources::project_files(state, &shown, repo, &normalized)
        .await?
        .ok_or_else(|| Error::not_found(format!("project {project} not found")))?;
    let chosen = pages::chosen_release(&files, version).ok_or_else(|| {
        Error::not_found(format!(
            "{project} has no version {}",
            version.unwrap_or_default()
        ))
    })?;
    let mut metadata = None;
    for f in files
        .iter()
        .filter(|f| f.version == chosen && f.core_metadata.is_served())
    {
        metadata =
            sources::core_metadata(state, repo, &normalized, &f.version, &f.filename).await?;
        if metadata.is_some() {
            break;
        }
    }
    let doc = pages::project_api(
        project,
        &files,
        &chosen,
        metadata.as_deref(),
        version.is_none(),
    );
    Ok(axum::Json(doc).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_negotiation_follows_accept_and_format() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h, None).unwrap());
        h.insert(header::ACCEPT, HeaderValue::from_static("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"));
        assert!(wants_json(&h, None).unwrap());
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.pypi.simple.v1+json;q=0.1, text/html"),
        );
        assert!(!wants_json(&h, None).unwrap());
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/x-unknown"),
        );
        assert!(wants_json(&h, None).is_err());
        assert!(wants_json(&h, Some("format=application/vnd.pypi.simple.v1%2Bjson")).unwrap());
    }
}
