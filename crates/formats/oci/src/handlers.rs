//! The dispatcher: parses the path once, authenticates, routes each (method, endpoint) pair
//! to the handler of that protocol operation, and adds the Bearer challenge to every 401.
//! Also the operations that span the registry: the version check and the catalog.

use axum::Json;
use axum::body::Body;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde::Deserialize;
use serde_json::json;
use wharf_core::Error;
use wharf_core::auth::{Principal, authorize};
use wharf_core::model::{RepoKind, Repository, Scope};
use wharf_server::AppState;

use crate::auth::{caller, challenge, token, unauthorized};
use crate::cache::Manifests;
use crate::error::{Code, OciError};
use crate::proxy::Tokens;
use crate::request::{Endpoint, Name, parse};
use crate::{FORMAT, blobs, manifests, tags, uploads};

/// What the requests of this process share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    tokens: Tokens,
    manifests: Manifests,
}

/// What every handler gets.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub headers: &'a HeaderMap,
    pub method: &'a Method,
    pub query: Option<&'a str>,
    pub caller: Option<Principal>,
    /// Tokens of proxies' upstreams.
    pub tokens: &'a Tokens,
    /// Manifests read from hosted images.
    pub manifests: &'a Manifests,
}

impl Ctx<'_> {
    /// The repository `name` lives in, once the caller may read it (or write, with `write`).
    /// A caller without credentials is asked for them before learning whether it exists.
    pub async fn open(&self, name: &Name, write: bool) -> Result<Repository, OciError> {
        let repo = match self.state.repository(FORMAT, &name.repo).await {
            Ok(repo) => repo,
            Err(Error::NotFound(_)) if self.caller.is_none() => {
                return Err(unauthorized("authentication required"));
            }
            Err(Error::NotFound(message)) => return Err(OciError::new(Code::NameUnknown, message)),
            Err(e) => return Err(e.into()),
        };
        let scope = if write { Scope::Write } else { Scope::Read };
        authorize(self.caller.as_ref(), &repo, scope)?;
        if write && repo.kind != RepoKind::Hosted {
            return Err(OciError::new(
                Code::Denied,
                format!(
                    "repository {} is a {} repository: push to a hosted one",
                    repo.name,
                    repo.kind.as_str()
                ),
            ));
        }
        Ok(repo)
    }
}

/// Every request under `/v2`.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Extension(shared): Extension<Arc<Shared>>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().strip_prefix("/v2").unwrap_or(uri.path());
    let endpoint = match parse(path) {
        Ok(endpoint) => endpoint,
        Err(e) => return e.into_response(),
    };
    let name = endpoint_name(&endpoint).cloned();
    let push = !matches!(method, Method::GET | Method::HEAD);
    let result = async {
        let ctx = Ctx {
            state: &state,
            headers: &headers,
            method: &method,
            query: query.as_deref(),
            caller: caller(&state, &headers).await?,
            tokens: &shared.tokens,
            manifests: &shared.manifests,
        };
        route(&ctx, endpoint, body).await
    }
    .await;
    let mut response = match result {
        Ok(response) => response,
        Err(mut e) => {
            if e.code == Code::Unauthorized {
                e = e.with_header(
                    header::WWW_AUTHENTICATE,
                    challenge(&state, &headers, name.as_ref(), push),
                );
            }
            e.into_response()
        }
    };
    response.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    response
}

fn endpoint_name(endpoint: &Endpoint) -> Option<&Name> {
    match endpoint {
        Endpoint::Base | Endpoint::Token | Endpoint::Catalog => None,
        Endpoint::Blob(name, _)
        | Endpoint::StartUpload(name)
        | Endpoint::Upload(name, _)
        | Endpoint::Manifest(name, _)
        | Endpoint::Tags(name)
        | Endpoint::Referrers(name, _) => Some(name),
    }
}

