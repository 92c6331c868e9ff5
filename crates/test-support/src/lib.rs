//! Test helpers shared by every crate's tests: databases on both engines, an in-process
//! TestApp over in-memory blobs, and a real `wharf` binary on a free port.

pub mod db;

pub use db::{TestDb, test_databases};
