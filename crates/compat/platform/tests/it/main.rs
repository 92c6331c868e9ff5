//! In-process tests of the Platform Package Repository API, with snapshots of the wire.

mod platform;

/// Redactions for values that change from run to run.
#[macro_export]
macro_rules! assert_wire {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.created_at" => "[time]",
        })
    };
}

/// The app under test, before it starts: the generic format and the Platform API set up by
/// `api`.
pub(crate) fn builder_with(
    api: wharf_compat_platform::PlatformApi,
) -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder()
        .format(wharf_format_generic::GenericFormat)
        .seed(api)
}

/// The app under test, before it starts, with the Platform API's defaults.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    builder_with(wharf_compat_platform::PlatformApi::default())
}

/// The app under test, with the Platform API's defaults.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
