//! The foundation's scenarios with `storage.backend = "s3"` and `"swift"`, against the S3
//! server (s3s-fs) and the one-node Swift `scripts/test` starts: the Platform API as its README
//! drives it, generic uploads (multipart / segmented), ranged downloads, deletion, garbage
//! collection and fsck — with the secret read from a file, as a deployment would — redirected
//! downloads (presigned S3 URLs, Swift TempURLs), and a Platform deployment's `pr-config.json`.

use wharf_test_support::WharfProcess;

use crate::platform_curl::seed_readme_scenario;
use crate::{bin, curl, curl_put, curl_put_with, wharf};

/// The storage settings of a Wharf on the test S3 server, under a prefix of its own.
pub(crate) fn s3_env(data: &std::path::Path) -> Vec<(String, String)> {
    let var = |name: &str| server_var(name, "an S3 server (s3s-fs)");
    let secret = secret_file(data, "s3-secret", &var("WHARF_TEST_S3_SECRET_KEY"));
    let prefix = format!("e2e-{}", data.file_name().unwrap().to_string_lossy());
    vec![
        ("WHARF_STORAGE__BACKEND".into(), "s3".into()),
        (
            "WHARF_STORAGE__S3__ENDPOINT".into(),
            var("WHARF_TEST_S3_ENDPOINT"),
        ),
        (
            "WHARF_STORAGE__S3__BUCKET".into(),
            var("WHARF_TEST_S3_BUCKET"),
        ),
        ("WHARF_STORAGE__S3__PREFIX".into(), prefix),
        (
            "WHARF_STORAGE__S3__ACCESS_KEY_ID".into(),
            var("WHARF_TEST_S3_ACCESS_KEY"),
        ),
        ("WHARF_STORAGE__S3__SECRET_ACCESS_KEY_FILE".into(), secret),
    ]
}

/// The storage settings of a Wharf on the test Swift (TempAuth), under a prefix of its own,
/// with 5 MiB segments so that the scenarios' files are large objects.
pub(crate) fn swift_env(data: &std::path::Path) -> Vec<(String, String)> {
    let var = |name: &str| server_var(name, "a one-node Swift");
    let key = secret_file(data, "swift-key", &var("WHARF_TEST_SWIFT_KEY"));
    let prefix = format!("e2e-{}", data.file_name().unwrap().to_string_lossy());
    vec![
        ("WHARF_STORAGE__BACKEND".into(), "swift".into()),
        (
            "WHARF_STORAGE__SWIFT__AUTH_URL".into(),
            var("WHARF_TEST_SWIFT_AUTH_URL"),
        ),
        (
            "WHARF_STORAGE__SWIFT__USER".into(),
            var("WHARF_TEST_SWIFT_USER"),
        ),
        ("WHARF_STORAGE__SWIFT__KEY_FILE".into(), key),
        (
            "WHARF_STORAGE__SWIFT__CONTAINER".into(),
            var("WHARF_TEST_SWIFT_CONTAINER"),
        ),
        ("WHARF_STORAGE__SWIFT__PREFIX".into(), prefix),
        (
            "WHARF_STORAGE__SWIFT__TEMP_URL_KEY".into(),
            var("WHARF_TEST_SWIFT_TEMP_URL_KEY"),
        ),
        (
            "WHARF_STORAGE__SWIFT__SEGMENT_SIZE".into(),
            (5u32 << 20).to_string(),
        ),
    ]
}

/// A test setting `scripts/test` exports once it started `server`.
fn server_var(name: &str, server: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run ./scripts/test, which starts {server}"))
}

/// Writes `value` to `data/name` (as a deployment keeps a secret): the file's path.
fn secret_file(data: &std::path::Path, name: &str, value: &str) -> String {
    let path = data.join(name);
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path.to_string_lossy().into_owned()
}

pub(crate) fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn the_platform_scenario_passes_on_s3() {
    platform_scenario(s3_env);
}

#[test]
fn the_platform_scenario_passes_on_swift() {
    platform_scenario(swift_env);
}

pub(crate) type Settings = fn(&std::path::Path) -> Vec<(String, String)>;

fn platform_scenario(settings: Settings) {
    let dir = tempfile::tempdir().unwrap();
    let env = settings(dir.path());
    seed_readme_scenario(dir.path(), &["--compat-root", "platform"], &pairs(&env));
    // (Admin commands the test runs without the S3 settings may create an empty `blobs`.)
    let stored = crate::admin::first_file(&dir.path().join("blobs"));
    assert!(
        stored.is_none(),
        "nothing went to the local filesystem: {stored:?}"
    );
}

