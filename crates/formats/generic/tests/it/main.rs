//! In-process tests of the generic protocol, with snapshots of the wire.

mod generic;

/// Redactions for values that change from run to run.
#[macro_export]
macro_rules! assert_wire {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.created_at" => "[time]",
        })
    };
}

/// The app under test, before it starts: the generic format alone.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder().format(wharf_format_generic::GenericFormat)
}

/// The app under test: the generic format alone.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
