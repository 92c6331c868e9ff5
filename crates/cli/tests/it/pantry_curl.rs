//! The Pantry registry API driven with curl exactly as its README shows (publish as multipart
//! and as JSON with a base64 tarball; commit packages as the README's multipart and as the
//! real client's), against the real binary with `--compat-root pantry`; the tarballs are
//! made by the real `npm pack`, and npm installs what curl published, by name or by URL.

use base64::Engine as _;
use wharf_test_support::WharfProcess;

use crate::npm_client::{npm, project};
use crate::python::ok;
use crate::{bin, curl};

/// `npm pack` of `name@version`: the tarball's path.
fn packed(dir: &std::path::Path, registry: &str, name: &str, version: &str) -> std::path::PathBuf {
    let src = dir.join(format!("src-{}-{version}", name.replace('/', "-")));
    project(
        &src,
        &format!(
            r#"{{"name":"{name}","version":"{version}","main":"index.js","description":"Mine"}}"#
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

/// A Wharf serving the Pantry API at `/`, an admin's token, and its npm registry URL.
fn pantry_server(root: &std::path::Path) -> (WharfProcess, String, String) {
    let server = WharfProcess::start(bin(), &root.join("data"), &["--compat-root", "pantry"], &[]);
    let token = server.admin_token("publisher");
    let registry = format!("{}/npm/main/", server.base_url);
    (server, token, registry)
}

#[test]
fn seed_readme_publish_with_curl_then_npm_install() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, token, registry) = pantry_server(root);
    let host = &server.base_url;
    let first = packed(root, &registry, "my-package", "1.0.0");
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
    let second = packed(root, &registry, "my-package", "1.1.0");
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
    assert_eq!(
        installed(&app, "my-package"),
        "module.exports = \"1.1.0\";\n"
    );
}

/// The `index.js` of an installed package.
fn installed(app: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(app.join("node_modules").join(name).join("index.js")).unwrap()
}

#[test]
fn commit_packages_published_with_curl_install_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, token, registry) = pantry_server(root);
    let host = &server.base_url;
    let mine = packed(root, &registry, "my-package", "1.2.0");
    let other = packed(root, &registry, "@scope/other", "0.1.0");
    let auth = format!("Authorization: Bearer {token}");

    // curl -X POST http://localhost:3000/publish/commit -H "Authorization: Bearer your-token"
    //   -F "sha=abc1234def5678" -F "repository=https://github.com/org/repo"
    //   -F "package:my-package=@my-package.tgz" -F "package:@scope/other=@other-package.tgz"
    let out = curl(&[
        "-X",
        "POST",
        &format!("{host}/publish/commit"),
        "-H",
        &auth,
        "-F",
        "sha=abc1234def5678",
        "-F",
        "repository=https://github.com/org/repo",
        "-F",
        &format!("package:my-package=@{}", mine.display()),
        "-F",
        &format!("package:@scope/other=@{}", other.display()),
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["message"], "Published 2 package(s) from commit abc1234",
        "{answer}"
    );
    let scoped_url = answer["packages"][1]["url"].as_str().unwrap().to_owned();
    assert_eq!(
        scoped_url,
        format!("{host}/commits/abc1234def5678/%40scope%2Fother/tarball")
    );

    // The real client: `metadata` with packages[], files named `package:<name>`.
    let metadata = serde_json::json!({"sha": "0a1b2c3d", "repository": "https://github.com/org/repo",
        "packages": [{"name": "my-package", "packageDir": "packages/mine"}]});
    let out = curl(&[
        "-X",
        "POST",
        &format!("{host}/publish/commit"),
        "-H",
        &auth,
        "-F",
        &format!("metadata={metadata}"),
        "-F",
        &format!(
            "package:my-package=@{};filename=package.tgz;type=application/octet-stream",
            mine.display()
        ),
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["success"], true, "{answer}");

    // curl http://localhost:3000/commits/abc1234def5678
    let listed = curl(&[&format!("{host}/commits/abc1234def5678")]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = listed["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["my-package", "@scope/other"], "{listed}");
    assert_eq!(listed["repository"], "https://github.com/org/repo");

    // npm install https://registry.example.com/commits/abc1234def5678/my-package/tarball
    let app = root.join("app");
    project(&app, r#"{"name":"app","version":"0.0.0"}"#, &registry, None);
    let url = format!("{host}/commits/abc1234def5678/my-package/tarball");
    ok(
        &npm(&app, &["install", &url]),
        "npm install of a commit package by URL",
    );
    ok(
        &npm(&app, &["install", &scoped_url]),
        "npm install of a scoped commit package by URL",
    );
    assert_eq!(
        installed(&app, "my-package"),
        "module.exports = \"1.2.0\";\n"
    );
    assert_eq!(
        installed(&app, "@scope/other"),
        "module.exports = \"0.1.0\";\n"
    );
    let manifest = std::fs::read_to_string(app.join("package.json")).unwrap();
    assert!(
        manifest.contains(&url),
        "package.json records the commit URL: {manifest}"
    );
}
