//! Logs of the test run, kept for the check that no secret reaches them: with
//! `WHARF_TEST_LOG_DIR` set (`scripts/test` sets it), in-process apps log at debug level to a
//! file of their test binary there, and spawned `wharf` processes write their output there.
//! `scripts/check-logs` then looks for token-shaped strings and the suite's passwords.

use std::path::PathBuf;
use std::sync::{Mutex, Once};

use tracing_subscriber::EnvFilter;

/// The filter of test logs: Wharf's own crates at debug level, the rest at info.
pub const FILTER: &str = "info,wharf=debug";

/// The directory of test logs, if the run keeps them.
#[must_use]
pub fn dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("WHARF_TEST_LOG_DIR")?);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// A new log file's path in [`dir`], named after `what` and unique in the run.
#[must_use]
pub fn file(what: &str) -> Option<PathBuf> {
    Some(dir()?.join(format!(
        "{what}-{}-{}.log",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )))
}

/// Sends this process's tracing output to a log file, once.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(path) = file("in-process") else {
            return;
        };
        let Ok(log) = std::fs::File::create(&path) else {
            return;
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(FILTER))
            .with_ansi(false)
            .with_writer(Mutex::new(log))
            .try_init();
    });
}
