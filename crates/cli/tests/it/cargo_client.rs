//! The real cargo against a spawned Wharf: publish a small workspace of crates that depend on
//! each other (features, an optional renamed dependency, a target-specific dependency), build a
//! fresh consumer with a clean `CARGO_HOME`, yank and unyank, search, list owners, and use an
//! `auth-required` repository with `CARGO_REGISTRIES_{NAME}_TOKEN`, and resolve through a proxy
//! of a second Wharf and through a group.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_test_support::WharfProcess;

use crate::bin;

/// The toolchain's cargo (the one running these tests), with a clean environment.
fn cargo(dir: &Path, cargo_home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    cargo_with_input(dir, cargo_home, args, env, None)
}

/// [`cargo`], with `input` on its standard input.
fn cargo_with_input(
    dir: &Path,
    cargo_home: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: Option<&str>,
) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let toolchain_bin = Path::new(&cargo)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = format!(
        "{}:{}",
        toolchain_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(&cargo);
    command
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("CARGO_HOME", cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_RETRY", "0");
    if let Ok(rustup) = std::env::var("RUSTUP_HOME") {
        command.env("RUSTUP_HOME", rustup);
    }
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        command.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let Some(input) = input else {
        return command.output().expect("cargo must be installed");
    };
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cargo must be installed");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input.as_bytes())
        .expect("write to cargo");
    child.wait_with_output().expect("cargo")
}

fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed:\n{stderr}");
    format!("{}{stderr}", String::from_utf8_lossy(&out.stdout))
}

fn write(path: PathBuf, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// `.cargo/config.toml` naming the registry; `cargo:token` lets cargo send the token that
/// `CARGO_REGISTRIES_{NAME}_TOKEN` holds to `auth-required` registries.
fn registry_config(dir: &Path, name: &str, index: &str) {
    write(
        dir.join(".cargo/config.toml"),
        &format!(
            "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n\n\
             [registries.{name}]\nindex = \"sparse+{index}\"\n"
        ),
    );
}

/// The crates of the producer workspace, in publishing order.
const CRATES: [&str; 3] = ["e2e_base", "e2e_extra", "e2e-util"];

/// A workspace: `e2e_base` (features), `e2e_extra`, and `e2e-util` depending on `e2e_base`
/// (with a feature, and again for unix targets only) and on `e2e_extra` as an optional
/// dependency renamed `aliased`.
fn producer(dir: &Path, registry: &str) {
    write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"base\", \"extra\", \"util\"]\nresolver = \"2\"\n",
    );
    write(
        dir.join("extra/Cargo.toml"),
        &format!(
            "[package]\nname = \"e2e_extra\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             description = \"extra crate\"\nlicense = \"MIT\"\npublish = [\"{registry}\"]\n"
        ),
    );
    write(
        dir.join("extra/src/lib.rs"),
        "pub fn extra() -> u32 { 40 }\n",
    );
    write(
        dir.join("base/Cargo.toml"),
        &format!(
            "[package]\nname = \"e2e_base\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             description = \"base crate\"\nlicense = \"MIT\"\npublish = [\"{registry}\"]\n\n\
             [features]\ndefault = [\"std\"]\nstd = []\nfancy = []\n"
        ),
    );
    write(
        dir.join("base/src/lib.rs"),
        "pub fn base() -> u32 { if cfg!(feature = \"fancy\") { 40 } else { 1 } }\n",
    );
    write(
        dir.join("util/Cargo.toml"),
        &format!(
            "[package]\nname = \"e2e-util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             description = \"utilities over e2e_base\"\nlicense = \"MIT\"\npublish = [\"{registry}\"]\n\n\
             [dependencies]\ne2e_base = {{ path = \"../base\", version = \"0.1\", registry = \"{registry}\", features = [\"fancy\"] }}\n\
             aliased = {{ package = \"e2e_extra\", path = \"../extra\", version = \"0.1\", registry = \"{registry}\", optional = true }}\n\n\
             [target.'cfg(unix)'.dependencies]\ne2e_base = {{ path = \"../base\", version = \"0.1\", registry = \"{registry}\", features = [\"std\"] }}\n\n\
             [features]\nalias = [\"dep:aliased\"]\n"
        ),
    );
    write(
        dir.join("util/src/lib.rs"),
        "pub fn answer() -> u32 { e2e_base::base() + 2 }\n\
         #[cfg(feature = \"alias\")]\npub fn aliased() -> u32 { aliased::extra() }\n",
    );
}

