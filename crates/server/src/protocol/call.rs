//! [`Call`]: what a protocol's handler is given — the state, the caller, the repository the
//! request addresses (resolved and authorized for the endpoint's access) and the request's
//! parts.

use http::{HeaderMap, Method, Uri};
use wharf_core::auth::{Principal, authorize};
use wharf_core::model::{Repository, Scope};
use wharf_core::{Error, Result};

use crate::state::AppState;

/// One request, authenticated and authorized.
pub struct Call<'a> {
    /// The shared state.
    pub state: &'a AppState,
    /// Who is calling, if the request carries credentials.
    pub caller: Option<Principal>,
    /// The repository the request addresses, if it addresses one.
    pub repository: Option<Repository>,
    /// The URL clients reach Wharf at (no trailing `/`).
    pub base: String,
    /// The method.
    pub method: Method,
    /// The URI as sent.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The request's extensions (body limits, peer address).
    pub extensions: http::Extensions,
}

impl Call<'_> {
    /// The repository the request addresses.
    ///
    /// # Errors
    /// [`Error::Internal`] for an endpoint that addresses none (a parser's bug).
    pub fn repo(&self) -> Result<&Repository> {
        self.repository
            .as_ref()
            .ok_or_else(|| Error::internal_msg("this endpoint addresses no repository"))
    }

    /// The request again around `body`, for extractors that read a whole request (multipart
    /// forms); its extensions keep the body limit the routes set.
    #[must_use]
    pub fn request(&self, body: axum::body::Body) -> axum::extract::Request {
        let mut request = axum::extract::Request::new(body);
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        *request.extensions_mut() = self.extensions.clone();
        request
    }

    /// Answers `file` of `repo` as a download ([`AppState::serve_file`]).
    ///
    /// # Errors
    /// As [`AppState::serve_file`].
    pub async fn serve_file(
        &self,
        repo: &Repository,
        file: &wharf_core::model::FileEntry,
        content_type: &str,
    ) -> Result<axum::response::Response> {
        self.state
            .serve_file(&self.method, &self.headers, repo, file, content_type)
            .await
    }

    /// The query string, if any.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// Authorizes the caller for `scope` on the repository (anonymous reads pass where it
    /// allows them), beyond what the endpoint's access already checked.
    ///
    /// # Errors
    /// As [`authorize`].
    pub fn allow(&self, scope: Scope) -> Result<()> {
        authorize(self.caller.as_ref(), self.repo()?, scope)
    }

    /// Authorizes a signed-in caller for `scope` on the repository and returns it.
    ///
    /// # Errors
    /// As [`wharf_core::auth::require`].
    pub fn require(&self, scope: Scope) -> Result<&Principal> {
        wharf_core::auth::require(self.caller.as_ref(), self.repo()?, scope)
    }

    /// The signed-in caller.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] without one.
    pub fn signed_in(&self) -> Result<&Principal> {
        wharf_core::auth::signed_in(self.caller.as_ref())
    }
}