async fn route(ctx: &Ctx<'_>, endpoint: Endpoint, body: Body) -> Result<Response, OciError> {
    let method = ctx.method.clone();
    match (method, endpoint) {
        (Method::GET | Method::HEAD, Endpoint::Base) => base(ctx),
        (Method::GET, Endpoint::Token) => token(ctx.state, ctx.headers).await,
        (Method::GET, Endpoint::Catalog) => catalog(ctx).await,
        (Method::GET | Method::HEAD, Endpoint::Blob(name, sha)) => {
            blobs::get(ctx, &name, &sha).await
        }
        (Method::DELETE, Endpoint::Blob(name, sha)) => blobs::delete(ctx, &name, &sha).await,
        (Method::POST, Endpoint::StartUpload(name)) => uploads::start(ctx, &name, body).await,
        (Method::PATCH, Endpoint::Upload(name, id)) => uploads::patch(ctx, &name, &id, body).await,
        (Method::PUT, Endpoint::Upload(name, id)) => uploads::finish(ctx, &name, &id, body).await,
        (Method::GET, Endpoint::Upload(name, id)) => uploads::status(ctx, &name, &id).await,
        (Method::DELETE, Endpoint::Upload(name, id)) => uploads::cancel(ctx, &name, &id).await,
        (Method::GET | Method::HEAD, Endpoint::Manifest(name, reference)) => {
            crate::pull::get(ctx, &name, &reference).await
        }
        (Method::PUT, Endpoint::Manifest(name, reference)) => {
            manifests::put(ctx, &name, &reference, body).await
        }
        (Method::DELETE, Endpoint::Manifest(name, reference)) => {
            manifests::delete(ctx, &name, &reference).await
        }
        (Method::GET, Endpoint::Tags(name)) => tags::list(ctx, &name).await,
        (Method::GET, Endpoint::Referrers(name, sha)) => tags::referrers(ctx, &name, &sha).await,
        (method, _) => Err(OciError::new(
            Code::Unsupported,
            format!("{method} is not supported here"),
        )),
    }
}

/// `GET /v2/`: "end-1" of the spec; 401 without credentials, so that clients log in before
/// they push (anonymous pulls then go through the token endpoint's `anonymous` token).
fn base(ctx: &Ctx<'_>) -> Result<Response, OciError> {
    let anonymous_token = ctx
        .headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"bearer anonymous"));
    if ctx.caller.is_none() && !anonymous_token {
        return Err(unauthorized("authentication required"));
    }
    Ok(Json(json!({})).into_response())
}

/// Query of the listings: `n` entries after `last`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Page {
    pub n: Option<usize>,
    pub last: Option<String>,
}

impl Page {
    pub fn parse(query: Option<&str>) -> Result<Self, OciError> {
        wharf_server::query::parse_query(query).map_err(|e| {
            OciError::new(Code::Unsupported, e.to_string()).with_status(StatusCode::BAD_REQUEST)
        })
    }

    /// The page of the sorted `items`, and the `Link` to the next one if there is more.
    pub fn cut(&self, items: &[String], path: &str) -> (Vec<String>, Option<String>) {
        let start = self
            .last
            .as_ref()
            .map_or(0, |last| items.partition_point(|i| i <= last));
        let rest = &items[start.min(items.len())..];
        match self.n {
            Some(n) if n < rest.len() => {
                let page = rest[..n].to_vec();
                let link = page
                    .last()
                    .map(|last| format!("<{path}?n={n}&last={}>; rel=\"next\"", encode(last)));
                (page, link)
            }
            _ => (rest.to_vec(), None),
        }
    }
}

fn encode(text: &str) -> String {
    text.replace('%', "%25")
        .replace('/', "%2F")
        .replace(' ', "%20")
}

/// `GET /v2/_catalog` ("Listing Repositories" of the distribution API): the images of every
/// OCI repository the caller may read, as `repository/image`, sorted.
async fn catalog(ctx: &Ctx<'_>) -> Result<Response, OciError> {
    let page = Page::parse(ctx.query)?;
    let mut names = Vec::new();
    for repo in ctx.state.store.list_repositories().await? {
        if repo.format != FORMAT || authorize(ctx.caller.as_ref(), &repo, Scope::Read).is_err() {
            continue;
        }
        let mut after: Option<String> = None;
        loop {
            let packages = ctx
                .state
                .store
                .list_packages(repo.id, after.as_deref(), 1000)
                .await?;
            let full = packages.len() == 1000;
            after = packages.last().map(|p| p.name.clone());
            names.extend(
                packages
                    .into_iter()
                    .map(|p| format!("{}/{}", repo.name, p.name)),
            );
            if !full {
                break;
            }
        }
    }
    names.sort();
    let (names, link) = page.cut(&names, "/v2/_catalog");
    let mut response = Json(json!({"repositories": names})).into_response();
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