#[test]
fn generic_uploads_downloads_gc_and_fsck_on_s3() {
    generic_scenario(s3_env);
}

#[test]
fn generic_uploads_downloads_gc_and_fsck_on_swift() {
    generic_scenario(swift_env);
}

fn generic_scenario(settings: Settings) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let env = settings(data);
    let env = pairs(&env);
    let server = WharfProcess::start(bin(), data, &[], &env);
    let token = server.admin_token("ci");
    let auth = format!("Authorization: Bearer {token}");
    let host = &server.base_url;
    // Over two 8 MiB S3 parts, over three 5 MiB Swift segments.
    let big: Vec<u8> = (0..17u32 << 20).map(|i| (i % 253) as u8).collect();
    let file = data.join("big.bin");
    std::fs::write(&file, &big).unwrap();
    let url = format!("{host}/generic/main/app/1.0/big.bin");
    let put = curl_put(&token, &file, &url);
    assert_eq!(put, "201", "{}", server.log());
    let got = curl(&[&url]);
    assert_eq!(got.stdout.len(), big.len());
    assert!(got.stdout == big, "the download is byte-identical");
    let range = curl(&["-H", "Range: bytes=16777210-16777219", &url]);
    assert_eq!(range.stdout, &big[16_777_210..16_777_220]);
    let del = curl(&["-w", "%{http_code}", "-H", &auth, "-X", "DELETE", &url]);
    assert_eq!(String::from_utf8_lossy(&del.stdout), "204");
    declared_uploads(host, &token, data, &big);
    drop(server);

    let data_arg = data.to_str().unwrap();
    let gc = wharf(&["--data-dir", data_arg, "gc", "--grace", "0s"], &env);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&gc.stdout).unwrap();
    assert_eq!(report["deleted"], 1, "{report}");
    assert_eq!(report["bytes_freed"], big.len());
    let fsck = wharf(&["--data-dir", data_arg, "fsck"], &env);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let report = String::from_utf8_lossy(&fsck.stderr);
    assert!(
        report.contains("checked 1 blobs: 0 missing, 0 wrong size, 0 corrupt"),
        "the declared upload is kept whole: {report}"
    );
}

/// Uploads with a declared SHA-256 (written in place on S3): a wrong digest is refused with
/// nothing stored, the right one is stored whole and kept.
fn declared_uploads(host: &str, token: &str, data: &std::path::Path, big: &[u8]) {
    let other: Vec<u8> = big.iter().rev().copied().collect();
    let file = data.join("declared.bin");
    std::fs::write(&file, &other).unwrap();
    let sha = wharf_core::digest::Sha256::of(&other);
    let url = format!("{host}/generic/main/app/1.1/declared.bin");
    let put = |digest: &str| {
        let header = format!("X-Checksum-Sha256: {digest}");
        curl_put_with(token, &file, &url, &[&header])
    };
    let wrong = wharf_core::digest::Sha256::of(b"something else");
    assert_eq!(
        put(wrong.hex()),
        "400",
        "a wrong declared digest is refused"
    );
    assert_eq!(
        curl(&["-o", "/dev/null", "-w", "%{http_code}", &url]).stdout,
        b"404"
    );
    assert_eq!(put(sha.hex()), "201");
    let got = curl(&[&url]);
    assert!(got.stdout == other, "the declared upload is byte-identical");
}

#[test]
fn a_repository_that_redirects_downloads_sends_clients_to_a_presigned_url() {
    let endpoint = std::env::var("WHARF_TEST_S3_ENDPOINT").unwrap();
    redirect_scenario(s3_env, &format!("307 {endpoint}/"), "X-Amz-Signature=");
}

#[test]
fn a_repository_on_swift_redirects_downloads_to_a_temp_url() {
    let auth = std::env::var("WHARF_TEST_SWIFT_AUTH_URL").unwrap();
    let host = auth.split("/auth/").next().unwrap().to_owned();
    redirect_scenario(swift_env, &format!("307 {host}/v1/"), "temp_url_sig=");
}