/// A yanked version still builds from a lockfile but is not chosen for a new one; `--undo`
/// brings it back.
fn yank_keeps_locked_builds_and_blocks_new_ones(
    root: &Path,
    work: &Path,
    producer_home: &Path,
    app: &Path,
    consumer_home: &Path,
    index: &str,
    token_env: &[(&str, &str)],
) {
    ok(
        &cargo(
            work,
            producer_home,
            &["yank", "--registry", "wharf", "e2e-util@0.1.0"],
            token_env,
        ),
        "cargo yank",
    );
    let locked = cargo(app, consumer_home, &["build", "--locked", "--quiet"], &[]);
    ok(
        &locked,
        "building with a lockfile that holds a yanked version",
    );
    let fresh = root.join("fresh");
    consumer(&fresh, "wharf");
    registry_config(&fresh, "wharf", index);
    let unresolvable = cargo(
        &fresh,
        &root.join("fresh-home"),
        &["generate-lockfile"],
        &[],
    );
    assert!(
        !unresolvable.status.success(),
        "a yanked version must not be selected for a new lockfile"
    );
    ok(
        &cargo(
            work,
            producer_home,
            &["yank", "--undo", "--registry", "wharf", "e2e-util@0.1.0"],
            token_env,
        ),
        "cargo yank --undo",
    );
    ok(
        &cargo(
            &fresh,
            &root.join("fresh-home"),
            &["generate-lockfile"],
            &[],
        ),
        "resolving after the undo",
    );
}

fn consumer(dir: &Path, registry: &str) {
    write(
        dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ne2e-util = {{ version = \"0.1\", registry = \"{registry}\", features = [\"alias\"] }}\n"
        ),
    );
    write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"answer={} aliased={}\", e2e_util::answer(), e2e_util::aliased()); }\n",
    );
}

#[test]
fn cargo_publishes_builds_yanks_searches_and_lists_owners() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let token = server.admin_token("crate-admin");
    let index = format!("{}/cargo/main/index/", server.base_url);
    let token_env = [("CARGO_REGISTRIES_WHARF_TOKEN", token.as_str())];

    let work = root.join("producer");
    producer(&work, "wharf");
    registry_config(&work, "wharf", &index);
    let producer_home = root.join("producer-home");
    for package in CRATES {
        let out = cargo(
            &work,
            &producer_home,
            &["publish", "--registry", "wharf", "-p", package],
            &token_env,
        );
        ok(&out, &format!("cargo publish -p {package}"));
    }
    let again = cargo(
        &work,
        &producer_home,
        &["publish", "--registry", "wharf", "-p", "e2e_base"],
        &token_env,
    );
    assert!(!again.status.success(), "re-publishing a version must fail");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let app = root.join("consumer");
    consumer(&app, "wharf");
    registry_config(&app, "wharf", &index);
    let consumer_home = root.join("consumer-home");
    let run = ok(
        &cargo(&app, &consumer_home, &["run", "--quiet"], &[]),
        "cargo run of the consumer",
    );
    assert!(run.contains("answer=42 aliased=40"), "{run}");

    yank_keeps_locked_builds_and_blocks_new_ones(
        root,
        &work,
        &producer_home,
        &app,
        &consumer_home,
        &index,
        &token_env,
    );

    let search = ok(
        &cargo(
            &work,
            &producer_home,
            &["search", "--registry", "wharf", "e2e"],
            &[],
        ),
        "cargo search",
    );
    assert!(search.contains("e2e-util = \"0.1.0\""), "{search}");
    assert!(search.contains("e2e_base = \"0.1.0\""), "{search}");
    let owners = ok(
        &cargo(
            &work,
            &producer_home,
            &["owner", "--list", "--registry", "wharf", "e2e-util"],
            &token_env,
        ),
        "cargo owner --list",
    );
    assert!(owners.contains("crate-admin"), "{owners}");
    assert!(
        !server.log().contains(&token),
        "the token must never be logged"
    );
}

