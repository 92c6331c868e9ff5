//! The Pantry registry API driven with curl exactly as its README shows (publish as multipart
//! and as JSON with a base64 tarball), against the real binary with `--compat-root pantry`;
//! the tarballs are made by the real `npm pack`, and npm installs what curl published.

use base64::Engine as _;
use wharf_test_support::WharfProcess;

use crate::npm_client::{npm, project};
use crate::python::ok;
use crate::{bin, curl};

/// `npm pack` of `my-package@version`: the tarball's path.
fn packed(dir: &std::path::Path, registry: &str, version: &str) -> std::path::PathBuf {
    let src = dir.join(format!("src-{version}"));
    project(
        &src,
        &format!(
            r#"{{"name":"my-package","version":"{version}","main":"index.js","description":"Mine"}}"#
        ),
        registry,
        None,
    );
    std::fs::write(
        src.join("index.js"),
        format!("module.exports = {version:?};\n"),
    )
    .unwrap();
    let out = npm(
        &src,
        &[
            "pack",
            "--json",
            "--pack-destination",
            dir.to_str().unwrap(),
        ],
    );
    ok(&out, "npm pack");
    let packed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    dir.join(packed[0]["filename"].as_str().unwrap())
}

/// The README's multipart publish: `curl -X POST http://localhost:3000/publish -H
/// "Authorization: Bearer your-token" -F "metadata={…}" -F "tarball=@my-package-1.0.0.tgz"`,
/// with `extra` curl flags first.
fn publish_form(host: &str, token: &str, tarball: &std::path::Path, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    args.extend([
        "-X".into(),
        "POST".into(),
        format!("{host}/publish"),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
        "-F".into(),
        "metadata={\"name\":\"my-package\",\"version\":\"1.0.0\"}".into(),
        "-F".into(),
        format!("tarball=@{}", tarball.display()),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&args).stdout
}

#[test]
fn seed_readme_publish_with_curl_then_npm_install() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &["--compat-root", "pantry"], &[]);
    let token = server.admin_token("publisher");
    let host = &server.base_url;
    let registry = format!("{host}/npm/main/");
    let first = packed(root, &registry, "1.0.0");
    assert!(
        first.ends_with("my-package-1.0.0.tgz"),
        "{}",
        first.display()
    );

    let out = publish_form(host, &token, &first, &[]);
    let answer: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"success": true, "message": "Published my-package@1.0.0"})
    );

    // curl -X POST http://localhost:3000/publish -H "Authorization: Bearer your-token"
    //   -H "Content-Type: application/json" -d '{"metadata":{…},"tarball":"<base64-encoded-tarball>"}'
    let second = packed(root, &registry, "1.1.0");
    let body = serde_json::json!({
        "metadata": {"name": "my-package", "version": "1.1.0"},
        "tarball": base64::engine::general_purpose::STANDARD.encode(std::fs::read(&second).unwrap()),
    });
    let body_file = root.join("body.json");
    std::fs::write(&body_file, body.to_string()).unwrap();
    let out = curl(&[
        "-X",
        "POST",
        &format!("{host}/publish"),
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-H",
        "Content-Type: application/json",
        "-d",
        &format!("@{}", body_file.display()),
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["success"], true, "{answer}");

    let versions = curl(&[&format!("{host}/packages/my-package/versions")]);
    let versions: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    assert_eq!(
        versions,
        serde_json::json!({"versions": ["1.1.0", "1.0.0"]})
    );
    let again = publish_form(
        host,
        &token,
        &first,
        &["-o", "/dev/null", "-w", "%{http_code}"],
    );
    assert_eq!(String::from_utf8_lossy(&again), "409");

    let app = root.join("app");
    project(&app, r#"{"name":"app","version":"0.0.0"}"#, &registry, None);
    ok(
        &npm(&app, &["install", "my-package"]),
        "npm install of what curl published",
    );
    let installed = std::fs::read_to_string(app.join("node_modules/my-package/index.js")).unwrap();
    assert_eq!(installed, "module.exports = \"1.1.0\";\n");
}
