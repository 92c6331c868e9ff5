//! The pipeline itself: one axum handler, generic over the [`Protocol`], that parses,
//! authenticates, resolves, authorizes, instruments, handles and renders (see the module doc
//! of [`super`]).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;
use axum::{Extension, Router};
use http::request::Parts;
use tracing::Instrument as _;
use wharf_core::Error;
use wharf_core::auth::{authorize, require, signed_in};
use wharf_core::model::Scope;

use super::{Access, Call, Endpoint, Parsed, Protocol, Site, Target};
use crate::state::AppState;

/// The routes of `protocol` for a format's own URL space: every path below where the format is
/// nested (`/cargo`), the mount point itself included.
pub fn routes<P: Protocol>(protocol: P) -> Router<AppState> {
    mount("", protocol)
}

/// The routes of `protocol` at a fixed root of the server (OCI's `/v2`): the root with and
/// without its trailing `/`, and every path below it. Parsers see paths below the root.
pub fn mount<P: Protocol>(root: &'static str, protocol: P) -> Router<AppState> {
    let mut router = Router::new();
    if !root.is_empty() {
        router = router.route(root, any(serve::<P>));
    }
    router
        .route(&format!("{root}/"), any(serve::<P>))
        .route(&format!("{root}/{{*path}}"), any(serve::<P>))
        .layer(Extension(Mounted {
            root,
            protocol: Arc::new(protocol),
        }))
}

/// A protocol and the root it is mounted at.
struct Mounted<P> {
    root: &'static str,
    protocol: Arc<P>,
}

impl<P> Clone for Mounted<P> {
    fn clone(&self) -> Self {
        Self {
            root: self.root,
            protocol: self.protocol.clone(),
        }
    }
}

async fn serve<P: Protocol>(
    State(state): State<AppState>,
    Extension(Mounted { root, protocol }): Extension<Mounted<P>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let base = state.base_url(&parts.headers);
    let Parsed {
        repository,
        endpoint,
    } = match parse(protocol.as_ref(), root, &parts) {
        Ok(parsed) => parsed,
        Err(error) => {
            let site = Site {
                base: &base,
                headers: &parts.headers,
                repository: None,
                endpoint: None,
            };
            return protocol.render(error, &site);
        }
    };
    let format = protocol.format();
    let operation = endpoint.operation();
    let span = tracing::info_span!(
        "operation",
        format,
        operation,
        repository = repository.as_deref().unwrap_or("-")
    );
    let started = Instant::now();
    let request = Resolved {
        state: &state,
        parts: &parts,
        base: &base,
        repository: repository.as_deref(),
    };
    let response = run(protocol.as_ref(), request, &endpoint, body)
        .instrument(span)
        .await
        .unwrap_or_else(|error| {
            let site = Site {
                base: &base,
                headers: &parts.headers,
                repository: repository.as_deref(),
                endpoint: Some(&endpoint),
            };
            protocol.render(error, &site)
        });
    count(format, operation, &response, started);
    response
}

/// The request decoded and parsed by the protocol.
fn parse<P: Protocol>(
    protocol: &P,
    root: &str,
    parts: &Parts,
) -> Result<Parsed<P::Endpoint>, P::Error> {
    let path = parts.uri.path();
    let raw_path = path
        .strip_prefix(root)
        .unwrap_or(path)
        .trim_start_matches('/');
    let path = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| Error::invalid("the path is not UTF-8 once decoded"))?;
    protocol.parse(&Target {
        method: &parts.method,
        path: &path,
        raw_path,
        query: parts.uri.query(),
    })
}

/// A parsed request on its way to the handler.
struct Resolved<'a> {
    state: &'a AppState,
    parts: &'a Parts,
    base: &'a str,
    repository: Option<&'a str>,
}

/// Authenticates, resolves the repository, authorizes and handles.
async fn run<P: Protocol>(
    protocol: &P,
    request: Resolved<'_>,
    endpoint: &P::Endpoint,
    body: Body,
) -> Result<Response, P::Error> {
    let Resolved {
        state,
        parts,
        base,
        repository,
    } = request;
    let caller = protocol.authenticate(state, &parts.headers).await?;
    let resolved = match repository {
        None => None,
        Some(name) => match state.repository(protocol.format(), name).await {
            Ok(repo) => Some(repo),
            Err(Error::NotFound(_))
                if caller.is_none() && protocol.hides_missing_repositories() =>
            {
                return Err(Error::Unauthorized("authentication required".into()).into());
            }
            Err(e) => return Err(e.into()),
        },
    };
    check(endpoint.access(), caller.as_ref(), resolved.as_ref())?;
    let call = Call {
        state,
        caller,
        repository: resolved,
        base: base.to_owned(),
        method: parts.method.clone(),
        uri: parts.uri.clone(),
        headers: parts.headers.clone(),
        extensions: parts.extensions.clone(),
    };
    protocol.handle(&call, endpoint, body).await
}

/// Whether the caller has the access an endpoint needs.
fn check(
    access: Access,
    caller: Option<&wharf_core::auth::Principal>,
    repo: Option<&wharf_core::model::Repository>,
) -> Result<(), Error> {
    match (access, repo) {
        (Access::Open, _) => Ok(()),
        (Access::SignedIn, _) => signed_in(caller).map(|_| ()),
        (Access::Read, Some(repo)) => authorize(caller, repo, Scope::Read),
        (Access::Write, Some(repo)) => require(caller, repo, Scope::Write).map(|_| ()),
        (Access::Read | Access::Write, None) => Err(Error::internal_msg(
            "an endpoint that needs a repository addresses none",
        )),
    }
}

/// Counts a request by its protocol operation.
fn count(format: &'static str, operation: &'static str, response: &Response, started: Instant) {
    let status: Cow<'static, str> = Cow::Owned(response.status().as_u16().to_string());
    metrics::counter!("wharf_requests_total", "format" => format, "operation" => operation, "status" => status)
        .increment(1);
    metrics::histogram!("wharf_request_duration_seconds", "format" => format, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
}
