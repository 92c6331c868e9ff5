//! The real twine, pip and uv against a spawned Wharf: upload wheels and sdists (one project
//! built by `uv build` with a real build backend), install from the simple index in fresh
//! virtual environments with pip and uv, let pip pick a release by `Requires-Python`, skip a
//! yanked release, download with `--require-hashes`, and publish with `uv publish`.

use std::path::{Path, PathBuf};

use wharf_test_support::WharfProcess;

use crate::bin;
use crate::python::{dist, ok, python_says, run, twine_upload, uv_build, uv_install, venv};

/// The server, an admin token, and its upload and index URLs.
struct Index {
    server: WharfProcess,
    token: String,
    upload: String,
    simple: String,
}

#[test]
fn twine_uploads_and_pip_and_uv_install() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let index = Index {
        token: server.admin_token("pythonista"),
        upload: format!("{}/pypi/main/", server.base_url),
        simple: format!("{}/pypi/main/simple/", server.base_url),
        server,
    };
    let dists = root.join("dists");
    std::fs::create_dir_all(&dists).unwrap();
    let alpha = upload_with_twine(root, &dists, &index);
    install_with_pip(root, &index, &alpha);
    yanked_release_is_skipped_unless_pinned(root, &dists, &index);
    install_with_uv(root, &index);
    publish_with_uv(root, &dists, &index);
    assert!(
        !index.server.log().contains(&index.token),
        "the token must never be logged"
    );
}

