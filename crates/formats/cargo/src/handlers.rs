//! Thin handlers of the cargo protocol: parse once, authenticate, call the operation, answer
//! in cargo's shapes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use wharf_core::auth::{Principal, authorize};
use wharf_core::model::{Package, PropertyOwner, Repository, Scope};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::time::Timestamp;
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::auth::authenticate;
use wharf_server::body::{Download, not_modified, serve_blob};
use wharf_server::render_cache::RenderCache;

use crate::error::CargoError;
use crate::index::{CHANGED, DESCRIPTION, IndexLine, LINE, OWNERS};
use crate::request::{Endpoint, OwnersOp, parse};
use crate::{names, owners, publish, search, sources};

const FORMAT: &str = "cargo";

/// One request's context.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub cache: &'a RenderCache,
    pub repo: Repository,
    pub caller: Option<Principal>,
    pub base: String,
}

impl Ctx<'_> {
    /// Authorizes the caller (anonymous reads pass where the repository allows them).
    pub(crate) fn allow(&self, scope: Scope) -> Result<()> {
        authorize(self.caller.as_ref(), &self.repo, scope)
    }

    /// Authorizes a signed-in caller and returns it.
    pub(crate) fn require(&self, scope: Scope) -> Result<&Principal> {
        wharf_core::auth::require(self.caller.as_ref(), &self.repo, scope)
    }

    /// A crate of a (hosted) repository.
    pub(crate) async fn package_in(&self, repo: &Repository, name: &str) -> Result<Package> {
        self.state
            .store
            .package(repo.id, name)
            .await?
            .ok_or_else(|| Error::not_found(format!("crate `{name}` does not exist")))
    }

    /// The hosted repository that publishes, yanks and owner changes go to: the repository
    /// itself, or a group's first hosted member. Proxies are read-only.
    pub(crate) async fn hosted_target(&self) -> Result<Repository> {
        wharf_server::groups::hosted_target(self.state, &self.repo).await
    }
}

/// Every cargo request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<RenderCache>>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let base = state.base_url(&headers);
    let (repo, endpoint) = match parse(&method, &path) {
        Ok(parsed) => parsed,
        Err(e) => return CargoError::from(e).into_response(),
    };
    let login_url = format!("{base}/cargo/{repo}/me");
    let result = async {
        let caller = authenticate(&state, &headers).await?;
        let repo = state.repository(FORMAT, repo.as_str()).await?;
        let ctx = Ctx {
            state: &state,
            cache: &cache,
            repo,
            caller,
            base,
        };
        handle(&ctx, &method, &headers, query.as_deref(), body, endpoint).await
    }
    .await;
    result.unwrap_or_else(|error| {
        CargoError {
            error,
            login_url: Some(login_url),
        }
        .into_response()
    })
}

async fn handle(
    ctx: &Ctx<'_>,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    endpoint: Endpoint,
) -> Result<Response> {
    match endpoint {
        Endpoint::Me => Ok(login_instructions(ctx)),
        Endpoint::Config => {
            ctx.allow(Scope::Read)?;
            Ok(config_json(ctx))
        }
        Endpoint::IndexFile { name } => {
            ctx.allow(Scope::Read)?;
            index_file(ctx, headers, &name).await
        }
        Endpoint::Download { name, version } => {
            ctx.allow(Scope::Read)?;
            download_crate(ctx, method, headers, &name, &version).await
        }
        Endpoint::Search => {
            ctx.allow(Scope::Read)?;
            search::search_crates(ctx, query).await
        }
        Endpoint::Publish => publish_crate(ctx, headers, body).await,
        Endpoint::Yank {
            name,
            version,
            yanked,
        } => yank_version(ctx, &name, &version, yanked).await,
        Endpoint::Owners { name, op } => match op {
            OwnersOp::List => {
                ctx.allow(Scope::Read)?;
                owners::list_owners(ctx, &name).await
            }
            OwnersOp::Add | OwnersOp::Remove => {
                owners::change_owners(ctx, &name, op == OwnersOp::Add, body).await
            }
        },
    }
}

