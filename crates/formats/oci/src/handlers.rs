//! The OCI distribution API on the kernel's pipeline ([`Oci`]): each (method, endpoint) pair is
//! an operation with the access it needs; a 401 carries the Bearer challenge docker, podman
//! and skopeo follow to the token endpoint. Also the operations that span the registry: the
//! version check and the catalog.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use wharf_core::Error;
use wharf_core::auth::{Principal, authorize};
use wharf_core::model::{RepoKind, Repository, Scope};
use wharf_server::AppState;
use wharf_server::protocol::{self, Access, Call, Parsed, Protocol, Site, Target};

use crate::auth::{caller, challenge, token, unauthorized};
use crate::cache::Manifests;
use crate::error::{Code, OciError};
use crate::proxy::Tokens;
use crate::request::{Endpoint, Name, parse};
use crate::{FORMAT, blobs, manifests, tags, uploads};

/// The OCI protocol, with what its requests share in this process: proxies' upstream tokens
/// and the manifests read from hosted images.
#[derive(Debug, Default)]
pub(crate) struct Oci {
    pub tokens: Tokens,
    pub manifests: Manifests,
}

/// A request: the path's endpoint and what its method does there.
#[derive(Debug)]
pub(crate) struct Operation {
    pub method: Method,
    pub endpoint: Endpoint,
}

impl protocol::Endpoint for Operation {
    fn operation(&self) -> &'static str {
        let m = &self.method;
        let read = matches!(*m, Method::GET | Method::HEAD);
        match (&self.endpoint, m) {
            (Endpoint::Base, _) if read => "oci.base",
            (Endpoint::Token, &Method::GET) => "oci.token",
            (Endpoint::Catalog, &Method::GET) => "oci.catalog",
            (Endpoint::Blob(..), _) if read => "oci.blob_get",
            (Endpoint::Blob(..), &Method::DELETE) => "oci.blob_delete",
            (Endpoint::StartUpload(_), &Method::POST) => "oci.blob_upload_start",
            (Endpoint::Upload(..), &Method::PATCH) => "oci.blob_upload_chunk",
            (Endpoint::Upload(..), &Method::PUT) => "oci.blob_upload_finish",
            (Endpoint::Upload(..), &Method::GET) => "oci.blob_upload_status",
            (Endpoint::Upload(..), &Method::DELETE) => "oci.blob_upload_cancel",
            (Endpoint::Manifest(..), _) if read => "oci.manifest_get",
            (Endpoint::Manifest(..), &Method::PUT) => "oci.manifest_put",
            (Endpoint::Manifest(..), &Method::DELETE) => "oci.manifest_delete",
            (Endpoint::Tags(_), &Method::GET) => "oci.tags",
            (Endpoint::Referrers(..), &Method::GET) => "oci.referrers",
            _ => "oci.unsupported",
        }
    }

    fn access(&self) -> Access {
        match self.operation() {
            "oci.base" | "oci.token" | "oci.catalog" | "oci.unsupported" => Access::Open,
            "oci.blob_get" | "oci.manifest_get" | "oci.tags" | "oci.referrers" => Access::Read,
            _ => Access::Write,
        }
    }
}

impl Operation {
    /// The image the request concerns, if any.
    fn name(&self) -> Option<&Name> {
        match &self.endpoint {
            Endpoint::Base | Endpoint::Token | Endpoint::Catalog => None,
            Endpoint::Blob(name, _)
            | Endpoint::StartUpload(name)
            | Endpoint::Upload(name, _)
            | Endpoint::Manifest(name, _)
            | Endpoint::Tags(name)
            | Endpoint::Referrers(name, _) => Some(name),
        }
    }
}

#[async_trait::async_trait]
impl Protocol for Oci {
    type Endpoint = Operation;
    type Error = OciError;

    fn format(&self) -> &'static str {
        FORMAT
    }

    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Operation>, OciError> {
        let operation = Operation {
            method: target.method.clone(),
            endpoint: parse(target.path)?,
        };
        let repository = match protocol::Endpoint::access(&operation) {
            Access::Open => None,
            _ => operation.name().map(|n| n.repo.clone()),
        };
        Ok(Parsed {
            repository,
            endpoint: operation,
        })
    }

    async fn authenticate(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, OciError> {
        caller(state, headers).await
    }

    /// Registry clients log in on demand: an anonymous caller learns nothing of a repository
    /// before it sends credentials.
    fn hides_missing_repositories(&self) -> bool {
        true
    }

    async fn handle(
        &self,
        call: &Call<'_>,
        operation: &Operation,
        body: Body,
    ) -> Result<Response, OciError> {
        route(self, call, operation, body).await
    }

    fn render(&self, mut error: OciError, site: &Site<'_, Operation>) -> Response {
        if error.code == Code::Unauthorized {
            let name = site.endpoint.and_then(Operation::name);
            let push = site
                .endpoint
                .is_some_and(|o| !matches!(o.method, Method::GET | Method::HEAD));
            error = error.with_header(header::WWW_AUTHENTICATE, challenge(site.base, name, push));
        }
        error.into_response()
    }
}

