//! The real npm against a spawned Wharf: publish a scoped and an unscoped package that depend
//! on each other, install them in a fresh project, dist-tags, deprecate and un-deprecate,
//! unpublish one version and a whole package, search, whoami, and `npm login` / `npm logout`
//! (legacy login, answered on a pseudo-terminal with `script`, as a person would type it).

use std::path::Path;
use std::process::{Command, Output};

use wharf_test_support::WharfProcess;

use crate::bin;
use crate::python::ok;

/// The password `WharfProcess::admin_token` gives its user.
const PASSWORD: &str = "correct-horse-battery";

/// Runs npm in `dir` with its own cache and user config (`dir/.npmrc`); fails loudly when npm
/// is missing.
pub(crate) fn npm(dir: &Path, args: &[&str]) -> Output {
    Command::new("npm")
        .current_dir(dir)
        .args(args)
        .env("npm_config_userconfig", dir.join(".npmrc"))
        .env("npm_config_cache", dir.join(".npm-cache"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .output()
        .unwrap_or_else(|e| panic!("npm must be installed ({e}); scripts/test checks it"))
}

/// A project directory with `package.json` and an `.npmrc` pointing at `registry` (with
/// `token` when given).
pub(crate) fn project(dir: &Path, package_json: &str, registry: &str, token: Option<&str>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("package.json"), package_json).unwrap();
    let host = registry.split_once("://").unwrap().1;
    let auth = token
        .map(|t| format!("//{host}:_authToken={t}\n"))
        .unwrap_or_default();
    std::fs::write(dir.join(".npmrc"), format!("registry={registry}\n{auth}")).unwrap();
}

pub(crate) fn producers(
    root: &Path,
    registry: &str,
    token: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let util = root.join("util");
    project(
        &util,
        r#"{"name":"@acme/util","version":"1.0.0","main":"index.js",
            "description":"Small utilities","keywords":["acme","util"]}"#,
        registry,
        Some(token),
    );
    std::fs::write(util.join("index.js"), "module.exports = () => 42;\n").unwrap();
    std::fs::write(util.join("README.md"), "# @acme/util\n").unwrap();
    let greeter = root.join("greeter");
    project(
        &greeter,
        r#"{"name":"greeter","version":"2.0.0","main":"index.js","description":"Says hello",
            "dependencies":{"@acme/util":"^1.0.0"}}"#,
        registry,
        Some(token),
    );
    std::fs::write(
        greeter.join("index.js"),
        "module.exports = () => 'hello ' + require('@acme/util')();\n",
    )
    .unwrap();
    (util, greeter)
}

/// Installs `spec` into a fresh project and returns what `node` prints of `expr`.
fn install_and_run(dir: &Path, registry: &str, spec: &str, expr: &str) -> String {
    project(
        dir,
        r#"{"name":"consumer","version":"0.0.0"}"#,
        registry,
        None,
    );
    ok(&npm(dir, &["install", spec]), "npm install");
    node_prints(dir, expr)
}

/// What the `greeter` installed in `dir` says.
pub(crate) fn greeter_says(dir: &Path) -> String {
    node_prints(dir, "require('greeter')()")
}

/// What node prints of `expr`, run in `dir`.
pub(crate) fn node_prints(dir: &Path, expr: &str) -> String {
    let out = Command::new("node")
        .current_dir(dir)
        .args(["-e", &format!("console.log({expr})")])
        .output()
        .expect("node comes with npm");
    ok(&out, "node").trim().to_owned()
}

/// Publishes a pre-release under `beta`, moves dist-tags, deprecates and un-deprecates.
fn tags_and_deprecation(root: &Path, registry: &str, greeter: &Path) {
    // A pre-release under its own tag is not what `latest` installs.
    let manifest = std::fs::read_to_string(greeter.join("package.json")).unwrap();
    std::fs::write(
        greeter.join("package.json"),
        manifest.replace("2.0.0", "2.1.0-beta.1"),
    )
    .unwrap();
    ok(
        &npm(greeter, &["publish", "--tag", "beta"]),
        "publish --tag beta",
    );
    let tags = ok(&npm(greeter, &["dist-tag", "ls", "greeter"]), "dist-tag ls");
    assert!(
        tags.contains("beta: 2.1.0-beta.1") && tags.contains("latest: 2.0.0"),
        "{tags}"
    );
    let version = install_and_run(
        &root.join("app2"),
        registry,
        "greeter",
        "require('greeter/package.json').version",
    );
    assert_eq!(version, "2.0.0");
    ok(
        &npm(greeter, &["dist-tag", "add", "greeter@2.0.0", "stable"]),
        "dist-tag add",
    );
    ok(
        &npm(greeter, &["dist-tag", "rm", "greeter", "beta"]),
        "dist-tag rm",
    );
    let tags = ok(&npm(greeter, &["dist-tag", "ls", "greeter"]), "dist-tag ls");
    assert!(
        tags.contains("stable: 2.0.0") && !tags.contains("beta"),
        "{tags}"
    );

    ok(
        &npm(greeter, &["deprecate", "greeter@2.0.0", "use greeter 3"]),
        "deprecate",
    );
    let view = ok(
        &npm(greeter, &["view", "greeter@2.0.0", "deprecated"]),
        "view",
    );
    assert_eq!(view.trim(), "use greeter 3");
    let app3 = root.join("app3");
    project(
        &app3,
        r#"{"name":"consumer","version":"0.0.0"}"#,
        registry,
        None,
    );
    let warned = ok(
        &npm(&app3, &["install", "greeter@2.0.0"]),
        "install deprecated",
    );
    assert!(
        warned.contains("deprecated greeter@2.0.0: use greeter 3"),
        "{warned}"
    );
    ok(
        &npm(greeter, &["deprecate", "greeter@2.0.0", ""]),
        "un-deprecate",
    );
    let view = ok(
        &npm(greeter, &["view", "greeter@2.0.0", "deprecated"]),
        "view",
    );
    assert_eq!(view.trim(), "");
}

