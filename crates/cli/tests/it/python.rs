//! What the Python end-to-end tests share: running the real tools (pip, uv, twine, poetry)
//! with their caches off, building distributions, fresh virtual environments, uploads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs a Python tool in `dir` with caches and prompts off; fails loudly when it is missing.
pub(crate) fn run(program: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("UV_NO_CACHE", "1")
        .env("TWINE_NON_INTERACTIVE", "1")
        .env("POETRY_NO_INTERACTION", "1")
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_CACHE_DIR", dir.join(".poetry-cache"))
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed ({e}); scripts/test installs it"))
}

/// Asserts success; returns stdout and stderr.
pub(crate) fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    format!("{}{stderr}", String::from_utf8_lossy(&out.stdout))
}

/// Builds a distribution with the fixture script (no network, no build backend).
pub(crate) fn dist(dir: &Path, name: &str, version: &str, extra: &[&str]) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/make_dists.py");
    let mut args = vec![
        script.to_str().unwrap(),
        dir.to_str().unwrap(),
        name,
        version,
    ];
    args.extend_from_slice(extra);
    let out = ok(&run("python3", dir, &args), "making a distribution");
    dir.join(out.trim())
}

/// Builds an sdist and a wheel of a real project with `uv build` (the hatchling build
/// backend, from PyPI), depending on `requires`. Returns both files.
pub(crate) fn uv_build(dir: &Path, name: &str, version: &str, requires: &[&str]) -> Vec<PathBuf> {
    let project = dir.join(format!("{name}-src"));
    let module = project.join("src").join(name.replace('-', "_"));
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("__init__.py"),
        format!("VERSION = {version:?}\n"),
    )
    .unwrap();
    let deps: Vec<String> = requires.iter().map(|r| format!("{r:?}")).collect();
    std::fs::write(
        project.join("pyproject.toml"),
        format!(
            "[project]\nname = {name:?}\nversion = {version:?}\nrequires-python = \">=3.8\"\n\
             dependencies = [{}]\n\n[build-system]\nrequires = [\"hatchling\"]\n\
             build-backend = \"hatchling.build\"\n",
            deps.join(", ")
        ),
    )
    .unwrap();
    let out = dir.join("built");
    ok(
        &run(
            "uv",
            &project,
            &["build", "--out-dir", out.to_str().unwrap()],
        ),
        "uv build",
    );
    let stem = format!("{}-{version}", name.replace('-', "_"));
    let built = vec![
        out.join(format!("{stem}.tar.gz")),
        out.join(format!("{stem}-py3-none-any.whl")),
    ];
    for file in &built {
        assert!(file.is_file(), "uv build made no {}", file.display());
    }
    built
}

/// A fresh virtual environment made by the standard library.
pub(crate) fn venv(root: &Path, name: &str) -> PathBuf {
    let path = root.join(name);
    ok(
        &run("python3", root, &["-m", "venv", path.to_str().unwrap()]),
        "python3 -m venv",
    );
    path
}

/// `twine upload` of `files` to `url` with an API token.
pub(crate) fn twine_upload(root: &Path, url: &str, token: &str, files: &[&Path]) -> Output {
    let mut args = vec![
        "upload",
        "--repository-url",
        url,
        "-u",
        "__token__",
        "-p",
        token,
    ];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    run("twine", root, &args)
}

/// A fresh uv environment `root/name` with `packages` installed by `uv pip install` from
/// `index`.
pub(crate) fn uv_install(root: &Path, name: &str, index: &str, packages: &[&str]) -> PathBuf {
    let env = root.join(name);
    ok(
        &run("uv", root, &["venv", env.to_str().unwrap()]),
        "uv venv",
    );
    let python = env.join("bin/python");
    let mut args = vec![
        "pip",
        "install",
        "--python",
        python.to_str().unwrap(),
        "--index-url",
        index,
    ];
    args.extend_from_slice(packages);
    ok(
        &run("uv", root, &args),
        &format!("uv pip install from {index}"),
    );
    env
}

/// What the environment's Python prints for `code`.
pub(crate) fn python_says(env: &Path, code: &str) -> String {
    let python = env.join("bin/python");
    ok(&run(python.to_str().unwrap(), env, &["-c", code]), code)
}
