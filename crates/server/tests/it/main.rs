//! In-process tests of the HTTP kernel: the management API, health, metrics and the
//! OpenAPI document, with snapshots of the wire.

mod api;
mod connections;
mod kernel;
mod outbound;

/// Redactions for values that change from run to run.
#[macro_export]
macro_rules! assert_wire {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.created_at" => "[time]",
            ".**.expires_at" => "[time]",
            ".token" => "[token]",
            ".**.id" => "[id]",
        })
    };
}

/// The app under test, before it starts: a whole Wharf, as the composition root lists it.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder()
        .components(wharf_app::components(&wharf_app::Settings::default()))
}

/// The app under test: a whole Wharf.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
