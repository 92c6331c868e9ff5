//! The Platform Package Repository API, driven with curl exactly as its README shows, against
//! the real binary in compat mode on a port of its own — with blobs on the local filesystem,
//! and on S3 and Swift (see `object_storage.rs`).

use wharf_test_support::WharfProcess;

use crate::{bin, curl};

#[test]
fn seed_readme_scenario_with_curl() {
    let dir = tempfile::tempdir().unwrap();
    seed_readme_scenario(dir.path(), &["--compat-root", "platform"], &[]);
}

/// The README's scenario against a Wharf started with `args` and `env`.
pub(crate) fn seed_readme_scenario(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) {
    let server = WharfProcess::start(bin(), data, args, env);
    let token = server.admin_token("deployer");
    let auth = format!("Authorization: Bearer {token}");
    let host = &server.base_url;
    for (file, body) in [
        ("spark-batch-example-app-1.0.22.tar.gz", "old"),
        ("spark-batch-example-app-1.0.23.tar.gz", "new"),
        ("my-package-1.0.0.tar.gz", "mine"),
    ] {
        let path = data.join(file);
        std::fs::write(&path, body).unwrap();
        // curl http://host:8888/packages/my-package-1.0.0.tar.gz --upload-file my-package-1.0.0.tar.gz
        let out = curl(&[
            "-w",
            "%{http_code}",
            "-H",
            &auth,
            &format!("{host}/packages/{file}"),
            "--upload-file",
            path.to_str().unwrap(),
        ]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{file}");
    }
    let listed = curl(&[&format!("{host}/packages")]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([
            {"latest_versions": [{"version": "1.0.0", "file": "my-package-1.0.0.tar.gz"}], "name": "my-package"},
            {"latest_versions": [{"version": "1.0.23", "file": "spark-batch-example-app-1.0.23.tar.gz"}], "name": "spark-batch-example-app"}
        ])
    );
    let two = curl(&[&format!("{host}/packages?recency=2")]);
    let two: serde_json::Value = serde_json::from_slice(&two.stdout).unwrap();
    assert_eq!(two[1]["latest_versions"].as_array().unwrap().len(), 2);
    let got = curl(&[&format!("{host}/packages/my-package-1.0.0.tar.gz")]);
    assert_eq!(got.stdout, b"mine");
    let also = curl(&[&format!("{host}/platform/packages/my-package-1.0.0.tar.gz")]);
    assert_eq!(
        also.stdout, b"mine",
        "the prefixed mount serves the same API"
    );
    let bad = curl(&[
        "-w",
        "\n%{http_code}",
        "-H",
        &auth,
        "-X",
        "PUT",
        "--data-binary",
        "x",
        &format!("{host}/packages/my-package.zip"),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&bad.stdout),
        "sorry. the archive must end with a tar.gz extension \n\n400"
    );
    // curl -X DELETE http://host:8888/packages/my-package-1.0.0.tar.gz
    let del = curl(&[
        "-w",
        "%{http_code}",
        "-H",
        &auth,
        "-X",
        "DELETE",
        &format!("{host}/packages/my-package-1.0.0.tar.gz"),
    ]);
    assert_eq!(String::from_utf8_lossy(&del.stdout), "200");
    let gone = curl(&[
        "-w",
        "\n%{http_code}",
        &format!("{host}/packages/my-package-1.0.0.tar.gz"),
    ]);
    assert_eq!(String::from_utf8_lossy(&gone.stdout), "404 not found\n404");
    let log = server.log();
    assert!(!log.contains(&token), "the token must never be logged");
}
