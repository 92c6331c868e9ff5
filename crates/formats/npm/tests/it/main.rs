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

/// The app under test, before it starts: the npm format alone.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder().format(wharf_format_npm::NpmFormat)
}

/// The app under test: the npm format alone.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
