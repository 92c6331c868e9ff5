//! End-to-end tests of the real `wharf` binary: configuration layering, admin commands, the
//! Platform and Pantry APIs driven with curl as the seeds' users do, the real cargo and npm, the
//! real pip, uv, twine and poetry, and the real skopeo, umoci, podman and buildah.

mod admin;
mod cargo_client;
mod config;
mod image_uploader_curl;
mod js_clients;
mod npm_client;
mod npm_sources;
mod object_storage;
mod oci_clients;
mod oras_client;
mod pantry_curl;
mod platform_curl;
mod pypi_client;
mod pypi_sources;
mod python;
mod several_instances;

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub(crate) fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wharf"))
}

/// Runs `wharf args…` with extra environment and returns its output.
pub(crate) fn wharf(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_remove("WHARF_CONFIG")
        .env_remove("WHARF_DATA_DIR");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run wharf")
}

/// `curl -T file url` with a bearer token: the HTTP status curl saw.
pub(crate) fn curl_put(token: &str, file: &Path, url: &str) -> String {
    curl_put_with(token, file, url, &[])
}

/// [`curl_put`] with more request `headers`.
pub(crate) fn curl_put_with(token: &str, file: &Path, url: &str, headers: &[&str]) -> String {
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}", "-H", &auth];
    for header in headers {
        args.extend(["-H", header]);
    }
    args.extend(["-T", file.to_str().unwrap(), url]);
    String::from_utf8_lossy(&curl(&args).stdout).into_owned()
}

/// `DELETE url` with a bearer token: the HTTP status curl saw.
pub(crate) fn curl_delete(token: &str, url: &str) -> String {
    let auth = format!("Authorization: Bearer {token}");
    let args = [
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &auth,
        "-X",
        "DELETE",
        url,
    ];
    String::from_utf8_lossy(&curl(&args).stdout).into_owned()
}

/// Runs curl; fails loudly when curl is missing.
pub(crate) fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["--silent", "--show-error"])
        .args(args)
        .output()
        .expect("curl must be installed for the end-to-end tests")
}
