//! In-process tests of the package image uploader: images built from zips, pushed here or to
//! another registry, and deleted.

mod uploader;

pub(crate) use wharf_test_support::oci::{digest, listening_registry, send};

/// The app under test, before it starts: the OCI format and the image uploader set up by
/// `api`.
pub(crate) fn builder_with(
    api: wharf_compat_image_uploader::ImageUploaderApi,
) -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder()
        .format(wharf_format_oci::OciFormat)
        .seed(api)
}

/// The app under test, with the image uploader's defaults.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder_with(wharf_compat_image_uploader::ImageUploaderApi::default())
        .build()
        .await
}
