//! Test helpers shared by every crate's tests: databases on both engines, an in-process
//! [`TestApp`] over in-memory blobs, a real `wharf` binary on a free port, and the fixtures a
//! format's tests share with the seed API built on it ([`npm`], [`oci`]).

pub mod app;
pub mod db;
pub mod logs;
pub mod npm;
pub mod oci;
pub mod spawn;

pub use app::{Seen, Served, TestApp, TestResponse};
pub use db::{TestDb, test_databases};
pub use spawn::{WharfProcess, free_port, run_admin};
