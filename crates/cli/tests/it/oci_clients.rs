//! The real container tools against a spawned Wharf: umoci builds OCI layouts (a two-layer
//! image, and a two-platform index); skopeo logs in with a token, copies them into Wharf and
//! back (`--all` for the index) with identical digests, inspects and deletes; podman logs in
//! with a password (the Bearer token flow), pushes and pulls; buildah pushes. And an upload
//! session that outlives a restart of the server, driven with curl. (The image uploader's
//! end-to-end test is `image_uploader_curl.rs`.)

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::Digest as _;
use wharf_test_support::WharfProcess;

use crate::python::ok;
use crate::{bin, curl};

/// The password `WharfProcess::admin_token` gives its user.
const PASSWORD: &str = "correct-horse-battery";

/// Runs a tool; fails loudly when it is missing (scripts/test installs them).
pub(crate) fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} must be installed for the OCI tests (scripts/test installs it): {e}")
    })
}

pub(crate) fn skopeo(args: &[&str]) -> String {
    ok(&tool("skopeo", args), &format!("skopeo {args:?}"))
}

pub(crate) fn umoci(args: &[&str]) -> String {
    ok(&tool("umoci", args), &format!("umoci {args:?}"))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// An OCI layout at `layout` with tag `v1`: an image of two layers (two inserted files).
fn two_layer_image(dir: &Path, layout: &Path, arch: &str, tag: &str) {
    let image = format!("{}:{tag}", layout.display());
    if !layout.exists() {
        umoci(&["init", "--layout", layout.to_str().unwrap()]);
    }
    umoci(&["new", "--image", &image]);
    umoci(&[
        "config",
        "--image",
        &image,
        "--architecture",
        arch,
        "--os",
        "linux",
    ]);
    for (i, content) in [format!("hello from {arch}\n"), "x".repeat(200_000)]
        .iter()
        .enumerate()
    {
        let file = dir.join(format!("{arch}-{i}.txt"));
        std::fs::write(&file, content).unwrap();
        umoci(&[
            "insert",
            "--image",
            &image,
            file.to_str().unwrap(),
            &format!("/data/{i}.txt"),
        ]);
    }
}

/// Adds an image index named `tag` over the layout's `amd64` and `arm64` tags.
fn index_of(layout: &Path, tag: &str) {
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut children = Vec::new();
    for entry in index["manifests"].as_array().unwrap() {
        let arch = entry["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap_or_default();
        if arch == "amd64" || arch == "arm64" {
            children.push(json!({
                "mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"],
                "platform": {"architecture": arch, "os": "linux"},
            }));
        }
    }
    assert_eq!(children.len(), 2);
    let doc = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children,
    }))
    .unwrap();
    let hex = sha256_hex(&doc);
    std::fs::write(layout.join("blobs/sha256").join(&hex), &doc).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": format!("sha256:{hex}"),
        "size": doc.len(), "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

/// The digest of the raw manifest `reference` names.
pub(crate) fn raw_digest(reference: &str, extra: &[&str]) -> String {
    let mut args = vec!["inspect", "--raw"];
    args.extend_from_slice(extra);
    args.push(reference);
    let out = tool("skopeo", &args);
    ok(&out, "skopeo inspect --raw");
    format!("sha256:{}", sha256_hex(&out.stdout))
}

/// A spawned Wharf that skopeo has logged in to with a token.
struct Registry {
    dir: tempfile::TempDir,
    wharf: WharfProcess,
    token: String,
    host: String,
    authfile: String,
}

impl Registry {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let wharf = WharfProcess::start(bin(), &dir.path().join("data"), &[], &[]);
        let token = wharf.admin_token("admin");
        let host = wharf.base_url.trim_start_matches("http://").to_owned();
        let authfile = dir.path().join("auth.json").display().to_string();
        skopeo(&[
            "login",
            "--authfile",
            &authfile,
            "--tls-verify=false",
            "-u",
            "admin",
            "-p",
            &token,
            &host,
        ]);
        Self {
            dir,
            wharf,
            token,
            host,
            authfile,
        }
    }

    /// `skopeo inspect`'s flags for this registry.
    fn creds(&self) -> [&str; 3] {
        ["--authfile", &self.authfile, "--tls-verify=false"]
    }

    /// `skopeo copy [--all] from to` with this registry's credentials on both sides.
    fn copy(&self, all: bool, from: &str, to: &str) {
        let mut args = vec!["copy"];
        if all {
            args.push("--all");
        }
        args.extend(["--src-authfile", &self.authfile, "--src-tls-verify=false"]);
        args.extend([
            "--dest-authfile",
            &self.authfile,
            "--dest-tls-verify=false",
            from,
            to,
        ]);
        skopeo(&args);
    }
}