/// twine uploads wheels and an sdist; the same file again fails as on the public index;
/// anonymous uploads fail. Returns alpha's wheel.
fn upload_with_twine(root: &Path, dists: &Path, index: &Index) -> PathBuf {
    let alpha = dist(dists, "alpha", "1.0.0", &[]);
    let alpha_sdist = dist(dists, "alpha", "1.0.0", &["--sdist"]);
    let beta = dist(dists, "beta-pkg", "1.0.0", &["--requires", "alpha>=1.0"]);
    let gamma_old = dist(dists, "gamma", "1.0.0", &[]);
    let gamma_new = dist(dists, "gamma", "2.0.0", &["--requires-python", ">=3.99"]);
    let built = uv_build(dists, "epsilon", "0.3.0", &["alpha>=1.0"]);
    let mut files: Vec<&Path> = vec![&alpha, &alpha_sdist, &beta, &gamma_old, &gamma_new];
    files.extend(built.iter().map(PathBuf::as_path));
    ok(
        &twine_upload(root, &index.upload, &index.token, &files),
        "twine upload",
    );
    let again = twine_upload(root, &index.upload, &index.token, &[&alpha]);
    assert!(
        !again.status.success(),
        "uploading the same file again must fail"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(said.contains("File already exists"), "{said}");
    skip_existing_with_twine_6_0(root, index, &alpha);
    let anonymous = twine_upload(root, &index.upload, "", &[&alpha]);
    assert!(!anonymous.status.success(), "uploads need credentials");
    alpha
}

/// `twine upload --skip-existing` skips a file the index has. Twine 6.1 and later allow the
/// flag only for the public index, so the twine 6.0 that scripts/test installs beside the
/// newest one proves Wharf answers the way twine recognises.
fn skip_existing_with_twine_6_0(root: &Path, index: &Index, alpha: &Path) {
    let twine = std::env::var("WHARF_TEST_TWINE_6_0")
        .expect("WHARF_TEST_TWINE_6_0 names a twine 6.0 (scripts/test installs it)");
    let skipped = ok(
        &run(
            &twine,
            root,
            &[
                "upload",
                "--skip-existing",
                "--repository-url",
                &index.upload,
                "-u",
                "__token__",
                "-p",
                &index.token,
                alpha.to_str().unwrap(),
            ],
        ),
        "twine 6.0 upload --skip-existing",
    );
    assert!(
        skipped.contains("Skipping alpha-1.0.0-py3-none-any.whl"),
        "{skipped}"
    );
}

/// pip installs with dependencies, skips a release whose Requires-Python excludes it, and
/// downloads with `--require-hashes`.
fn install_with_pip(root: &Path, index: &Index, alpha: &Path) {
    let env = venv(root, "pip-env");
    let pip = env.join("bin/pip");
    let pip = pip.to_str().unwrap();
    ok(
        &run(
            pip,
            root,
            &[
                "install",
                "--index-url",
                &index.simple,
                "beta-pkg",
                "gamma",
                "epsilon",
            ],
        ),
        "pip install",
    );
    let imported = python_says(
        &env,
        "import alpha, beta_pkg, gamma, epsilon; print(alpha.VERSION, beta_pkg.VERSION, gamma.VERSION, epsilon.VERSION)",
    );
    assert!(
        imported.contains("1.0.0 1.0.0 1.0.0 0.3.0"),
        "pip must skip gamma 2.0.0 (Requires-Python >=3.99): {imported}"
    );
    let sha = wharf_core::digest::digest_bytes(&std::fs::read(alpha).unwrap())
        .sha256
        .to_string();
    let requirements = root.join("requirements.txt");
    std::fs::write(&requirements, format!("alpha==1.0.0 --hash=sha256:{sha}\n")).unwrap();
    let downloads = root.join("downloads");
    ok(
        &run(
            pip,
            root,
            &[
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--require-hashes",
                "-r",
                requirements.to_str().unwrap(),
                "--index-url",
                &index.simple,
                "-d",
                downloads.to_str().unwrap(),
            ],
        ),
        "pip download --require-hashes",
    );
    assert!(downloads.join("alpha-1.0.0-py3-none-any.whl").is_file());
}

/// A yanked release (PEP 592, yanked through `/api/v1`) is not chosen by pip unless pinned.
fn yanked_release_is_skipped_unless_pinned(root: &Path, dists: &Path, index: &Index) {
    let newer = dist(dists, "alpha", "1.1.0", &[]);
    ok(
        &twine_upload(root, &index.upload, &index.token, &[&newer]),
        "twine upload of alpha 1.1.0",
    );
    let yank_url = format!(
        "{}/api/v1/repositories/pypi/main/packages/alpha/versions/1.1.0/yank",
        index.server.base_url
    );
    let auth = format!("Authorization: Bearer {}", index.token);
    let yanked = ok(
        &run(
            "curl",
            root,
            &[
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "PUT",
                "-H",
                &auth,
                "-H",
                "content-type: application/json",
                "-d",
                "{\"reason\":\"broken\"}",
                &yank_url,
            ],
        ),
        "yank",
    );
    assert_eq!(yanked, "204");
    let env = venv(root, "yank-env");
    let unpinned = pip_install_version(root, &env, index, "alpha");
    assert_eq!(unpinned, "1.0.0", "the yanked 1.1.0 must be skipped");
    let pinned = pip_install_version(root, &env, index, "alpha==1.1.0");
    assert_eq!(pinned, "1.1.0", "a pinned yanked release installs");
}

/// `pip install` of `spec` into `env`, then the installed `alpha.VERSION`.
fn pip_install_version(root: &Path, env: &Path, index: &Index, spec: &str) -> String {
    let pip = env.join("bin/pip");
    ok(
        &run(
            pip.to_str().unwrap(),
            root,
            &["install", "--index-url", &index.simple, spec],
        ),
        &format!("pip install {spec}"),
    );
    python_says(env, "import alpha; print(alpha.VERSION, end='')")
}

/// `uv pip install` into a fresh uv environment.
fn install_with_uv(root: &Path, index: &Index) {
    let env = uv_install(root, "uv-env", &index.simple, &["beta-pkg"]);
    let imported = python_says(&env, "import alpha, beta_pkg; print(alpha.VERSION)");
    assert!(imported.contains("1.0.0"), "{imported}");
}

/// `uv publish` with a token; again with `--check-url`, the existing file is skipped.
fn publish_with_uv(root: &Path, dists: &Path, index: &Index) {
    let delta = dist(dists, "delta", "0.1.0", &[]);
    ok(
        &run(
            "uv",
            root,
            &[
                "publish",
                "--publish-url",
                &index.upload,
                "--token",
                &index.token,
                delta.to_str().unwrap(),
            ],
        ),
        "uv publish",
    );
    let page = ok(
        &run("curl", root, &["-sS", &format!("{}delta/", index.simple)]),
        "the simple page of delta",
    );
    assert!(page.contains("delta-0.1.0-py3-none-any.whl"), "{page}");
    let again = ok(
        &run(
            "uv",
            root,
            &[
                "publish",
                "--publish-url",
                &index.upload,
                "--check-url",
                &index.simple,
                "--token",
                &index.token,
                delta.to_str().unwrap(),
            ],
        ),
        "uv publish --check-url of an existing file",
    );
    assert!(again.contains("already exists, skipping"), "{again}");
}