#[test]
fn auth_required_repositories_need_the_token_for_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let created = server.admin(
        &[
            "repo",
            "create",
            "private",
            "--format",
            "cargo",
            "--private",
        ],
        None,
    );
    assert_eq!(created.trim(), "cargo/private");
    let token = server.admin_token("owner");
    let index = format!("{}/cargo/private/index/", server.base_url);
    let token_env = [("CARGO_REGISTRIES_PRIV_TOKEN", token.as_str())];

    let work = root.join("producer");
    producer(&work, "priv");
    registry_config(&work, "priv", &index);
    let home = root.join("home");
    for package in CRATES {
        ok(
            &cargo(
                &work,
                &home,
                &["publish", "--registry", "priv", "-p", package],
                &token_env,
            ),
            "publish to an auth-required registry",
        );
    }
    let app = root.join("consumer");
    consumer(&app, "priv");
    registry_config(&app, "priv", &index);
    let denied = cargo(&app, &root.join("anon-home"), &["generate-lockfile"], &[]);
    assert!(
        !denied.status.success(),
        "reading without a token must fail"
    );
    let run = ok(
        &cargo(
            &app,
            &root.join("auth-home"),
            &["run", "--quiet"],
            &token_env,
        ),
        "cargo run with the token",
    );
    assert!(run.contains("answer=42"), "{run}");
    let login_home = root.join("login-home");
    ok(
        &cargo_with_input(
            &app,
            &login_home,
            &["login", "--registry", "priv"],
            &[],
            Some(&format!("{token}\n")),
        ),
        "cargo login",
    );
    let run = ok(
        &cargo(&app, &login_home, &["run", "--quiet"], &[]),
        "cargo run after cargo login",
    );
    assert!(run.contains("answer=42"), "{run}");
}

#[test]
fn cargo_resolves_through_a_proxy_of_a_second_wharf_and_through_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let upstream = WharfProcess::start(bin(), &root.join("upstream"), &[], &[]);
    let token = upstream.admin_token("publisher");
    let work = root.join("producer");
    producer(&work, "up");
    registry_config(
        &work,
        "up",
        &format!("{}/cargo/main/index/", upstream.base_url),
    );
    for package in CRATES {
        ok(
            &cargo(
                &work,
                &root.join("producer-home"),
                &["publish", "--registry", "up", "-p", package],
                &[("CARGO_REGISTRIES_UP_TOKEN", token.as_str())],
            ),
            "publish to the upstream",
        );
    }

    let local = WharfProcess::start(bin(), &root.join("local"), &[], &[]);
    let upstream_index = format!("{}/cargo/main/index/", upstream.base_url);
    let mirror = local.admin(
        &[
            "repo",
            "create",
            "mirror",
            "--format",
            "cargo",
            "--kind",
            "proxy",
            "--upstream",
            &upstream_index,
        ],
        None,
    );
    assert_eq!(mirror.trim(), "cargo/mirror");
    let group = local.admin(
        &[
            "repo", "create", "all", "--format", "cargo", "--kind", "group", "--member", "main",
            "--member", "mirror",
        ],
        None,
    );
    assert_eq!(group.trim(), "cargo/all");
    let listed = local.admin(&["repo", "list"], None);
    assert!(
        listed.contains("cargo/all\tgroup") && listed.contains("members=main,mirror"),
        "{listed}"
    );

    for repo in ["mirror", "all"] {
        let app = root.join(format!("consumer-{repo}"));
        consumer(&app, "local");
        registry_config(
            &app,
            "local",
            &format!("{}/cargo/{repo}/index/", local.base_url),
        );
        let run = ok(
            &cargo(
                &app,
                &root.join(format!("home-{repo}")),
                &["run", "--quiet"],
                &[],
            ),
            &format!("cargo run through {repo}"),
        );
        assert!(run.contains("answer=42 aliased=40"), "{run}");
    }
    let cached = local.admin(&["fsck"], None);
    assert!(cached.is_empty(), "cached crates are whole: {cached}");
}
