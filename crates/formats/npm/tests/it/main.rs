//! In-process tests of the npm registry protocol, with hand-built publish bodies as npm
//! sends them.

mod bad_input;
mod pantry;
mod pantry_categories;
mod pantry_commits;
mod pantry_fallback;
mod proxy;
mod registry;
mod unpublish;

use base64::Engine as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::Method;
use serde_json::{Value, json};
use sha1::Digest as _;
use wharf_test_support::{TestApp, TestResponse};

/// A tarball as `npm pack` makes it: a gzip tar of `package/…`, with `package/package.json`
/// holding `package_json` (none when `None`).
pub(crate) fn tarball(package_json: Option<&Value>) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut add = |path: &str, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, content).unwrap();
    };
    add("package/index.js", b"module.exports = 1;\n");
    if let Some(manifest) = package_json {
        add("package/package.json", manifest.to_string().as_bytes());
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// The manifest of `name@version`.
pub(crate) fn manifest(name: &str, version: &str) -> Value {
    json!({"name": name, "version": version, "description": format!("{name} things"),
           "main": "index.js", "dependencies": {"left-pad": "^1.0.0"}})
}

/// A publish body as npm sends it, carrying `tgz`.
pub(crate) fn publish_body(name: &str, version: &str, tgz: &[u8]) -> Value {
    let mut version_doc = manifest(name, version);
    version_doc["readme"] = json!("# readme");
    version_doc["dist"] = json!({
        "shasum": hex::encode(sha1::Sha1::digest(tgz)),
        "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha512::digest(tgz))),
        "tarball": format!("http://elsewhere/{name}/-/x.tgz"),
    });
    json!({
        "_id": name, "name": name, "description": "things",
        "dist-tags": {"latest": version},
        "versions": {version: version_doc},
        "access": null,
        "_attachments": {format!("{name}-{version}.tgz"): {
            "content_type": "application/octet-stream",
            "data": base64::engine::general_purpose::STANDARD.encode(tgz),
            "length": tgz.len(),
        }},
    })
}

/// A good publish body of `name@version`.
pub(crate) fn good(name: &str, version: &str) -> Value {
    publish_body(name, version, &tarball(Some(&manifest(name, version))))
}

/// `PUT /npm/main/{name}` with `body` as `token`.
pub(crate) async fn publish_as(
    app: &TestApp,
    token: &str,
    name: &str,
    body: &Value,
) -> TestResponse {
    app.send_as(
        token,
        Method::PUT,
        &format!("/npm/main/{name}"),
        body.to_string(),
    )
    .await
}

/// The `error` of an npm error body.
pub(crate) fn error(r: &TestResponse) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_owned()
}

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