#[test]
fn skopeo_copies_a_two_layer_image_both_ways() {
    let registry = Registry::start();
    let (dir, host, creds) = (registry.dir.path(), &registry.host, registry.creds());
    let layout = dir.join("layout");
    two_layer_image(dir, &layout, "amd64", "amd64");
    let source = format!("oci:{}:amd64", layout.display());
    let target = format!("docker://{host}/main/team/app:1.0");
    registry.copy(false, &source, &target);
    let pushed = raw_digest(&target, &creds);
    assert_eq!(pushed, raw_digest(&source, &[]));
    let inspected: Value =
        serde_json::from_str(&skopeo(&["inspect", creds[0], creds[1], creds[2], &target])).unwrap();
    assert_eq!(inspected["Digest"], json!(pushed));
    assert_eq!(inspected["RepoTags"], json!(["1.0"]));
    assert_eq!(inspected["Architecture"], json!("amd64"));
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
    let back = dir.join("back");
    registry.copy(false, &target, &format!("oci:{}:v1", back.display()));
    assert_eq!(
        raw_digest(&format!("oci:{}:v1", back.display()), &[]),
        pushed
    );
    for layer in inspected["Layers"].as_array().unwrap() {
        let hex = layer.as_str().unwrap().trim_start_matches("sha256:");
        let copied = std::fs::read(back.join("blobs/sha256").join(hex)).unwrap();
        assert_eq!(sha256_hex(&copied), hex, "layer {hex} came back whole");
    }
    // Delete by digest: the tag goes with it.
    skopeo(&[
        "delete",
        creds[0],
        creds[1],
        creds[2],
        &format!("docker://{host}/main/team/app@{pushed}"),
    ]);
    let gone = tool(
        "skopeo",
        &["inspect", creds[0], creds[1], creds[2], &target],
    );
    assert!(!gone.status.success());
}

#[test]
fn skopeo_copies_a_two_platform_index_with_all() {
    let registry = Registry::start();
    let (dir, host, creds) = (registry.dir.path(), &registry.host, registry.creds());
    let layout = dir.join("layout");
    two_layer_image(dir, &layout, "amd64", "amd64");
    two_layer_image(dir, &layout, "arm64", "arm64");
    index_of(&layout, "multi");
    let source = format!("oci:{}:multi", layout.display());
    let multi = format!("docker://{host}/main/team/multi:1.0");
    registry.copy(true, &source, &multi);
    let index_digest = raw_digest(&multi, &creds);
    assert_eq!(index_digest, raw_digest(&source, &[]));
    let back = format!("oci:{}:m", dir.join("multi-back").display());
    registry.copy(true, &multi, &back);
    assert_eq!(raw_digest(&back, &[]), index_digest);
    let arm = skopeo(&[
        "inspect",
        "--override-arch",
        "arm64",
        creds[0],
        creds[1],
        creds[2],
        &multi,
    ]);
    assert!(arm.contains("\"Architecture\": \"arm64\""), "{arm}");
    let tags = skopeo(&[
        "list-tags",
        creds[0],
        creds[1],
        creds[2],
        &format!("docker://{host}/main/team/multi"),
    ]);
    assert!(tags.contains("\"1.0\""), "{tags}");
    // Deleted through the management API, the index takes its tag along.
    let url = format!(
        "{}/api/v1/repositories/oci/main/packages/team%2Fmulti/versions/{index_digest}",
        registry.wharf.base_url
    );
    assert_eq!(crate::curl_delete(&registry.token, &url), "204");
    let tags = skopeo(&[
        "list-tags",
        creds[0],
        creds[1],
        creds[2],
        &format!("docker://{host}/main/team/multi"),
    ]);
    assert!(!tags.contains("\"1.0\""), "{tags}");
    let gone = tool(
        "skopeo",
        &["inspect", "--raw", creds[0], creds[1], creds[2], &multi],
    );
    assert!(!gone.status.success(), "the deleted index is still served");
}

