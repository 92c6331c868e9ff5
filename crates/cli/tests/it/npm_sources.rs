//! npm through a proxy repository whose upstream is a second Wharf, and through a group of a
//! hosted repository and that proxy: the real npm installs a package whose dependency a
//! hosted member also has — and the group reads that name from the hosted member only (the
//! dependency-confusion guard). A proxy keeps what it fetched: it still installs with the
//! upstream gone.

use wharf_test_support::WharfProcess;

use crate::bin;
use crate::npm_client::{greeter_says, npm, producers, project};
use crate::python::ok;

#[test]
fn npm_installs_through_a_proxy_and_a_group() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let upstream = WharfProcess::start(bin(), &root.join("upstream"), &[], &[]);
    let token = upstream.admin_token("ann");
    let (util, greeter) = producers(
        &root.join("up"),
        &format!("{}/npm/main/", upstream.base_url),
        &token,
    );
    ok(&npm(&util, &["publish"]), "publish to the upstream");
    ok(&npm(&greeter, &["publish"]), "publish to the upstream");

    let local = WharfProcess::start(bin(), &root.join("local"), &[], &[]);
    let local_token = local.admin_token("bob");
    let mirror = local.admin(
        &[
            "repo",
            "create",
            "mirror",
            "--format",
            "npm",
            "--kind",
            "proxy",
            "--upstream",
            &format!("{}/npm/main/", upstream.base_url),
        ],
        None,
    );
    assert_eq!(mirror.trim(), "npm/mirror");
    let group = local.admin(
        &[
            "repo", "create", "all", "--format", "npm", "--kind", "group", "--member", "main",
            "--member", "mirror",
        ],
        None,
    );
    assert_eq!(group.trim(), "npm/all");
    // The hosted member has its own @acme/util, which answers 7.
    let (own_util, _) = producers(
        &root.join("own"),
        &format!("{}/npm/main/", local.base_url),
        &local_token,
    );
    std::fs::write(own_util.join("index.js"), "module.exports = () => 7;\n").unwrap();
    ok(
        &npm(&own_util, &["publish"]),
        "publish to the hosted member",
    );

    let through_mirror = root.join("via-mirror");
    let mirror_url = format!("{}/npm/mirror/", local.base_url);
    project(
        &through_mirror,
        r#"{"name":"c","version":"0.0.0"}"#,
        &mirror_url,
        None,
    );
    ok(
        &npm(&through_mirror, &["install", "greeter"]),
        "install through the proxy",
    );
    assert_eq!(greeter_says(&through_mirror), "hello 42");
    let tarball = ok(
        &npm(&through_mirror, &["view", "greeter", "dist.tarball"]),
        "npm view",
    );
    assert_eq!(
        tarball.trim(),
        format!("{mirror_url}greeter/-/greeter-2.0.0.tgz")
    );

    let through_group = root.join("via-group");
    let group_url = format!("{}/npm/all/", local.base_url);
    project(
        &through_group,
        r#"{"name":"c","version":"0.0.0"}"#,
        &group_url,
        None,
    );
    ok(
        &npm(&through_group, &["install", "greeter"]),
        "install through the group",
    );
    assert_eq!(
        greeter_says(&through_group),
        "hello 7",
        "the group took @acme/util from the proxy"
    );

    drop(upstream);
    let offline = root.join("offline");
    project(
        &offline,
        r#"{"name":"c","version":"0.0.0"}"#,
        &mirror_url,
        None,
    );
    ok(
        &npm(&offline, &["install", "greeter"]),
        "install through the proxy, upstream gone",
    );
    assert_eq!(greeter_says(&offline), "hello 42");
}
