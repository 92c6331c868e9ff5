//! pnpm, yarn 1 and yarn 4 install from a Wharf npm repository what the real npm published: a
//! package depending on a scoped one, each in a fresh project, run with node afterwards.
//! scripts/test installs the three clients from the npm registry into its tools directory.

use std::path::Path;
use std::process::{Command, Output};

use wharf_test_support::WharfProcess;

use crate::bin;
use crate::npm_client::{greeter_says, npm, producers, project};
use crate::python::ok;

/// A client named by an environment variable scripts/test sets.
fn tool(var: &str) -> String {
    std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} names a JS client (scripts/test installs it)"))
}

/// Runs `program args…` in `dir`, with npm's settings read from `dir/.npmrc`.
fn run(program: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .env("npm_config_userconfig", dir.join(".npmrc"))
        .env("YARN_ENABLE_TELEMETRY", "0")
        .env("YARN_CACHE_FOLDER", dir.join(".yarn-cache"))
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed ({e}); scripts/test installs it"))
}

#[test]
fn pnpm_and_yarn_install_what_npm_published() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let server = WharfProcess::start(bin(), &root.join("data"), &[], &[]);
    let token = server.admin_token("ann");
    let registry = format!("{}/npm/main/", server.base_url);
    let (util, greeter) = producers(root, &registry, &token);
    ok(&npm(&util, &["publish"]), "npm publish");
    ok(&npm(&greeter, &["publish"]), "npm publish");
    let consumer = r#"{"name":"consumer","version":"0.0.0"}"#;

    let dir = root.join("with-pnpm");
    project(&dir, consumer, &registry, None);
    let store = dir.join(".pnpm-store");
    let args = ["add", "greeter", "--store-dir", store.to_str().unwrap()];
    ok(&run(&tool("WHARF_TEST_PNPM"), &dir, &args), "pnpm add");
    assert_eq!(greeter_says(&dir), "hello 42");
    let lock = std::fs::read_to_string(dir.join("pnpm-lock.yaml")).unwrap();
    assert!(lock.contains("'@acme/util@1.0.0'"), "{lock}");

    let dir = root.join("with-yarn1");
    project(&dir, consumer, &registry, None);
    ok(
        &run(
            &tool("WHARF_TEST_YARN1"),
            &dir,
            &["add", "greeter", "--registry", &registry],
        ),
        "yarn 1 add",
    );
    assert_eq!(greeter_says(&dir), "hello 42");
    let lock = std::fs::read_to_string(dir.join("yarn.lock")).unwrap();
    assert!(
        lock.contains(&format!("{registry}greeter/-/greeter-2.0.0.tgz")),
        "{lock}"
    );

    // yarn 4 refuses plain http unless allowed, and versions younger than its age gate.
    let dir = root.join("with-yarn4");
    project(&dir, consumer, &registry, None);
    std::fs::write(
        dir.join(".yarnrc.yml"),
        format!(
            "npmRegistryServer: \"{}\"\nunsafeHttpWhitelist: [\"127.0.0.1\"]\n\
             npmMinimalAgeGate: 0\nnodeLinker: node-modules\nenableGlobalCache: false\n",
            registry.trim_end_matches('/')
        ),
    )
    .unwrap();
    ok(
        &run(&tool("WHARF_TEST_YARN4"), &dir, &["add", "greeter"]),
        "yarn 4 add",
    );
    assert_eq!(greeter_says(&dir), "hello 42");
    let lock = std::fs::read_to_string(dir.join("yarn.lock")).unwrap();
    assert!(lock.contains("\"@acme/util@npm:^1.0.0\""), "{lock}");
}