#[test]
fn podman_and_buildah_push_and_pull_with_a_login() {
    let dir = tempfile::tempdir().unwrap();
    let wharf = WharfProcess::start(bin(), &dir.path().join("data"), &[], &[]);
    let _ = wharf.admin_token("admin");
    let host = wharf.base_url.trim_start_matches("http://").to_owned();
    let layout = dir.path().join("layout");
    two_layer_image(dir.path(), &layout, "amd64", "v1");
    let root = dir.path().join("storage");
    let runroot = dir.path().join("run");
    let authfile = dir.path().join("auth.json");
    let storage = [
        format!("--root={}", root.display()),
        format!("--runroot={}", runroot.display()),
        "--storage-driver=vfs".to_owned(),
    ];
    let run = |tool_name: &str, args: &[&str]| -> String {
        let mut all: Vec<&str> = storage.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        ok(&tool(tool_name, &all), &format!("{tool_name} {args:?}"))
    };
    let auth = format!("--authfile={}", authfile.display());
    // A password login goes through the token endpoint (401, Bearer challenge, token).
    run(
        "podman",
        &[
            "login",
            &auth,
            "--tls-verify=false",
            "-u",
            "admin",
            "-p",
            PASSWORD,
            &host,
        ],
    );
    // Into podman's storage under a name of our own (podman would name it after the path).
    let local = format!(
        "containers-storage:[vfs@{}+{}]localhost/app:v1",
        root.display(),
        runroot.display()
    );
    skopeo(&["copy", &format!("oci:{}:v1", layout.display()), &local]);
    let id = run("podman", &["images", "-q", "--no-trunc"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let pushed = format!("{host}/main/podman/app:1");
    run(
        "podman",
        &["push", &auth, "--tls-verify=false", &id, &pushed],
    );
    run("podman", &["rmi", "-a", "-f"]);
    run("podman", &["pull", &auth, "--tls-verify=false", &pushed]);
    let pulled = run("podman", &["images", "-q", "--no-trunc"]);
    assert!(pulled.contains(&id), "pulled image {pulled} is {id}");
    run(
        "buildah",
        &[
            "push",
            &auth,
            "--tls-verify=false",
            &pushed,
            &format!("docker://{host}/main/buildah/app:2"),
        ],
    );
    let tags = curl(&[
        "-u",
        &format!("admin:{PASSWORD}"),
        &format!("{}/v2/main/buildah/app/tags/list", wharf.base_url),
    ]);
    assert_eq!(
        serde_json::from_slice::<Value>(&tags.stdout).unwrap()["tags"],
        json!(["2"])
    );
    let catalog = curl(&[
        "-u",
        &format!("admin:{PASSWORD}"),
        &format!("{}/v2/_catalog", wharf.base_url),
    ]);
    let catalog: Value = serde_json::from_slice(&catalog.stdout).unwrap();
    assert_eq!(
        catalog["repositories"],
        json!(["main/buildah/app", "main/podman/app"])
    );
}

#[test]
fn an_upload_session_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut wharf = WharfProcess::start(bin(), &data, &[], &[]);
    let token = wharf.admin_token("admin");
    let auth = format!("Authorization: Bearer {token}");
    let started = curl(&[
        "-i",
        "-X",
        "POST",
        "-H",
        &auth,
        &format!("{}/v2/main/team/app/blobs/uploads/", wharf.base_url),
    ]);
    let head = String::from_utf8_lossy(&started.stdout).into_owned();
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap_or_else(|| panic!("no Location in {head}"))
        .trim()
        .to_owned();
    let first = dir.path().join("first");
    std::fs::write(&first, b"first half, ").unwrap();
    let patch = |base: &str, file: &Path, range: &str| {
        let out = curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "PATCH",
            "-H",
            &auth,
            "-H",
            &format!("Content-Range: {range}"),
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{base}{location}"),
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(patch(&wharf.base_url, &first, "0-11"), "202");
    wharf.kill();
    let wharf = WharfProcess::start(bin(), &data, &[], &[]);
    let second = dir.path().join("second");
    std::fs::write(&second, b"second half").unwrap();
    assert_eq!(patch(&wharf.base_url, &second, "12-22"), "202");
    let digest = format!("sha256:{}", sha256_hex(b"first half, second half"));
    let put = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PUT",
        "-H",
        &auth,
        &format!("{}{location}?digest={digest}", wharf.base_url),
    ]);
    assert_eq!(String::from_utf8_lossy(&put.stdout), "201");
    let blob = curl(&[
        "-H",
        &auth,
        &format!("{}/v2/main/team/app/blobs/{digest}", wharf.base_url),
    ]);
    assert_eq!(blob.stdout, b"first half, second half");
}

#[test]
fn skopeo_pulls_through_a_proxy_of_a_second_wharf() {
    let mut registry = Registry::start();
    let dir = registry.dir.path().to_path_buf();
    let host = registry.host.clone();
    let dir = dir.as_path();
    let layout = dir.join("layout");
    two_layer_image(dir, &layout, "amd64", "v1");
    let source = format!("oci:{}:v1", layout.display());
    registry.copy(
        false,
        &source,
        &format!("docker://{host}/main/team/app:1.0"),
    );

    let local = WharfProcess::start(bin(), &dir.join("local"), &[], &[]);
    let token = local.admin_token("bob");
    let upstream = format!("http://{host}/main");
    let created = local.admin(
        &[
            "repo",
            "create",
            "hub",
            "--format",
            "oci",
            "--kind",
            "proxy",
            "--upstream",
            &upstream,
        ],
        None,
    );
    assert_eq!(created.trim(), "oci/hub");
    let local_host = local.base_url.trim_start_matches("http://").to_owned();
    let through = format!("docker://{local_host}/hub/team/app:1.0");
    let back = format!("oci:{}:v1", dir.join("through").display());
    let local_creds = format!("bob:{token}");
    skopeo(&[
        "copy",
        "--src-creds",
        &local_creds,
        "--src-tls-verify=false",
        &through,
        &back,
    ]);
    assert_eq!(raw_digest(&back, &[]), raw_digest(&source, &[]));
    // The upstream is stopped: the proxy serves what it cached.
    registry.wharf.kill();
    let again = format!("oci:{}:v1", dir.join("again").display());
    skopeo(&[
        "copy",
        "--src-creds",
        &local_creds,
        "--src-tls-verify=false",
        &through,
        &again,
    ]);
    assert_eq!(raw_digest(&again, &[]), raw_digest(&source, &[]));
}
