use wharf_test_support::{WharfProcess, run_admin};

use crate::{bin, curl, curl_put, wharf};

#[test]
fn repo_user_token_gc_and_fsck_work_on_the_database_directly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    let created = run_admin(
        bin(),
        data,
        &[
            "repo",
            "create",
            "releases",
            "--format",
            "generic",
            "--private",
        ],
        None,
    );
    assert_eq!(created.trim(), "generic/releases");
    let listed = run_admin(bin(), data, &["repo", "list"], None);
    assert!(
        listed.contains("generic/releases\thosted\toverwrite=false\tanonymous_read=false"),
        "{listed}"
    );
    let out = wharf(&["--data-dir", d, "user", "create", "bob"], &[]);
    assert!(!out.status.success(), "an empty password is refused");
    let _ = run_admin(
        bin(),
        data,
        &["user", "create", "bob", "--role", "admin"],
        Some("bobs-password\n"),
    );
    let token = run_admin(
        bin(),
        data,
        &[
            "token", "create", "--user", "bob", "--scope", "write", "--repo", "releases",
        ],
        None,
    );
    let token = token.trim();
    assert!(
        token.starts_with("wharf_") && !token.contains(char::is_whitespace),
        "only the token is printed: {token:?}"
    );

    let server = WharfProcess::start(bin(), data, &[], &[]);
    let url = format!("{}/generic/releases/tool/1.0/tool.bin", server.base_url);
    let src = data.join("tool.bin");
    std::fs::write(&src, vec![42u8; 100_000]).unwrap();
    assert_eq!(curl_put(token, &src, &url), "201");
    let anonymous = curl(&["-o", "/dev/null", "-w", "%{http_code}", &url]);
    assert_eq!(
        String::from_utf8_lossy(&anonymous.stdout),
        "401",
        "private repository"
    );
    let delete = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "DELETE",
        "-u",
        &format!("ci:{token}"),
        &url,
    ]);
    assert_eq!(String::from_utf8_lossy(&delete.stdout), "204");
    drop(server);

    let fsck = run_admin(bin(), data, &["fsck"], None);
    assert!(fsck.is_empty(), "no damage, no orphans: {fsck}");
    let gc = run_admin(bin(), data, &["gc", "--grace", "0s"], None);
    let report: serde_json::Value = serde_json::from_str(&gc).unwrap();
    assert_eq!(
        (report["deleted"].as_u64(), report["bytes_freed"].as_u64()),
        (Some(1), Some(100_000))
    );
    let deleted = run_admin(bin(), data, &["repo", "delete", "generic/releases"], None);
    assert!(deleted.is_empty());
    assert!(!run_admin(bin(), data, &["repo", "list"], None).contains("releases"));
}

#[test]
fn repo_create_offers_the_compiled_in_formats_and_follows_their_rules() {
    let about = wharf(&["--help"], &[]);
    let about = String::from_utf8_lossy(&about.stdout);
    assert!(
        about.starts_with("Wharf: one self-hosted registry for every kind of package")
            && about.contains("Formats: generic, cargo, pypi, npm, oci")
            && about.contains("Seed APIs: platform, pantry, image-uploader"),
        "{about}"
    );
    let help = wharf(&["repo", "create", "--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("[possible values: generic, cargo, pypi, npm, oci]"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let unknown = wharf(
        &["--data-dir", d, "repo", "create", "x", "--format", "nuget"],
        &[],
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("possible values"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    let group = wharf(
        &[
            "--data-dir",
            d,
            "repo",
            "create",
            "x",
            "--format",
            "oci",
            "--kind",
            "group",
        ],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&group.stderr).trim(),
        "wharf: the oci format does not implement group repositories"
    );
    let proxy = run_admin(
        bin(),
        dir.path(),
        &[
            "repo", "create", "npmjs", "--format", "npm", "--kind", "proxy",
        ],
        None,
    );
    assert_eq!(proxy.trim(), "npm/npmjs");
    let listed = run_admin(bin(), dir.path(), &["repo", "list"], None);
    assert!(
        listed.contains("npm/npmjs\tproxy\toverwrite=false\tanonymous_read=true\tupstream=https://registry.npmjs.org/"),
        "the format's default upstream: {listed}"
    );
}

#[test]
fn fsck_exits_non_zero_on_damage() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = WharfProcess::start(bin(), data, &[], &[]);
    let token = server.admin_token("admin");
    let src = data.join("f");
    std::fs::write(&src, b"precious").unwrap();
    let url = format!("{}/generic/main/p/1/f", server.base_url);
    assert_eq!(curl_put(&token, &src, &url), "201");
    drop(server);
    let blob = first_file(&data.join("blobs/sha256")).expect("a blob file");
    std::fs::write(&blob, b"tampered").unwrap();
    let out = wharf(&["--data-dir", data.to_str().unwrap(), "fsck"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("corrupt\tsha256:"));
}

#[test]
fn a_client_that_disconnects_mid_upload_leaves_nothing_behind() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = WharfProcess::start(bin(), data, &[], &[]);
    let token = server.admin_token("admin");
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut socket = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "PUT /generic/main/p/1/big.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 10000000\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).unwrap();
    socket.write_all(&vec![7u8; 3_000_000]).unwrap();
    socket.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(socket);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let get = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{}/generic/main/p/1/big.bin", server.base_url),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&get.stdout),
        "404",
        "nothing visible"
    );
    let tmp = data.join("blobs/tmp");
    let leftovers = std::fs::read_dir(&tmp).map_or(0, Iterator::count);
    assert_eq!(
        leftovers,
        0,
        "temporary upload left behind in {}",
        tmp.display()
    );
    assert!(
        first_file(&data.join("blobs/sha256")).is_none(),
        "no blob committed"
    );
}

/// The first file found under `dir`, if any.
pub(crate) fn first_file(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = first_file(&path) {
                return Some(found);
            }
        } else {
            return Some(path);
        }
    }
    None
}
