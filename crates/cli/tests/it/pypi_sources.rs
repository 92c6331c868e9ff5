//! The real pip, uv and poetry resolving through a proxy of a second Wharf and a group with
//! a hosted member; uv resolving from PEP 658 metadata alone (checked in the server's access
//! log); poetry with Wharf as its primary source and a supplemental one.

use std::path::Path;

use wharf_test_support::WharfProcess;

use crate::bin;
use crate::python::{dist, ok, python_says, run, twine_upload, uv_install, venv};

/// Starts a Wharf with an admin token and uploads `(name, version, extra)` distributions to
/// its `main` repository.
fn index_with(root: &Path, name: &str, dists: &[(&str, &str, &[&str])]) -> (WharfProcess, String) {
    let server = WharfProcess::start(bin(), &root.join(name), &[], &[]);
    let token = server.admin_token("pythonista");
    let out = root.join(format!("{name}-dists"));
    std::fs::create_dir_all(&out).unwrap();
    let files: Vec<_> = dists
        .iter()
        .map(|(n, v, extra)| dist(&out, n, v, extra))
        .collect();
    let paths: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    ok(
        &twine_upload(
            root,
            &format!("{}/pypi/main/", server.base_url),
            &token,
            &paths,
        ),
        "twine upload",
    );
    (server, token)
}

#[test]
fn pip_and_uv_install_through_a_proxy_of_a_second_wharf_and_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (upstream, _) = index_with(
        root,
        "upstream",
        &[
            ("alpha", "1.0.0", &[]),
            ("beta-pkg", "1.0.0", &["--requires", "alpha>=1.0"]),
            ("shared", "9.0.0", &[]),
        ],
    );
    let (local, _) = index_with(
        root,
        "local",
        &[
            ("inhouse", "0.1.0", &["--requires", "beta-pkg"]),
            ("shared", "1.0.0", &[]),
        ],
    );
    let upstream_simple = format!("{}/pypi/main/simple/", upstream.base_url);
    let created = local.admin(
        &[
            "repo",
            "create",
            "mirror",
            "--format",
            "pypi",
            "--kind",
            "proxy",
            "--upstream",
            &upstream_simple,
        ],
        None,
    );
    assert_eq!(created.trim(), "pypi/mirror");
    let created = local.admin(
        &[
            "repo", "create", "all", "--format", "pypi", "--kind", "group", "--member", "main",
            "--member", "mirror",
        ],
        None,
    );
    assert_eq!(created.trim(), "pypi/all");

    let env = venv(root, "through-proxy");
    let pip = env.join("bin/pip");
    let mirror = format!("{}/pypi/mirror/simple/", local.base_url);
    ok(
        &run(
            pip.to_str().unwrap(),
            root,
            &["install", "--index-url", &mirror, "beta-pkg"],
        ),
        "pip install through the proxy",
    );
    let said = python_says(&env, "import alpha, beta_pkg; print(beta_pkg.VERSION)");
    assert!(said.contains("1.0.0"), "{said}");

    let group = format!("{}/pypi/all/simple/", local.base_url);
    let env = uv_install(root, "through-group", &group, &["inhouse", "shared"]);
    let said = python_says(
        &env,
        "import alpha, beta_pkg, inhouse, shared; print(shared.VERSION)",
    );
    assert!(
        said.contains("1.0.0"),
        "the hosted shared hides the upstream's 9.0.0 (dependency-confusion guard): {said}"
    );
    let fsck = local.admin(&["fsck"], None);
    assert!(fsck.is_empty(), "cached files are whole: {fsck}");
}

#[test]
fn uv_resolves_from_core_metadata_without_downloading_wheels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, _) = index_with(
        root,
        "index",
        &[
            ("alpha", "1.0.0", &[]),
            ("beta-pkg", "1.0.0", &["--requires", "alpha>=1.0"]),
        ],
    );
    let before = server.log().len();
    let requirements = root.join("requirements.in");
    std::fs::write(&requirements, "beta-pkg\n").unwrap();
    let simple = format!("{}/pypi/main/simple/", server.base_url);
    let compiled = ok(
        &run(
            "uv",
            root,
            &[
                "pip",
                "compile",
                "--index-url",
                &simple,
                requirements.to_str().unwrap(),
            ],
        ),
        "uv pip compile",
    );
    assert!(
        compiled.contains("alpha==1.0.0") && compiled.contains("beta-pkg==1.0.0"),
        "{compiled}"
    );
    let log = server.log()[before..].to_owned();
    let metadata = log.matches(".whl.metadata").count();
    let wheels = log
        .match_indices(".whl")
        .filter(|(i, _)| !log[i + 4..].starts_with(".metadata"))
        .count();
    assert!(metadata >= 2, "uv reads both PEP 658 files:\n{log}");
    assert_eq!(wheels, 0, "no wheel is downloaded to resolve:\n{log}");
}

#[test]
fn poetry_resolves_with_wharf_as_primary_and_supplemental_sources() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (server, token) = index_with(
        root,
        "index",
        &[
            ("alpha", "1.0.0", &[]),
            ("beta-pkg", "1.0.0", &["--requires", "alpha>=1.0"]),
        ],
    );
    let created = server.admin(&["repo", "create", "extra", "--format", "pypi"], None);
    assert_eq!(created.trim(), "pypi/extra");
    let extra = root.join("extra-dists");
    std::fs::create_dir_all(&extra).unwrap();
    let zeta = dist(&extra, "zeta", "0.2.0", &[]);
    ok(
        &twine_upload(
            root,
            &format!("{}/pypi/extra/", server.base_url),
            &token,
            &[&zeta],
        ),
        "twine upload to extra",
    );
    let project = root.join("consumer");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        format!(
            "[project]\nname = \"consumer\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\n\
             dependencies = [\"beta-pkg (>=1.0)\", \"zeta (>=0.2)\"]\n\n\
             [tool.poetry]\npackage-mode = false\n\n\
             [[tool.poetry.source]]\nname = \"wharf\"\nurl = \"{0}/pypi/main/simple/\"\npriority = \"primary\"\n\n\
             [[tool.poetry.source]]\nname = \"extra\"\nurl = \"{0}/pypi/extra/simple/\"\npriority = \"supplemental\"\n",
            server.base_url
        ),
    )
    .unwrap();
    ok(&run("poetry", &project, &["lock"]), "poetry lock");
    let lock = std::fs::read_to_string(project.join("poetry.lock")).unwrap();
    assert!(
        lock.contains("name = \"zeta\"") && lock.contains("/pypi/extra/simple"),
        "zeta comes from the supplemental source:\n{lock}"
    );
    ok(&run("poetry", &project, &["install"]), "poetry install");
    let said = python_says(
        &project.join(".venv"),
        "import alpha, beta_pkg, zeta; print(zeta.VERSION)",
    );
    assert!(said.contains("0.2.0"), "{said}");
}
