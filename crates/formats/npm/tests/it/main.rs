//! In-process tests of the npm registry protocol, with hand-built publish bodies as npm
//! sends them.

mod bad_input;
mod proxy;
mod registry;
mod unpublish;

use wharf_test_support::TestResponse;
pub(crate) use wharf_test_support::npm::{good, manifest, publish_as, publish_body, tarball};

/// The `error` of an npm error body.
pub(crate) fn error(r: &TestResponse) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_owned()
}
