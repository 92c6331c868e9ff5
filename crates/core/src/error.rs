//! The error kinds every layer of Wharf speaks. Formats turn them into their own wire shapes.

use std::error::Error as StdError;

/// A boxed source error kept for logs, never shown to clients.
pub type Source = Box<dyn StdError + Send + Sync + 'static>;

/// Result with Wharf's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, by kind. Messages are safe to show to clients; sources are for logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing exists already, or the request clashes with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed or breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// No credentials, or credentials that do not match anybody.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the needed scope.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the repository allows.
    #[error("body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The content does not hash to what the client claimed.
    #[error("digest mismatch: expected {expected}, received content hashes to {actual}")]
    DigestMismatch {
        /// The digest the client gave.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The request body broke off before its end (client disconnect, bad framing).
    #[error("the request body could not be read: {0}")]
    BodyRead(String),
    /// Too many failed attempts: the caller must wait.
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// An upstream registry failed or could not be reached, and nothing cached can answer.
    #[error("{0}")]
    Upstream(String),
    /// A failure of Wharf or of a backend; the message is generic, the source is logged.
    #[error("{context}")]
    Internal {
        /// What Wharf was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Option<Source>,
    },
}

impl Error {
    /// An internal error with a source, for backend failures.
    pub fn internal(context: impl Into<String>, source: impl Into<Source>) -> Self {
        Self::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// An internal error without a source.
    pub fn internal_msg(context: impl Into<String>) -> Self {
        Self::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    /// Shorthand for [`Error::Conflict`].
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }

    /// The HTTP status this kind maps to; formats may refine it.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Invalid(_) | Self::DigestMismatch { .. } | Self::BodyRead(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::TooLarge { .. } => 413,
            Self::RateLimited { .. } => 429,
            Self::Upstream(_) => 502,
            Self::Internal { .. } => 500,
        }
    }
}