fn redirect_scenario(settings: Settings, location: &str, signature: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let env = settings(data);
    let server = WharfProcess::start(bin(), data, &[], &pairs(&env));
    let token = server.admin_token("ci");
    let auth = format!("Authorization: Bearer {token}");
    let host = &server.base_url;
    let created = curl(&[
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        "--data",
        r#"{"name":"direct","format":"generic","redirect_downloads":true}"#,
        &format!("{host}/api/v1/repositories"),
    ]);
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(created["redirect_downloads"], true, "{created}");
    let file = data.join("tool.bin");
    std::fs::write(&file, b"straight from the bucket").unwrap();
    let url = format!("{host}/generic/direct/tool/1.0/tool.bin");
    let put = curl_put(&token, &file, &url);
    assert_eq!(put, "201");

    let first = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        &url,
    ]);
    let first = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.starts_with(location), "{first}");
    assert!(first.contains(signature), "{first}");
    let followed = curl(&["-L", &url]);
    assert_eq!(followed.stdout, b"straight from the bucket");
    let ranged = curl(&["-L", "-H", "Range: bytes=9-12", &url]);
    assert_eq!(ranged.stdout, b"from", "the range goes along");

    // Both whole-file GETs count, though the bytes came from the bucket; the range does not
    // (counts are saved every 5 s).
    let downloads = format!("{host}/api/v1/repositories/generic/direct/packages/tool/downloads");
    let mut total = serde_json::Value::Null;
    for _ in 0..40 {
        let answer: serde_json::Value =
            serde_json::from_slice(&curl(&[&downloads]).stdout).unwrap();
        total = answer["total"].clone();
        if total == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(total, 2, "the whole-file 307s count as downloads");
    let main = format!("{host}/generic/main/tool/1.0/tool.bin");
    let put = curl_put(&token, &file, &main);
    assert_eq!(put, "201");
    let streamed = curl(&["-o", "/dev/null", "-w", "%{http_code}", &main]);
    assert_eq!(
        String::from_utf8_lossy(&streamed.stdout),
        "200",
        "off by default"
    );
}

#[test]
fn a_platform_deployment_moves_over_with_its_pr_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let var = |name: &str| std::env::var(name).unwrap();
    let pr = data.join("pr-config.json");
    std::fs::create_dir_all(data).unwrap();
    let original = serde_json::json!({
        "S3Repository": {
            "access": {"region": "us-east-1", "access_key": var("WHARF_TEST_S3_ACCESS_KEY"),
                       "secret_access_key": var("WHARF_TEST_S3_SECRET_KEY")},
            "container": {"bucket": var("WHARF_TEST_S3_BUCKET"),
                          "path": format!("releases-{}", data.file_name().unwrap().to_string_lossy())}
        },
        "config": {"log_level": "INFO", "package_callback": ""}
    });
    std::fs::write(&pr, original.to_string()).unwrap();
    // The original always talks to AWS; a private S3 endpoint comes from Wharf's own settings.
    let endpoint = var("WHARF_TEST_S3_ENDPOINT");
    seed_readme_scenario(
        data,
        &["--platform-config", pr.to_str().unwrap()],
        &[("WHARF_STORAGE__S3__ENDPOINT", endpoint.as_str())],
    );
    let stored = crate::admin::first_file(&data.join("blobs"));
    assert!(stored.is_none(), "the files went to the bucket: {stored:?}");
}

#[test]
fn a_platform_deployment_on_swift_moves_over_with_its_pr_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let var = |name: &str| std::env::var(name).unwrap();
    let pr = data.join("pr-config.json");
    std::fs::create_dir_all(data).unwrap();
    let original = serde_json::json!({
        "SwiftRepository": {
            "access": {"account": "", "user": var("WHARF_TEST_SWIFT_USER"),
                       "key": var("WHARF_TEST_SWIFT_KEY"),
                       "auth_url": var("WHARF_TEST_SWIFT_AUTH_URL"), "auth_version": "1"},
            "container": {"container": var("WHARF_TEST_SWIFT_CONTAINER"),
                          "path": format!("releases-{}", data.file_name().unwrap().to_string_lossy())}
        },
        "FsRepository": {"location": {"path": data.join("not-here").to_string_lossy()}},
        "config": {"log_level": "INFO", "package_callback": ""}
    });
    std::fs::write(&pr, original.to_string()).unwrap();
    seed_readme_scenario(data, &["--platform-config", pr.to_str().unwrap()], &[]);
    assert!(!data.join("not-here").exists(), "Swift comes before Fs");
    let stored = crate::admin::first_file(&data.join("blobs"));
    assert!(stored.is_none(), "the files went to Swift: {stored:?}");
}
