//! Wharf's domain, independent of HTTP and SQL.
//!
//! This crate owns the model (repositories, packages, versions, files, blobs, users and
//! tokens), the validated identifiers every layer shares, the content-addressed
//! [`blob::BlobStore`], the metadata store traits that the `db` crate implements, and the use
//! cases — the only code that touches both metadata and blobs.

pub mod archive;
pub mod auth;
pub mod blob;
pub mod catalog;
pub mod digest;
pub mod error;
pub mod model;
pub mod names;
pub mod secret;
pub mod sessions;
pub mod store;
pub mod time;
pub mod uploads;
pub mod usecases;

pub use error::{Error, Result};
pub use secret::Secret;
