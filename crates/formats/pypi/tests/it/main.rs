//! In-process tests of the PyPI protocol: uploads with hand-built multipart forms, the
//! simple API in both representations, the JSON API, and every bad upload.

mod bad_input;
mod index;
mod proxy;

use std::io::Write;

use http::Method;
use wharf_test_support::{TestApp, TestResponse};

pub(crate) const BOUNDARY: &str = "wharf-test-boundary";

/// A wheel with `METADATA` (unless `metadata` is `None`).
pub(crate) fn wheel(name: &str, version: &str, metadata: Option<&str>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let dist = name.replace('-', "_");
    zip.start_file(format!("{dist}/__init__.py"), options)
        .unwrap();
    zip.write_all(b"VERSION = 1\n").unwrap();
    if let Some(metadata) = metadata {
        zip.start_file(format!("{dist}-{version}.dist-info/METADATA"), options)
            .unwrap();
        zip.write_all(metadata.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Core metadata for `name` `version`.
pub(crate) fn metadata(name: &str, version: &str, extra: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name} summary\n{extra}\n"
    )
}

fn blake2_256(content: &[u8]) -> String {
    use blake2::Digest as _;
    hex::encode(blake2::Blake2b::<blake2::digest::consts::U32>::digest(
        content,
    ))
}

/// A twine-style upload form; `fields` override or add to the defaults.
pub(crate) fn form(filename: &str, content: &[u8], fields: &[(&str, &str)]) -> Vec<u8> {
    let digests = wharf_core::digest::digest_bytes(content);
    let mut values: Vec<(String, String)> = vec![
        (":action".into(), "file_upload".into()),
        ("protocol_version".into(), "1".into()),
        ("metadata_version".into(), "2.1".into()),
        (
            "filetype".into(),
            if std::path::Path::new(filename)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("whl"))
            {
                "bdist_wheel"
            } else {
                "sdist"
            }
            .into(),
        ),
        ("pyversion".into(), "py3".into()),
        ("sha256_digest".into(), digests.sha256.to_string()),
        ("md5_digest".into(), digests.md5.clone()),
        ("blake2_256_digest".into(), blake2_256(content)),
    ];
    for (k, v) in fields {
        values.retain(|(name, _)| name != k);
        if !v.is_empty() {
            values.push(((*k).into(), (*v).into()));
        }
    }
    let mut body = Vec::new();
    for (k, v) in values {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads a form to `/pypi/main/` with the admin token.
pub(crate) async fn upload(app: &TestApp, body: Vec<u8>) -> TestResponse {
    let auth = format!("Bearer {}", app.admin_token);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    app.request(
        Method::POST,
        "/pypi/main/",
        &[("authorization", &auth), ("content-type", &content_type)],
        body,
    )
    .await
}

/// Uploads a good wheel of `name` `version`.
pub(crate) async fn upload_wheel(
    app: &TestApp,
    name: &str,
    version: &str,
    extra: &str,
) -> TestResponse {
    let file = format!("{}-{version}-py3-none-any.whl", name.replace('-', "_"));
    let content = wheel(name, version, Some(&metadata(name, version, extra)));
    upload(
        app,
        form(&file, &content, &[("name", name), ("version", version)]),
    )
    .await
}

/// The app under test, before it starts: the PyPI format alone.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder().format(wharf_format_pypi::PypiFormat)
}

/// The app under test: the PyPI format alone.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
