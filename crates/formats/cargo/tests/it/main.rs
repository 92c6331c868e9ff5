//! In-process tests of the cargo registry protocol, with hand-built publish bodies.

mod bad_input;
mod ownership;
mod proxy;
mod registry;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// A `.crate`: a gzip tar with `{name}-{vers}/Cargo.toml` (unless `manifest` is `None`).
pub(crate) fn crate_file(name: &str, vers: &str, manifest: Option<&str>) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut add = |path: String, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, content).unwrap();
    };
    add(format!("{name}-{vers}/src/lib.rs"), b"pub fn f() {}\n");
    if let Some(manifest) = manifest {
        add(format!("{name}-{vers}/Cargo.toml"), manifest.as_bytes());
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A `.crate` whose manifest matches.
pub(crate) fn good_crate(name: &str, vers: &str) -> Vec<u8> {
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"{vers}\"\nedition = \"2021\"\n");
    crate_file(name, vers, Some(&manifest))
}

/// Publish metadata as cargo sends it.
pub(crate) fn metadata(name: &str, vers: &str) -> Value {
    json!({
        "name": name, "vers": vers, "deps": [], "features": {}, "authors": [],
        "description": format!("{name} does things"), "documentation": null, "homepage": null,
        "readme": null, "readme_file": null, "keywords": [], "categories": [], "license": "MIT",
        "license_file": null, "repository": null, "badges": {}, "links": null, "rust_version": null
    })
}

/// The binary publish body: lengths as little-endian u32.
pub(crate) fn publish_body(meta: &Value, crate_bytes: &[u8]) -> Vec<u8> {
    let json = meta.to_string();
    let mut body = Vec::new();
    body.extend_from_slice(&u32::try_from(json.len()).unwrap().to_le_bytes());
    body.extend_from_slice(json.as_bytes());
    body.extend_from_slice(&u32::try_from(crate_bytes.len()).unwrap().to_le_bytes());
    body.extend_from_slice(crate_bytes);
    body
}

/// The app under test, before it starts: the cargo format alone.
pub(crate) fn builder() -> wharf_test_support::app::TestAppBuilder {
    wharf_test_support::TestApp::builder().format(wharf_format_cargo::CargoFormat)
}

/// The app under test: the cargo format alone.
pub(crate) async fn app() -> wharf_test_support::TestApp {
    builder().build().await
}
