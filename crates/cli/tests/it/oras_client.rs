//! ORAS (its Python SDK, oras-py, from PyPI) against a spawned Wharf: an artifact pushed with a
//! `subject` is found through the referrers API, with its artifact type and annotations, and
//! the `artifactType` filter narrows the list.

use serde_json::Value;
use wharf_test_support::WharfProcess;

use crate::python::ok;
use crate::{bin, curl};

/// The Python that has oras-py (`scripts/test` makes a virtual environment for it).
fn oras_python() -> String {
    std::env::var("WHARF_TEST_ORAS_PYTHON").unwrap_or_else(|_| {
        panic!("WHARF_TEST_ORAS_PYTHON must name a Python with oras-py; scripts/test sets it")
    })
}

#[test]
fn an_oras_artifact_with_a_subject_is_found_through_the_referrers_api() {
    let dir = tempfile::tempdir().unwrap();
    let wharf = WharfProcess::start(bin(), &dir.path().join("data"), &[], &[]);
    let token = wharf.admin_token("admin");
    let host = wharf.base_url.trim_start_matches("http://").to_owned();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/oras_referrers.py");
    let out = std::process::Command::new(oras_python())
        .arg(&script)
        .args([host.as_str(), "admin", &token, dir.path().to_str().unwrap()])
        .output()
        .expect("run oras-py");
    let printed = ok(&out, "oras-py push");
    let pushed: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
    let subject = pushed["subject"].as_str().unwrap();
    assert_eq!(
        pushed["subject_header"], pushed["subject"],
        "OCI-Subject answered"
    );
    let creds = format!("admin:{token}");
    let url = format!("{}/v2/main/team/app/referrers/{subject}", wharf.base_url);
    let all: Value = serde_json::from_slice(&curl(&["-u", &creds, &url]).stdout).unwrap();
    let listed = all["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{all}");
    assert_eq!(listed[0]["digest"], pushed["referrer"]);
    assert_eq!(
        listed[0]["artifactType"],
        "application/vnd.example.signature.config"
    );
    assert_eq!(
        listed[0]["annotations"]["org.example.signer"],
        "release-key"
    );
    let filtered = format!("{url}?artifactType=application/vnd.example.other");
    let none: Value = serde_json::from_slice(&curl(&["-u", &creds, &filtered]).stdout).unwrap();
    assert_eq!(none["manifests"].as_array().unwrap().len(), 0);
}
