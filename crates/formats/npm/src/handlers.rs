//! Thin handlers of the npm registry protocol: parse once, authenticate, call the
//! operation, answer in the registry's shapes. Reads live here; writes in
//! [`crate::writes`], accounts in [`crate::users`], search in [`crate::search`], audits in [`crate::audit`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;
use wharf_core::auth::{Principal, authorize};
use wharf_core::model::{Package, PropertyOwner, RepoKind, Repository, Scope};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::auth::authenticate;
use wharf_server::body::{Download, not_modified, serve_blob};
use wharf_server::compress::accepts_gzip;
use wharf_server::render_cache::RenderCache;

use crate::error::NpmError;
use crate::manifest::{FULL, TAG_PREFIX, parse_member, with_base};
use crate::request::{Endpoint, parse};
use crate::{packument, search, sources, users, writes};

const FORMAT: &str = "npm";

/// The media type of abbreviated packuments (npm's "corgi" documents).
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// One request's context.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub cache: &'a RenderCache,
    pub repo: Repository,
    pub caller: Option<Principal>,
    /// The repository's registry URL, without a trailing `/`.
    pub registry: String,
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

    /// A package of `repo`, or npm's 404.
    pub(crate) async fn package_in(&self, repo: &Repository, name: &str) -> Result<Package> {
        self.state
            .store
            .package(repo.id, name)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))
    }
}

