//! In-process tests of the Pantry API: metadata and tarballs of npm packages, publish as
//! Pantry's CLI sends it, commit packages, analytics and the npm registry fallback.

mod pantry;
mod pantry_categories;
mod pantry_commits;
mod pantry_fallback;

use http::Method;
use serde_json::Value;
use wharf_test_support::TestApp;
pub(crate) use wharf_test_support::npm::{good, manifest, publish_as, tarball};

/// A `multipart/form-data` body (boundary `b0undary`) with text `fields`, then `files` as
/// file fields named as given.
pub(crate) fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"package.tgz\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--b0undary--\r\n");
    body
}

/// A Pantry `POST` to `path` (host `registry.test`) with an optional bearer `token`: the
/// status and the JSON answer.
pub(crate) async fn pantry_post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", content_type), ("host", "registry.test")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    let r = app.request(Method::POST, path, &headers, body).await;
    (r.status.as_u16(), r.json())
}

/// The app under test, before it starts: the npm format, the generic format (commit packages)
/// and the Pantry API set up by `api`.
pub(crate) fn builder_with(
    api: wharf_compat_pantry::PantryApi,
) -> wharf_test_support::app::TestAppBuilder {
    TestApp::builder()
        .format(wharf_format_npm::NpmFormat)
        .format(wharf_format_generic::GenericFormat)
        .seed(api)
}

/// The app under test, before it starts, with the Pantry API's defaults.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    builder_with(wharf_compat_pantry::PantryApi::default())
}

/// The app under test, with the Pantry API's defaults.
pub(crate) async fn app() -> TestApp {
    builder().build().await
}
