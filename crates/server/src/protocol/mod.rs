//! The request pipeline every package protocol runs through, so that a format is a parser of
//! its protocol into endpoints plus the operations behind them, and the kernel does the rest
//! once for all:
//!
//! 1. the format parses the request (method, path, query) into the repository it addresses and
//!    an [`Endpoint`] that knows its operation name and the [`Access`] it needs;
//! 2. the kernel authenticates the caller (the format may read credentials its own way),
//!    resolves the repository, and authorizes the endpoint's access;
//! 3. it runs the format's handler inside a span (`format`, `operation`, `repository`),
//!    counting it by operation (`wharf_requests_total{format,operation,status}` and the
//!    latency histogram `wharf_request_duration_seconds{format,operation}`);
//! 4. any error, at any step, is rendered by the format in its clients' shape, knowing the
//!    repository and endpoint it concerns (cargo's login URL, npm's login hint and OCI's Bearer
//!    challenge come from there).
//!
//! [`routes`] mounts a [`Protocol`] under its format's URL space, [`mount`] at a fixed root.

mod call;
mod pipeline;

use async_trait::async_trait;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method};
use wharf_core::Error;
use wharf_core::auth::Principal;

pub use call::Call;
pub use pipeline::{mount, routes};

use crate::state::AppState;

/// What an operation needs from the caller, checked against the addressed repository before
/// the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading: nobody where the repository allows anonymous reads, else read scope.
    Read,
    /// Writing: a signed-in caller with write scope on the repository.
    Write,
    /// A signed-in caller, whatever the repository allows (the operation acts as somebody).
    SignedIn,
    /// Nothing: the operation decides itself (login pages, version checks, token endpoints).
    Open,
}

/// An endpoint of a protocol, parsed from a request once.
pub trait Endpoint: Send + Sync + 'static {
    /// The operation's name, qualified by its format (`cargo.index`, `npm.publish`), for
    /// metrics and logs.
    fn operation(&self) -> &'static str;
    /// What the caller needs.
    fn access(&self) -> Access;
}

/// The request as a parser sees it.
#[derive(Debug)]
pub struct Target<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path below the format's mount point, percent-decoded.
    pub path: &'a str,
    /// The same, as sent (for protocols where an encoded `/` must stay inside a segment).
    pub raw_path: &'a str,
    /// The query string, if any.
    pub query: Option<&'a str>,
}

/// A parsed request: the repository it addresses (none for endpoints of the whole registry)
/// and the endpoint.
#[derive(Debug)]
pub struct Parsed<E> {
    /// The repository's name, as the path gives it.
    pub repository: Option<String>,
    /// The endpoint.
    pub endpoint: E,
}

/// Where an error happened, for rendering it in the protocol's shape.
#[derive(Debug)]
pub struct Site<'a, E> {
    /// The URL clients reach Wharf at (no trailing `/`).
    pub base: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The repository's name, once parsed.
    pub repository: Option<&'a str>,
    /// The endpoint, once parsed.
    pub endpoint: Option<&'a E>,
}

/// A package protocol: how requests are parsed, handled and answered when they fail.
#[async_trait]
pub trait Protocol: Send + Sync + 'static {
    /// The endpoints the protocol parses requests into.
    type Endpoint: Endpoint;
    /// The protocol's error, which every kernel error converts into.
    type Error: From<Error> + Send + 'static;

    /// The format key (repository format, metrics label).
    fn format(&self) -> &'static str;

    /// Parses a request.
    ///
    /// # Errors
    /// When the request is no request of this protocol.
    fn parse(&self, target: &Target<'_>) -> Result<Parsed<Self::Endpoint>, Self::Error>;

    /// The caller, if the request carries credentials; by default any form Wharf accepts
    /// ([`crate::auth::authenticate`]).
    ///
    /// # Errors
    /// When credentials are present but wrong.
    async fn authenticate(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, Self::Error> {
        Ok(crate::auth::authenticate(state, headers).await?)
    }

    /// Whether a caller without credentials is asked for them (401) before learning that a
    /// repository does not exist, as registry clients that log in on demand expect.
    fn hides_missing_repositories(&self) -> bool {
        false
    }

    /// Handles an authorized request.
    ///
    /// # Errors
    /// What the operation fails with, rendered by [`Protocol::render`].
    async fn handle(
        &self,
        call: &Call<'_>,
        endpoint: &Self::Endpoint,
        body: Body,
    ) -> Result<Response, Self::Error>;

    /// Renders an error in the protocol's shape.
    fn render(&self, error: Self::Error, site: &Site<'_, Self::Endpoint>) -> Response;
}
