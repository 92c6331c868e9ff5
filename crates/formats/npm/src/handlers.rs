//! The npm registry protocol on the kernel's pipeline ([`Npm`]) and its thin handlers: each
//! calls the operation and answers in the registry's shapes. Reads live here; writes in
//! [`crate::writes`], accounts in [`crate::users`], search in [`crate::search`], audits in [`crate::audit`].

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header;
use serde_json::Value;
use wharf_core::model::{Package, PropertyOwner, RepoKind, Repository};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::protocol::{Call, Parsed, Protocol, Site, Target};
use wharf_server::render_cache::{Document, RenderCache};

use crate::error::NpmError;
use crate::manifest::{FULL, TAG_PREFIX, parse_member, with_base};
use crate::request::{Endpoint, parse};
use crate::{packument, search, sources, users, writes};

/// The media type of abbreviated packuments (npm's "corgi" documents).
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// The npm registry protocol, with rendered packuments of hosted packages cached by their
/// content tag.
#[derive(Default)]
pub(crate) struct Npm {
    cache: RenderCache,
}

#[async_trait::async_trait]
impl Protocol for Npm {
    type Endpoint = Endpoint;
    type Error = NpmError;

    fn format(&self) -> &'static str {
        "npm"
    }

    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Endpoint>, NpmError> {
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
    ) -> Result<Response, NpmError> {
        Ok(handle(call, &self.cache, endpoint, body).await?)
    }

    fn render(&self, error: NpmError, site: &Site<'_, Endpoint>) -> Response {
        let registry = site
            .repository
            .map(|repo| format!("{}/npm/{repo}", site.base));
        NpmError {
            registry: error.registry.or(registry),
            ..error
        }
        .into_response()
    }
}

/// The repository's registry URL, without a trailing `/`.
pub(crate) fn registry(call: &Call<'_>) -> String {
    let name = call
        .repository
        .as_ref()
        .map(|r| r.name.as_str())
        .unwrap_or_default();
    format!("{}/npm/{name}", call.base)
}

/// A package of `repo`, or npm's 404.
pub(crate) async fn package_in(state: &AppState, repo: &Repository, name: &str) -> Result<Package> {
    state
        .store
        .package(repo.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {name} not found")))
}

async fn handle(
    call: &Call<'_>,
    cache: &RenderCache,
    endpoint: &Endpoint,
    body: Body,
) -> Result<Response> {
    let (state, headers) = (call.state, &call.headers);
    match endpoint {
        Endpoint::Ping => Ok(Json(serde_json::json!({})).into_response()),
        Endpoint::Whoami => users::whoami(call),
        Endpoint::Login { user } => users::login(call, user, body).await,
        Endpoint::Logout { token } => users::logout(call, token).await,
        Endpoint::ListTokens => users::list_tokens(call).await,
        Endpoint::CreateToken => users::create_token(call, body).await,
        Endpoint::RevokeToken { key } => users::revoke_token(call, key).await,
        Endpoint::Search => search::search(call, call.query()).await,
        Endpoint::Audit { bulk } => {
            crate::audit::audit(state, call.repo()?, *bulk, headers, body).await
        }
        Endpoint::DistTags { name } => dist_tags(call, name).await,
        Endpoint::DistTag { name, tag, set } => writes::dist_tag(call, name, tag, *set, body).await,
        Endpoint::Packument { name } => get_packument(call, cache, name).await,
        Endpoint::Manifest { name, spec } => get_manifest(call, name, spec).await,
        Endpoint::Tarball { name, file } => get_tarball(call, name, file).await,
        Endpoint::Publish { name } => writes::publish(call, headers, name, body).await,
        Endpoint::Update { name } => crate::updates::update(call, name, body).await,
        Endpoint::Unpublish { name } => writes::unpublish(call, name).await,
        Endpoint::DeleteTarball { name, file } => writes::delete_tarball(call, name, file).await,
    }
}

/// `GET /{name}`: "the packument", abbreviated when the client sends `Accept:
/// application/vnd.npm.install-v1+json`. Rendered once per change of the package and
/// representation, gzipped once for clients that accept it, with an `ETag`.
async fn get_packument(call: &Call<'_>, cache: &RenderCache, name: &str) -> Result<Response> {
    let (headers, repo, registry) = (&call.headers, call.repo()?, registry(call));
    let abbreviated = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(ABBREVIATED));
    if repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(call.state, repo, name, abbreviated, &registry)
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
    let package = package_in(call.state, repo, name).await?;
    let document = Document {
        package: &package,
        variant: if abbreviated { 'a' } else { 'f' },
        base: &registry,
        content_type: if abbreviated {
            ABBREVIATED
        } else {
            "application/json"
        },
    };
    cache
        .respond(call.state, headers, document, || async {
            packument::render(call.state, &package, abbreviated, &registry)
                .await?
                .ok_or_else(|| Error::not_found(format!("package {name} not found")))
        })
        .await
}

/// The version a dist-tag or version string names.
pub(crate) async fn resolve_spec(
    state: &AppState,
    package: &Package,
    spec: &str,
) -> Result<String> {
    let tagged = state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?
        .into_iter()
        .find_map(|(name, value)| (name.strip_prefix(TAG_PREFIX) == Some(spec)).then_some(value));
    Ok(tagged.unwrap_or_else(|| spec.to_owned()))
}

/// `GET /{name}/{version-or-tag}`: one version's manifest.
async fn get_manifest(call: &Call<'_>, name: &str, spec: &str) -> Result<Response> {
    let (repo, registry) = (call.repo()?, registry(call));
    if repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(call.state, repo, name, false, &registry)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
        let version = doc["dist-tags"][spec].as_str().unwrap_or(spec);
        let manifest = doc["versions"]
            .get(version)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("version not found: {name}@{spec}")))?;
        return Ok(Json(manifest).into_response());
    }
    let package = package_in(call.state, repo, name).await?;
    let wanted = resolve_spec(call.state, &package, spec).await?;
    let missing = || Error::not_found(format!("version not found: {name}@{spec}"));
    let version = call
        .state
        .store
        .version(package.id, &wanted)
        .await?
        .ok_or_else(missing)?;
    let member = call
        .state
        .store
        .properties(PropertyOwner::Version(version.id))
        .await?
        .into_iter()
        .find_map(|(name, value)| (name == FULL).then_some(value))
        .ok_or_else(missing)?;
    let (_, manifest) = parse_member(&member)?;
    let text = with_base(&Value::Object(manifest).to_string(), &registry);
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// `GET /{name}/-/{file}`: a tarball, as published.
async fn get_tarball(call: &Call<'_>, name: &str, file: &str) -> Result<Response> {
    let repo = call.repo()?;
    let entry = sources::tarball_of(call.state, repo, name, file)
        .await?
        .ok_or_else(|| Error::not_found(format!("tarball {file} of {name} not found")))?;
    call.serve_file(repo, &entry, "application/octet-stream")
        .await
}

/// `GET /-/package/{name}/dist-tags`.
async fn dist_tags(call: &Call<'_>, name: &str) -> Result<Response> {
    let (repo, registry) = (call.repo()?, registry(call));
    if repo.kind != RepoKind::Hosted {
        let doc = sources::packument_of(call.state, repo, name, true, &registry)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
        return Ok(Json(doc.get("dist-tags").cloned().unwrap_or_default()).into_response());
    }
    let package = package_in(call.state, repo, name).await?;
    let head = packument::head(call.state, &package).await?;
    Ok(Json(Value::Object(head.tags)).into_response())
}
