//! Wharf's HTTP kernel.
//!
//! It owns the shared [`state::AppState`], authentication of requests ([`auth`]), the JSON
//! error shape of Wharf's own APIs ([`error`]), streaming request and response bodies with
//! Range and conditional requests ([`body`]), metrics, the management API under `/api/v1` with
//! its OpenAPI document, and the [`format::Format`] contract through which every package
//! format mounts its protocol. It calls `wharf-core` use cases and store traits, never SQL.

pub mod api;
pub mod auth;
pub mod body;
pub mod compress;
pub mod connections;
pub mod downloads;
pub mod error;
pub mod format;
pub mod groups;
pub mod logins;
pub mod metrics;
pub mod protocol;
pub mod query;
pub mod redact;
mod removals;
pub mod render_cache;
pub mod resolve;
pub mod router;
pub mod seed;
pub mod state;
pub mod upstream;

pub use error::ApiError;
pub use format::Format;
pub use router::build_router;
pub use seed::{Components, SeedApi};
pub use state::{AppState, ServerConfig};
