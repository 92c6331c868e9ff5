//! The cargo protocol on the kernel's pipeline ([`Cargo`]) and its thin handlers: each calls
//! the operation and answers in cargo's shapes.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use wharf_core::model::{Package, Repository, Scope};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::body::not_modified;
use wharf_server::protocol::{Call, Parsed, Protocol, Site, Target};
use wharf_server::render_cache::RenderCache;

use crate::error::CargoError;
use crate::request::{Endpoint, OwnersOp, parse};
use crate::{owners, publish, search, sources, usecases};

/// The cargo protocol: the sparse index and the web API, with the rendered index files of
/// hosted crates cached by their content tag.
#[derive(Default)]
pub(crate) struct Cargo {
    cache: RenderCache,
}

#[async_trait::async_trait]
impl Protocol for Cargo {
    type Endpoint = Endpoint;
    type Error = CargoError;

    fn format(&self) -> &'static str {
        "cargo"
    }

    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Endpoint>, CargoError> {
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
    ) -> Result<Response, CargoError> {
        let repo = call.repo()?;
        let state = call.state;
        Ok(match endpoint {
            Endpoint::Me => login_instructions(call, repo),
            Endpoint::Config => config_json(call, repo),
            Endpoint::IndexFile { name } => index_file(call, &self.cache, repo, name).await?,
            Endpoint::Download { name, version } => {
                download_crate(call, &self.cache, repo, name, version).await?
            }
            Endpoint::Search => search::search_crates(state, repo, call.query()).await?,
            Endpoint::Publish => publish_crate(call, body).await?,
            Endpoint::Yank {
                name,
                version,
                yanked,
            } => yank_version(call, name, version, *yanked).await?,
            Endpoint::Owners { name, op } => match op {
                OwnersOp::List => owners::list_owners(call, name).await?,
                OwnersOp::Add | OwnersOp::Remove => {
                    owners::change_owners(call, name, *op == OwnersOp::Add, body).await?
                }
            },
        })
    }

    fn render(&self, error: CargoError, site: &Site<'_, Endpoint>) -> Response {
        let login_url = site
            .repository
            .map(|repo| format!("{}/cargo/{repo}/me", site.base));
        CargoError {
            login_url: error.login_url.or(login_url),
            ..error
        }
        .into_response()
    }
}

/// The hosted repository that publishes, yanks and owner changes go to: the repository
/// itself, or a group's first hosted member. Proxies are read-only.
pub(crate) async fn hosted_target(call: &Call<'_>) -> Result<Repository> {
    wharf_server::groups::hosted_target(call.state, call.repo()?).await
}

/// A crate of a (hosted) repository.
pub(crate) async fn package_in(state: &AppState, repo: &Repository, name: &str) -> Result<Package> {
    state
        .store
        .package(repo.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("crate `{name}` does not exist")))
}

/// `GET /me`: where `cargo login` points people for a token.
fn login_instructions(call: &Call<'_>, repo: &Repository) -> Response {
    let text = format!(
        "Wharf cargo registry `{repo}`.\n\n\
         Create a token with write scope for this repository, for example:\n\n    \
         wharf token create --user YOU --scope write --repo cargo/{repo}\n\n\
         or with POST {base}/api/v1/tokens {{\"name\":\"cargo\",\"repository\":\"cargo/{repo}\"}}, \
         then paste it into `cargo login --registry NAME`.\n",
        repo = repo.name,
        base = call.base
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `GET /index/config.json`: `dl`, `api` and `auth-required`.
fn config_json(call: &Call<'_>, repo: &Repository) -> Response {
    let api = format!("{}/cargo/{}", call.base, repo.name);
    let body = json!({
        "dl": format!("{api}/api/v1/crates"),
        "api": api,
        "auth-required": !repo.policy.anonymous_read,
    });
    ([(header::CACHE_CONTROL, "no-cache")], Json(body)).into_response()
}

/// `GET /index/…/{name}`: one line per version (for a hosted repository rendered at publish
/// time); 304 when the client's copy is current.
async fn index_file(
    call: &Call<'_>,
    cache: &RenderCache,
    repo: &Repository,
    name: &str,
) -> Result<Response> {
    let headers = &call.headers;
    let body = sources::index(call.state, cache, repo, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("crate `{name}` does not exist")))?;
    let tag = body
        .etag
        .clone()
        .unwrap_or_else(|| format!("\"{}\"", &hex::encode(Sha256::digest(&body.text))[..32]));
    let current = match body.changed {
        Some(changed) => not_modified(headers, &tag, Some(changed)),
        None => headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|inm| inm.split(',').any(|t| t.trim() == tag)),
    };
    let mut response = if current {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.text.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Some(changed) = body.changed
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(changed.system_time()))
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    Ok(response)
}

/// `GET /api/v1/crates/{name}/{version}/download`: the `.crate`.
async fn download_crate(
    call: &Call<'_>,
    cache: &RenderCache,
    repo: &Repository,
    name: &str,
    version: &str,
) -> Result<Response> {
    let entry = sources::crate_file(call.state, cache, repo, name, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("crate `{name}` has no version {version}")))?;
    call.serve_file(repo, &entry, "application/gzip").await
}

/// `PUT /api/v1/crates/new`: checks, stores and indexes a new version.
async fn publish_crate(call: &Call<'_>, body: Body) -> Result<Response> {
    let headers = &call.headers;
    let principal = call.require(Scope::Write)?;
    let target = hosted_target(call).await?;
    let limit = call.state.upload_limit(&target);
    wharf_server::body::check_content_length(headers, limit.saturating_add(8 + (4 << 20)))?;
    let publish::PublishBody { meta, staged } = publish::read_body(call.state, body, limit).await?;
    usecases::publish(
        call.state,
        usecases::NewCrate {
            principal,
            target: &target,
            meta,
            staged,
            base: &call.base,
        },
    )
    .await?;
    Ok(
        Json(json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}))
            .into_response(),
    )
}

/// `DELETE …/yank` and `PUT …/unyank`: rewrites the version's index line.
async fn yank_version(
    call: &Call<'_>,
    name: &str,
    version: &str,
    yanked: bool,
) -> Result<Response> {
    let principal = call.require(Scope::Write)?;
    let target = hosted_target(call).await?;
    let package = package_in(call.state, &target, name).await?;
    usecases::yank(call.state, principal, &package, version, yanked).await?;
    Ok(Json(json!({"ok": true})).into_response())
}
