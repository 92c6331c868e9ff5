//! Several `wharf serve` processes on one PostgreSQL database and one S3 bucket or Swift
//! container, as behind a load balancer: they start together on an empty database (migrations
//! run once, under sqlx's advisory lock), what one stores the other serves, one large content
//! uploaded through both at once is stored once and whole, concurrent publishes of one version
//! have exactly one winner, and an instance killed in the middle of uploads loses nothing that
//! was acknowledged.

use std::process::{Command, Stdio};

use wharf_test_support::{TestDb, WharfProcess};

use crate::bin;
use crate::curl;
use crate::object_storage::{Settings, pairs, s3_env, swift_env};

/// A PUT of `body` with curl, optionally slowed down: the HTTP status curl saw (`000` when
/// the connection broke).
fn put(url: &str, auth: &str, body: &std::path::Path, rate: Option<&str>) -> Command {
    let mut command = Command::new("curl");
    command
        .args([
            "--silent",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            auth,
        ])
        .args(["--upload-file", body.to_str().unwrap(), url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(rate) = rate {
        command.args(["--limit-rate", rate]);
    }
    command
}

#[test]
fn two_instances_share_one_database_and_one_bucket() {
    two_instances(s3_env);
}

#[test]
fn two_instances_share_one_database_and_one_swift_container() {
    two_instances(swift_env);
}

fn two_instances(settings: Settings) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(TestDb::postgres_unmigrated());
    let dir = tempfile::tempdir().unwrap();
    let mut env = settings(&dir.path().join("shared"));
    env.push(("WHARF_DATABASE__URL".into(), database.url()));
    let env = pairs(&env);
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| WharfProcess::start(bin(), &dir.path().join("a"), &[], &env));
        let b = s.spawn(|| WharfProcess::start(bin(), &dir.path().join("b"), &[], &env));
        (a.join().unwrap(), b.join().unwrap())
    });
    let token = first.admin_token("ci");
    let auth = format!("Authorization: Bearer {token}");
    let (one, two) = (first.base_url.clone(), second.base_url.clone());

    // Stored through one, served byte for byte by the other.
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    let file = dir.path().join("app.bin");
    std::fs::write(&file, &content).unwrap();
    let path = "/generic/main/app/1.0/app.bin";
    let status = put(&format!("{one}{path}"), &auth, &file, None)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "201");
    assert!(
        curl(&[&format!("{two}{path}")]).stdout == content,
        "served by the other instance"
    );

    one_content_through_both(dir.path(), &one, &two, &auth);
    one_version_raced_through_both(dir.path(), &one, &two, &auth);

    // Kill one instance in the middle of 20 uploads: 5 quick ones, answered before the kill,
    // and 15 slowed down to 200 KB/s, still sending when it dies.
    let mut first = first;
    let upload = |i: u32, rate: Option<&str>| {
        let body = dir.path().join(format!("upload-{i}.bin"));
        let bytes: Vec<u8> = (0..400_000u32).map(|j| ((i * 7 + j) % 251) as u8).collect();
        std::fs::write(&body, bytes).unwrap();
        let url = format!("{one}/generic/main/upload/{i}/upload.bin");
        let child = put(&url, &auth, &body, rate).spawn().unwrap();
        (i, body, child)
    };
    let slow: Vec<_> = (5..20).map(|i| upload(i, Some("200K"))).collect();
    let quick: Vec<_> = (0..5).map(|i| upload(i, None)).collect();
    let mut answered = Vec::new();
    for (i, body, child) in quick {
        answered.push((i, body, child.wait_with_output().unwrap()));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    first.kill();
    for (i, body, child) in slow {
        answered.push((i, body, child.wait_with_output().unwrap()));
    }
    let mut acknowledged = 0;
    for (i, body, output) in answered {
        if output.stdout == b"201" {
            acknowledged += 1;
            let got = curl(&[&format!("{two}/generic/main/upload/{i}/upload.bin")]);
            assert!(
                got.stdout == std::fs::read(&body).unwrap(),
                "upload {i} was acknowledged, so it is whole"
            );
        }
    }
    assert!(
        acknowledged >= 5,
        "the quick uploads were answered ({acknowledged})"
    );
    assert!(acknowledged < 20, "some uploads were cut short by the kill");
    let fsck = second.admin(&["fsck"], None);
    assert!(
        !fsck.contains("missing") && !fsck.contains("corrupt") && !fsck.contains("wrong-size"),
        "{fsck}"
    );
    drop(second);
    runtime.block_on(database.finish());
}

/// One 12 MiB content (S3 parts, Swift segments) uploaded as four files through both
/// instances at once, two of them with the digest declared (written in place on S3): all
/// commit the same blob; it is stored once and whole.
fn one_content_through_both(dir: &std::path::Path, one: &str, two: &str, auth: &str) {
    let large: Vec<u8> = (0..12u32 << 20).map(|i| (i % 239) as u8).collect();
    let large_file = dir.join("large.bin");
    std::fs::write(&large_file, &large).unwrap();
    let declared = format!("?sha256={}", wharf_core::digest::Sha256::of(&large));
    let uploads = [
        (one, "a", ""),
        (two, "b", ""),
        (one, "c", &*declared),
        (two, "d", &*declared),
    ];
    let twins: Vec<_> = uploads
        .iter()
        .map(|(host, name, query)| {
            let url = format!("{host}/generic/main/twins/1.0/{name}.bin{query}");
            put(&url, auth, &large_file, None).spawn().unwrap()
        })
        .collect();
    for twin in twins {
        let status = twin.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&status.stdout), "201");
    }
    for (_, name, _) in uploads {
        let got = curl(&[&format!("{one}/generic/main/twins/1.0/{name}.bin")]);
        assert!(got.stdout == large, "{name} is whole");
    }
}

/// 50 publishes of one version, split across both: one wins, the others are told so.
fn one_version_raced_through_both(dir: &std::path::Path, one: &str, two: &str, auth: &str) {
    let racers: Vec<_> = (0..50)
        .map(|i| {
            let body = dir.join(format!("race-{i}.bin"));
            std::fs::write(&body, format!("racer {i}")).unwrap();
            let host = if i % 2 == 0 { one } else { two };
            put(
                &format!("{host}/generic/main/race/1.0/race.bin"),
                auth,
                &body,
                None,
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let statuses: Vec<String> = racers
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).into_owned())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "201").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| *s == "409").count(),
        49,
        "{statuses:?}"
    );
}