/// Every npm request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<RenderCache>>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (repo, endpoint) = match parse(&method, &path) {
        Ok(parsed) => parsed,
        Err(e) => return NpmError::from(e).into_response(),
    };
    let registry = format!("{}/npm/{repo}", state.base_url(&headers));
    let result = async {
        let caller = authenticate(&state, &headers).await?;
        let repo = state.repository(FORMAT, repo.as_str()).await?;
        let ctx = Ctx {
            state: &state,
            cache: &cache,
            repo,
            caller,
            registry: registry.clone(),
        };
        handle(&ctx, &method, &headers, query.as_deref(), body, endpoint).await
    }
    .await;
    result.unwrap_or_else(|error| {
        NpmError {
            error,
            registry: Some(registry),
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
        Endpoint::Ping => Ok(Json(serde_json::json!({})).into_response()),
        Endpoint::Whoami => users::whoami(ctx),
        Endpoint::Login { user } => users::login(ctx, &user, body).await,
        Endpoint::Logout { token } => users::logout(ctx, &token).await,
        Endpoint::ListTokens => users::list_tokens(ctx).await,
        Endpoint::CreateToken => users::create_token(ctx, body).await,
        Endpoint::RevokeToken { key } => users::revoke_token(ctx, &key).await,
        Endpoint::Search => {
            ctx.allow(Scope::Read)?;
            search::search(ctx, query).await
        }
        Endpoint::Audit { bulk } => {
            ctx.allow(Scope::Read)?;
            crate::audit::audit(ctx.state, &ctx.repo, bulk, headers, body).await
        }
        Endpoint::DistTags { name } => {
            ctx.allow(Scope::Read)?;
            dist_tags(ctx, &name).await
        }
        Endpoint::DistTag { name, tag, set } => writes::dist_tag(ctx, &name, &tag, set, body).await,
        Endpoint::Packument { name } => {
            ctx.allow(Scope::Read)?;
            get_packument(ctx, headers, &name).await
        }
        Endpoint::Manifest { name, spec } => {
            ctx.allow(Scope::Read)?;
            get_manifest(ctx, &name, &spec).await
        }
        Endpoint::Tarball { name, file } => {
            ctx.allow(Scope::Read)?;
            get_tarball(ctx, method, headers, &name, &file).await
        }
        Endpoint::Publish { name } => writes::publish(ctx, headers, &name, body).await,
        Endpoint::Update { name } => writes::update(ctx, &name, body).await,
        Endpoint::Unpublish { name } => writes::unpublish(ctx, &name).await,
        Endpoint::DeleteTarball { name, file } => writes::delete_tarball(ctx, &name, &file).await,
    }
}

/// `GET /{name}`: "the packument", abbreviated when the client sends `Accept:
/// application/vnd.npm.install-v1+json`. Rendered once per change of the package and
/// representation, gzipped once for clients that accept it, with an `ETag`.
async fn get_packument(ctx: &Ctx<'_>, headers: &HeaderMap, name: &str) -> Result<Response> {
    let abbreviated = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(ABBREVIATED));
    if ctx.repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(ctx.state, &ctx.repo, name, abbreviated, &ctx.registry)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
        let content_type = if abbreviated {
            ABBREVIATED
        } else {
            "application/json"
        };
        return Ok((
            [(header::CONTENT_TYPE, content_type)],
            Value::Object(doc).to_string(),
        )
            .into_response());
    }
    let package = ctx.package_in(&ctx.repo, name).await?;
    let gzip = accepts_gzip(headers);
    let tag = package.content_tag();
    let etag = format!(
        "\"{tag}.{}{}\"",
        if abbreviated { 'a' } else { 'f' },
        if gzip { ".gz" } else { "" }
    );
    if not_modified(headers, &etag, None) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let key = format!("{}|{abbreviated}|{gzip}|{}", package.id, ctx.registry);
    let body = ctx
        .cache
        .get_or_render(
            &ctx.state.upstream,
            key,
            &tag,
            package.created_at,
            gzip,
            || async {
                packument::render(ctx.state, &package, abbreviated, &ctx.registry)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("package {name} not found")))
            },
        )
        .await?;
    let content_type = if abbreviated {
        ABBREVIATED
    } else {
        "application/json"
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// The version a dist-tag or version string names.
pub(crate) async fn resolve_spec(ctx: &Ctx<'_>, package: &Package, spec: &str) -> Result<String> {
    let tagged = ctx
        .state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?
        .into_iter()
        .find_map(|(name, value)| (name.strip_prefix(TAG_PREFIX) == Some(spec)).then_some(value));
    Ok(tagged.unwrap_or_else(|| spec.to_owned()))
}

/// `GET /{name}/{version-or-tag}`: one version's manifest.
async fn get_manifest(ctx: &Ctx<'_>, name: &str, spec: &str) -> Result<Response> {
    if ctx.repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(ctx.state, &ctx.repo, name, false, &ctx.registry)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
        let version = doc["dist-tags"][spec].as_str().unwrap_or(spec);
        let manifest = doc["versions"]
            .get(version)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("version not found: {name}@{spec}")))?;
        return Ok(Json(manifest).into_response());
    }
    let package = ctx.package_in(&ctx.repo, name).await?;
    let wanted = resolve_spec(ctx, &package, spec).await?;
    let missing = || Error::not_found(format!("version not found: {name}@{spec}"));
    let version = ctx
        .state
        .store
        .version(package.id, &wanted)
        .await?
        .ok_or_else(missing)?;
    let member = ctx
        .state
        .store
        .properties(PropertyOwner::Version(version.id))
        .await?
        .into_iter()
        .find_map(|(name, value)| (name == FULL).then_some(value))
        .ok_or_else(missing)?;
    let (_, manifest) = parse_member(&member)?;
    let text = with_base(&Value::Object(manifest).to_string(), &ctx.registry);
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// `GET /{name}/-/{file}`: a tarball, as published.
async fn get_tarball(
    ctx: &Ctx<'_>,
    method: &Method,
    headers: &HeaderMap,
    name: &str,
    file: &str,
) -> Result<Response> {
    let entry = sources::tarball_of(ctx.state, &ctx.repo, name, file)
        .await?
        .ok_or_else(|| Error::not_found(format!("tarball {file} of {name} not found")))?;
    let response = serve_blob(
        &ctx.state.blobs,
        method,
        headers,
        Download {
            blob: &entry.blob,
            modified: entry.created_at,
            content_type: "application/octet-stream",
            redirect: ctx.repo.policy.redirect_downloads,
        },
    )
    .await?;
    Ok(ctx
        .state
        .downloads
        .counted(method, response, entry.version_id))
}

/// `GET /-/package/{name}/dist-tags`.
async fn dist_tags(ctx: &Ctx<'_>, name: &str) -> Result<Response> {
    if ctx.repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(ctx.state, &ctx.repo, name, true, &ctx.registry)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
        return Ok(Json(doc.get("dist-tags").cloned().unwrap_or_default()).into_response());
    }
    let package = ctx.package_in(&ctx.repo, name).await?;
    let head = packument::head(ctx.state, &package).await?;
    Ok(Json(Value::Object(head.tags)).into_response())
}