/// The repository `name` lives in, for a caller who may read it (or write, with `write`). The
/// repository a request addresses was resolved and authorized by the kernel; another one (a
/// mount's source) is resolved here by the same rules. Writes go to hosted repositories only.
pub(crate) async fn open(
    call: &Call<'_>,
    name: &Name,
    write: bool,
) -> Result<Repository, OciError> {
    let addressed = call
        .repository
        .as_ref()
        .filter(|r| r.name.as_str() == name.repo);
    let repo = if let Some(repo) = addressed {
        repo.clone()
    } else {
        let repo = match call.state.repository(FORMAT, &name.repo).await {
            Ok(repo) => repo,
            Err(Error::NotFound(_)) if call.caller.is_none() => {
                return Err(unauthorized("authentication required"));
            }
            Err(Error::NotFound(message)) => {
                return Err(OciError::new(Code::NameUnknown, message));
            }
            Err(e) => return Err(e.into()),
        };
        let scope = if write { Scope::Write } else { Scope::Read };
        authorize(call.caller.as_ref(), &repo, scope)?;
        repo
    };
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

async fn route(
    oci: &Oci,
    call: &Call<'_>,
    operation: &Operation,
    body: Body,
) -> Result<Response, OciError> {
    match (&operation.method, &operation.endpoint) {
        (&Method::GET | &Method::HEAD, Endpoint::Base) => base(call),
        (&Method::GET, Endpoint::Token) => token(call.state, &call.headers).await,
        (&Method::GET, Endpoint::Catalog) => catalog(call).await,
        (&Method::GET | &Method::HEAD, Endpoint::Blob(name, sha)) => {
            blobs::get(oci, call, name, sha).await
        }
        (&Method::DELETE, Endpoint::Blob(name, sha)) => blobs::delete(call, name, sha).await,
        (&Method::POST, Endpoint::StartUpload(name)) => uploads::start(call, name, body).await,
        (&Method::PATCH, Endpoint::Upload(name, id)) => uploads::patch(call, name, id, body).await,
        (&Method::PUT, Endpoint::Upload(name, id)) => uploads::finish(call, name, id, body).await,
        (&Method::GET, Endpoint::Upload(name, id)) => uploads::status(call, name, id).await,
        (&Method::DELETE, Endpoint::Upload(name, id)) => uploads::cancel(call, name, id).await,
        (&Method::GET | &Method::HEAD, Endpoint::Manifest(name, reference)) => {
            crate::pull::get(oci, call, name, reference).await
        }
        (&Method::PUT, Endpoint::Manifest(name, reference)) => {
            manifests::put(call, name, reference, body).await
        }
        (&Method::DELETE, Endpoint::Manifest(name, reference)) => {
            manifests::delete(call, name, reference).await
        }
        (&Method::GET, Endpoint::Tags(name)) => tags::list(oci, call, name).await,
        (&Method::GET, Endpoint::Referrers(name, sha)) => tags::referrers(call, name, sha).await,
        (method, _) => Err(OciError::new(
            Code::Unsupported,
            format!("{method} is not supported here"),
        )),
    }
}

/// `GET /v2/`: "end-1" of the spec; 401 without credentials, so that clients log in before
/// they push (anonymous pulls then go through the token endpoint's `anonymous` token).
fn base(call: &Call<'_>) -> Result<Response, OciError> {
    let anonymous_token = call
        .headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"bearer anonymous"));
    if call.caller.is_none() && !anonymous_token {
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
async fn catalog(call: &Call<'_>) -> Result<Response, OciError> {
    let page = Page::parse(call.query())?;
    let mut names = Vec::new();
    for repo in call.state.store.list_repositories().await? {
        if repo.format != FORMAT || authorize(call.caller.as_ref(), &repo, Scope::Read).is_err() {
            continue;
        }
        let packages = call.state.store.all_packages(repo.id).await?;
        names.extend(
            packages
                .into_iter()
                .map(|p| format!("{}/{}", repo.name, p.name)),
        );
    }
    names.sort();
    let (names, link) = page.cut(&names, "/v2/_catalog");
    let mut response = Json(json!({"repositories": names})).into_response();
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
