//! In-process tests of the OCI distribution API, walking the spec's conformance areas: pull,
//! push (monolithic, chunked, streamed), content discovery and content management, plus
//! authentication and bad input.

mod auth;
mod bad_input;
mod discovery;
mod management;
mod proxy;
mod pull;
mod push;

use http::Method;
use serde_json::{Value, json};
pub(crate) use wharf_test_support::oci::{Heard, digest, listening_registry, send};
use wharf_test_support::{TestApp, TestResponse};

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Pushes `data` monolithically (`POST ?digest=`) to `name`; its digest.
pub(crate) async fn push_blob(app: &TestApp, name: &str, data: &[u8]) -> String {
    let d = digest(data);
    let r = send(
        app,
        Method::POST,
        &format!("/v2/{name}/blobs/uploads/?digest={d}"),
        &[("content-type", "application/octet-stream")],
        data.to_vec(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    d
}

/// A descriptor of `data`.
pub(crate) fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": digest(data), "size": data.len()})
}

/// An image manifest over `config` and `layers` (pushed first), as bytes.
pub(crate) async fn image(app: &TestApp, name: &str, config: &[u8], layers: &[&[u8]]) -> Vec<u8> {
    push_blob(app, name, config).await;
    let mut descriptors = Vec::new();
    for layer in layers {
        push_blob(app, name, layer).await;
        descriptors.push(descriptor(
            "application/vnd.oci.image.layer.v1.tar+gzip",
            layer,
        ));
    }
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": descriptors,
    }))
    .unwrap()
}

/// `PUT /v2/{name}/manifests/{reference}` of `body` as `media_type`.
pub(crate) async fn put_manifest(
    app: &TestApp,
    name: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> TestResponse {
    send(
        app,
        Method::PUT,
        &format!("/v2/{name}/manifests/{reference}"),
        &[("content-type", media_type)],
        body.to_vec(),
    )
    .await
}

/// The `errors[0].code` of an error answer.
pub(crate) fn code(r: &TestResponse) -> String {
    r.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The app under test, before it starts: the OCI format alone.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder().format(wharf_format_oci::OciFormat)
}

/// The app under test: the OCI format alone.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
