//! Test helpers shared by every crate's tests: databases on both engines, an in-process
//! [`TestApp`] over in-memory blobs, and a real `wharf` binary on a free port.

pub mod app;
pub mod db;
pub mod logs;
pub mod spawn;

pub use app::{Seen, Served, TestApp, TestResponse};
pub use db::{TestDb, test_databases};
pub use spawn::{WharfProcess, free_port, run_admin};
