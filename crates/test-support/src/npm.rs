//! npm fixtures shared by the npm format's and the Pantry API's tests: tarballs as `npm pack`
//! makes them and publish bodies as `npm publish` sends them.

use base64::Engine as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::Method;
use serde_json::{Value, json};
use sha1::Digest as _;

use crate::{TestApp, TestResponse};

/// A tarball as `npm pack` makes it: a gzip tar of `package/…`, with `package/package.json`
/// holding `package_json` (none when `None`).
///
/// # Panics
/// Never: it is written in memory.
pub fn tarball(package_json: Option<&Value>) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut add = |path: &str, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, content)
            .expect("in memory");
    };
    add("package/index.js", b"module.exports = 1;\n");
    if let Some(manifest) = package_json {
        add("package/package.json", manifest.to_string().as_bytes());
    }
    builder
        .into_inner()
        .expect("in memory")
        .finish()
        .expect("in memory")
}

/// The manifest of `name@version`.
pub fn manifest(name: &str, version: &str) -> Value {
    json!({"name": name, "version": version, "description": format!("{name} things"),
           "main": "index.js", "dependencies": {"left-pad": "^1.0.0"}})
}

/// A publish body as npm sends it, carrying `tgz`.
pub fn publish_body(name: &str, version: &str, tgz: &[u8]) -> Value {
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
pub fn good(name: &str, version: &str) -> Value {
    publish_body(name, version, &tarball(Some(&manifest(name, version))))
}

/// `PUT /npm/main/{name}` with `body` as `token`.
pub async fn publish_as(app: &TestApp, token: &str, name: &str, body: &Value) -> TestResponse {
    app.send_as(
        token,
        Method::PUT,
        &format!("/npm/main/{name}"),
        body.to_string(),
    )
    .await
}