#[test]
fn npm_publishes_installs_and_manages_packages() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let token = server.admin_token("ann");
    let registry = format!("{}/npm/main/", server.base_url);
    let (util, greeter) = producers(root, &registry, &token);

    ok(&npm(&util, &["publish"]), "npm publish of a scoped package");
    ok(&npm(&greeter, &["publish"]), "npm publish");
    let again = npm(&greeter, &["publish"]);
    assert!(!again.status.success(), "a version was published twice");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("previously published"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let said = install_and_run(
        &root.join("app"),
        &registry,
        "greeter",
        "require('greeter')()",
    );
    assert_eq!(said, "hello 42");
    let lock = std::fs::read_to_string(root.join("app/package-lock.json")).unwrap();
    assert!(lock.contains("\"node_modules/@acme/util\""), "{lock}");
    assert!(lock.contains("sha512-"), "{lock}");

    tags_and_deprecation(root, &registry, &greeter);

    ok(
        &npm(&greeter, &["unpublish", "greeter@2.1.0-beta.1"]),
        "unpublish a version",
    );
    let versions = ok(
        &npm(&greeter, &["view", "greeter", "versions", "--json"]),
        "view",
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&versions).unwrap(),
        serde_json::json!(["2.0.0"])
    );

    latest_after_a_deletion_through_the_api(root, &server, &token, &greeter);

    let found = ok(&npm(&greeter, &["search", "acme", "--json"]), "search");
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found[0]["name"], "@acme/util", "{found}");
    let whoami = ok(&npm(&greeter, &["whoami"]), "whoami");
    assert_eq!(whoami.trim(), "ann");

    ok(
        &npm(&util, &["unpublish", "@acme/util", "--force"]),
        "unpublish --force",
    );
    let gone = npm(&util, &["view", "@acme/util"]);
    assert!(
        !gone.status.success(),
        "an unpublished package is still there"
    );
    assert!(String::from_utf8_lossy(&gone.stderr).contains("404"));
}

/// A version deleted through the management API takes `latest` with it: npm installs the
/// highest version left.
fn latest_after_a_deletion_through_the_api(
    root: &Path,
    server: &WharfProcess,
    token: &str,
    greeter: &Path,
) {
    let manifest = std::fs::read_to_string(greeter.join("package.json")).unwrap();
    std::fs::write(
        greeter.join("package.json"),
        manifest.replace("2.1.0-beta.1", "2.2.0"),
    )
    .unwrap();
    ok(&npm(greeter, &["publish"]), "publish 2.2.0");
    let url = format!(
        "{}/api/v1/repositories/npm/main/packages/greeter/versions/2.2.0",
        server.base_url
    );
    assert_eq!(crate::curl_delete(token, &url), "204");
    let latest = ok(
        &npm(greeter, &["view", "greeter", "dist-tags.latest"]),
        "view dist-tags",
    );
    assert_eq!(latest.trim(), "2.0.0");
    let version = install_and_run(
        &root.join("app4"),
        &format!("{}/npm/main/", server.base_url),
        "greeter",
        "require('greeter/package.json').version",
    );
    assert_eq!(version, "2.0.0");
}

/// Runs `login` (an `npm login` command line) on a pseudo-terminal made by `script`, typing
/// `ann` and `password` after the prompts.
fn typed_login(home: &Path, login: &str, password: &str) -> Output {
    let typed = format!("sleep 3; printf 'ann\\r'; sleep 2; printf '{password}\\r'; sleep 4");
    Command::new("sh")
        .current_dir(home)
        .args([
            "-c",
            &format!("({typed}) | script -qec '{login}' /dev/null"),
        ])
        .env("npm_config_cache", home.join(".npm-cache"))
        .output()
        .expect("script (util-linux) must be installed")
}

#[test]
fn npm_login_whoami_and_logout() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let _ = server.admin_token("ann");
    let registry = format!("{}/npm/main/", server.base_url);
    let home = root.join("home");
    project(&home, "{}", &registry, None);
    let login = format!(
        "npm login --auth-type=legacy --registry {registry} --userconfig {}",
        home.join(".npmrc").display()
    );
    let said = ok(&typed_login(&home, &login, PASSWORD), "npm login");
    assert!(said.contains("Logged in on"), "{said}");
    let npmrc = std::fs::read_to_string(home.join(".npmrc")).unwrap();
    assert!(npmrc.contains(":_authToken=wharf_"), "{npmrc}");
    assert_eq!(ok(&npm(&home, &["whoami"]), "whoami").trim(), "ann");
    let tokens = ok(&npm(&home, &["token", "list"]), "token list");
    assert!(tokens.contains("npm login"), "{tokens}");
    ok(&npm(&home, &["logout"]), "npm logout");
    let npmrc = std::fs::read_to_string(home.join(".npmrc")).unwrap_or_default();
    let token = npmrc.lines().find(|l| l.contains("_authToken"));
    assert!(token.is_none(), "{npmrc}");
    let out = typed_login(&home, &login, "wrong-password");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("Logged in on"), "{said}");
    assert!(said.contains("401") || said.contains("E401"), "{said}");
}
