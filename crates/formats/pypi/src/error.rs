//! Errors as twine and pip show them: the reason in the HTTP reason phrase (where the public
//! index puts it, and what twine prints) and in a plain-text body, the status that says what
//! kind of failure it is, and a Basic challenge on 401 so twine asks for credentials.

use axum::response::{IntoResponse, Response};
use http::header;
use wharf_core::Error;
use wharf_server::error::{finish, parts};

/// An error rendered for Python clients.
#[derive(Debug)]
pub(crate) struct PypiError(pub Error);

impl From<Error> for PypiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl IntoResponse for PypiError {
    fn into_response(self) -> Response {
        let (status, message, logged) = parts(&self.0);
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{message}\n"),
        )
            .into_response();
        let phrase: String = message
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(300)
            .collect();
        if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()) {
            response.extensions_mut().insert(reason);
        }
        finish(response, &self.0, logged)
    }
}