/// `GET /me`: where `cargo login` points people for a token.
fn login_instructions(ctx: &Ctx<'_>) -> Response {
    let text = format!(
        "Wharf cargo registry `{repo}`.\n\n\
         Create a token with write scope for this repository, for example:\n\n    \
         wharf token create --user YOU --scope write --repo cargo/{repo}\n\n\
         or with POST {base}/api/v1/tokens {{\"name\":\"cargo\",\"repository\":\"cargo/{repo}\"}}, \
         then paste it into `cargo login --registry NAME`.\n",
        repo = ctx.repo.name,
        base = ctx.base
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `GET /index/config.json`: `dl`, `api` and `auth-required`.
fn config_json(ctx: &Ctx<'_>) -> Response {
    let api = format!("{}/cargo/{}", ctx.base, ctx.repo.name);
    let body = json!({
        "dl": format!("{api}/api/v1/crates"),
        "api": api,
        "auth-required": !ctx.repo.policy.anonymous_read,
    });
    ([(header::CACHE_CONTROL, "no-cache")], Json(body)).into_response()
}

/// `GET /index/…/{name}`: one line per version (for a hosted repository rendered at publish
/// time); 304 when the client's copy is current.
async fn index_file(ctx: &Ctx<'_>, headers: &HeaderMap, name: &str) -> Result<Response> {
    let body = sources::index(ctx, &ctx.repo, name)
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
    ctx: &Ctx<'_>,
    method: &Method,
    headers: &HeaderMap,
    name: &str,
    version: &str,
) -> Result<Response> {
    let entry = sources::crate_file(ctx, &ctx.repo, name, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("crate `{name}` has no version {version}")))?;
    let response = serve_blob(
        &ctx.state.blobs,
        method,
        headers,
        Download {
            blob: &entry.blob,
            modified: entry.created_at,
            content_type: "application/gzip",
            redirect: ctx.repo.policy.redirect_downloads,
        },
    )
    .await?;
    Ok(ctx
        .state
        .downloads
        .counted(method, response, entry.version_id))
}

/// `PUT /api/v1/crates/new`: checks, stores and indexes a new version.
async fn publish_crate(ctx: &Ctx<'_>, headers: &HeaderMap, body: Body) -> Result<Response> {
    let principal = ctx.require(Scope::Write)?;
    let target = ctx.hosted_target().await?;
    let limit = ctx.state.upload_limit(&target);
    wharf_server::body::check_content_length(headers, limit.saturating_add(8 + (4 << 20)))?;
    let publish::PublishBody { meta, staged } =
        publish::read_body(&ctx.state.blobs, body, limit).await?;
    names::validate(&meta.name)?;
    let version = semver::Version::parse(&meta.vers)
        .map_err(|e| Error::invalid(format!("invalid version {:?}: {e}", meta.vers)))?;
    let canonical = names::canonical(&meta.name);
    let existing = ctx
        .state
        .store
        .package_by_canonical(target.id, &canonical)
        .await?;
    if let Some(existing) = &existing {
        if existing.name != meta.name {
            return Err(Error::conflict(format!(
                "crate `{}` conflicts with the existing crate `{}`",
                meta.name, existing.name
            )));
        }
        owners::ensure_owner(ctx.state, principal, existing).await?;
        let base = meta.vers.split('+').next().unwrap_or_default();
        for v in ctx
            .state
            .store
            .versions_with_prefix(existing.id, base)
            .await?
        {
            if semver::Version::parse(&v.version)
                .is_ok_and(|old| old.cmp_precedence(&version).is_eq())
            {
                return Err(Error::conflict(format!(
                    "crate version `{}@{}` is already uploaded",
                    meta.name, v.version
                )));
            }
        }
    }
    publish::verify_crate(&ctx.state.blobs, &staged, &meta.name, &meta.vers).await?;
    let now = Timestamp::now();
    let pubtime = now.rfc3339_seconds();
    let line =
        IndexLine::from_publish(&meta, staged.digests.sha256.to_string(), pubtime, &ctx.base)?;
    let owners = serde_json::to_string(&[&principal.user.name])
        .map_err(|e| Error::internal("encoding owners", e))?;
    let package = PackageName::new(meta.name.clone())?;
    let version = VersionName::new(meta.vers.clone())?;
    let file = FileName::new(format!("{}-{}.crate", meta.name, meta.vers))?;
    publish_file(
        ctx.state.store.as_ref(),
        &ctx.state.blobs,
        PublishFile {
            repository: &target,
            package: &package,
            canonical: Some(&canonical),
            version: &version,
            file: &file,
            mode: PublishMode::CreateVersion,
            properties: vec![
                (PropertyTarget::NewPackage, OWNERS.into(), owners),
                (PropertyTarget::Version, LINE.into(), line.render()?),
                (PropertyTarget::Version, CHANGED.into(), now.0.to_string()),
                (
                    PropertyTarget::Version,
                    DESCRIPTION.into(),
                    meta.description.clone().unwrap_or_default(),
                ),
            ],
        },
        staged,
    )
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => Error::conflict(format!(
            "crate version `{}@{}` is already uploaded",
            meta.name, meta.vers
        )),
        other => other,
    })?;
    Ok(
        Json(json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}))
            .into_response(),
    )
}

/// Rewrites a version's index line with `yanked` (which bumps the crate's revision, so every
/// instance serves the new index file).
pub(crate) async fn set_yanked(
    state: &AppState,
    version: &wharf_core::model::Version,
    yanked: bool,
) -> Result<()> {
    let owner = PropertyOwner::Version(version.id);
    let stored = state
        .store
        .properties(owner)
        .await?
        .into_iter()
        .find_map(|(k, value)| (k == LINE).then_some(value))
        .ok_or_else(|| Error::internal_msg("version without an index line"))?;
    let mut line: IndexLine =
        serde_json::from_str(&stored).map_err(|e| Error::internal("stored index line", e))?;
    line.yanked = yanked;
    state
        .store
        .set_property(owner, LINE, &line.render()?)
        .await?;
    state
        .store
        .set_property(owner, CHANGED, &Timestamp::now().0.to_string())
        .await
}

/// `DELETE …/yank` and `PUT …/unyank`: rewrites the version's index line.
async fn yank_version(ctx: &Ctx<'_>, name: &str, version: &str, yanked: bool) -> Result<Response> {
    let principal = ctx.require(Scope::Write)?;
    let target = ctx.hosted_target().await?;
    let package = ctx.package_in(&target, name).await?;
    owners::ensure_owner(ctx.state, principal, &package).await?;
    let v = ctx
        .state
        .store
        .version(package.id, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("crate `{name}` has no version {version}")))?;
    set_yanked(ctx.state, &v, yanked).await?;
    Ok(Json(json!({"ok": true})).into_response())
}
