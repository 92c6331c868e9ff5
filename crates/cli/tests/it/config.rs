use crate::wharf;

#[test]
fn config_print_shows_layers_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wharf.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[gc]\ngrace = \"2h\"\n\
         [proxy.credentials.\"npm/private\"]\ntoken = \"s3cret-token\"\n",
    )
    .unwrap();
    let secret = dir.path().join("db-url");
    std::fs::write(&secret, "postgres://wharf:hunter2@db/wharf\n").unwrap();
    let out = wharf(
        &[
            "--config",
            file.to_str().unwrap(),
            "--data-dir",
            "/srv/wharf",
            "config",
            "print",
        ],
        &[
            ("WHARF_GC__GRACE", "3h"),
            ("WHARF_DATABASE__URL_FILE", secret.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("listen = \"127.0.0.1:9000\""),
        "file layer: {text}"
    );
    assert!(text.contains("grace = \"3h\""), "env beats file: {text}");
    assert!(
        text.contains("data_dir = \"/srv/wharf\""),
        "flag beats all: {text}"
    );
    assert!(text.contains("url = \"***\""), "secret redacted: {text}");
    assert!(!text.contains("hunter2"), "secret leaked: {text}");
    assert!(
        text.contains("token = \"***\""),
        "upstream token redacted: {text}"
    );
    assert!(
        !text.contains("s3cret-token"),
        "upstream token leaked: {text}"
    );
}

#[test]
fn an_unknown_key_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wharf.toml");
    std::fs::write(&file, "[server]\nlistne = \"127.0.0.1:9000\"\n").unwrap();
    let out = wharf(
        &["--config", file.to_str().unwrap(), "config", "print"],
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listne"), "{err}");
}

#[test]
fn an_invalid_value_exits_non_zero_naming_it() {
    let out = wharf(
        &["config", "print"],
        &[("WHARF_SERVER__LISTEN", "not-an-address")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("server.listen"), "{err}");
    let out = wharf(
        &["config", "print"],
        &[("WHARF_COMPAT__ROOT", "pantry-typo")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("compat.root"));
    let out = wharf(
        &["--config", "/does/not/exist.toml", "config", "print"],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/does/not/exist.toml"));
}

#[test]
fn malformed_toml_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wharf.toml");
    std::fs::write(&file, "[server\nlisten = ").unwrap();
    let out = wharf(
        &["--config", file.to_str().unwrap(), "config", "print"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid configuration"));
}

#[test]
fn a_platform_config_maps_onto_wharf_settings_under_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let pr = dir.path().join("pr-config.json");
    std::fs::write(
        &pr,
        r#"{"S3Repository": {"access": {"region": "eu-west-1", "access_key": "AKIA1", "secret_access_key": "s3cr3t"},
                             "container": {"bucket": "apps", "path": "releases"}},
            "FsRepository": {"location": {"path": "/srv/packages"}},
            "config": {"log_level": "DEBUG", "package_callback": "http://console/packages"}}"#,
    )
    .unwrap();
    let pr_arg = pr.to_str().unwrap();
    let out = wharf(
        &["--platform-config", pr_arg, "config", "print"],
        &[("WHARF_STORAGE__S3__REGION", "us-east-2")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "backend = \"s3\"",
        "bucket = \"apps\"",
        "prefix = \"releases\"",
        "access_key_id = \"AKIA1\"",
        "secret_access_key = \"***\"",
        "package_callback = \"http://console/packages\"",
        "level = \"debug\"",
        "root = \"platform\"",
        "region = \"us-east-2\"",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains("s3cr3t"), "secret leaked: {text}");

    std::fs::write(
        &pr,
        r#"{"FsRepository": {"location": {"path": "/srv/packages"}}, "config": {}}"#,
    )
    .unwrap();
    let fs = wharf(&["--platform-config", pr_arg, "config", "print"], &[]);
    let text = String::from_utf8(fs.stdout).unwrap();
    assert!(
        text.contains("backend = \"fs\"") && text.contains("root = \"/srv/packages\""),
        "{text}"
    );

    // Swift comes first, as in the original, with its openrc settings.
    std::fs::write(
        &pr,
        r#"{"SwiftRepository": {"access": {"account": "demo-project", "user": "demo", "key": "openrc-s3cr3t",
                                           "auth_url": "https://keystone:5000/v3", "auth_version": "3"},
                                "container": {"container": "apps", "path": "releases"}},
            "S3Repository": {"container": {"bucket": "other"}}}"#,
    )
    .unwrap();
    let swift = wharf(&["--platform-config", pr_arg, "config", "print"], &[]);
    assert!(
        swift.status.success(),
        "{}",
        String::from_utf8_lossy(&swift.stderr)
    );
    let text = String::from_utf8(swift.stdout).unwrap();
    for line in [
        "backend = \"swift\"",
        "auth_url = \"https://keystone:5000/v3\"",
        "auth_version = \"3\"",
        "user = \"demo\"",
        "key = \"***\"",
        "project = \"demo-project\"",
        "container = \"apps\"",
        "prefix = \"releases\"",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains("openrc-s3cr3t"), "secret leaked: {text}");

    std::fs::write(
        &pr,
        r#"{"SwiftRepository": {"access": {}, "container": {}}, "S3Repository": {}}"#,
    )
    .unwrap();
    let swift = wharf(&["--platform-config", pr_arg, "config", "print"], &[]);
    assert!(!swift.status.success());
    let err = String::from_utf8_lossy(&swift.stderr);
    assert!(
        err.contains("SwiftRepository.container.container is empty"),
        "{err}"
    );
}
