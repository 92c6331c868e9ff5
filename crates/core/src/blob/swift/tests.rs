//! Swift's own behaviour, against the one-node Swift `scripts/test` starts: large objects
//! committed and deleted with their segments, one content uploaded twice at once, the retry
//! after a 401, and a Keystone v3 login (through a stand-in identity service that hands out
//! the real Swift's tokens).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::super::tests::{body, read_all, settle, test_swift};
use super::super::{BlobStore, StageOptions};
use super::SwiftConfig;
use crate::digest::digest_bytes;

/// The test account, or `None` outside CI without a Swift (the conformance suite asserts
/// that CI has one).
fn account() -> Option<SwiftConfig> {
    test_swift()
}

/// Segment objects left under the store's prefix.
async fn segments(config: &SwiftConfig) -> usize {
    let whole = BlobStore::swift(&SwiftConfig {
        prefix: None,
        ..config.clone()
    })
    .await
    .unwrap();
    let prefix = format!(".segments/{}/", config.prefix.as_deref().unwrap());
    match whole.op.list_with(&prefix).recursive(true).await {
        Ok(entries) => entries.iter().filter(|e| !e.path().ends_with('/')).count(),
        Err(e) if e.kind() == opendal::ErrorKind::NotFound => 0,
        Err(e) => panic!("listing segments: {e}"),
    }
}

fn big(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).unwrap() ^ seed)
        .collect()
}

fn stream_of(data: &[u8]) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(300_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn a_large_object_keeps_its_segments_until_it_is_deleted() {
    let Some(config) = account() else { return };
    let store = BlobStore::swift(&config).await.unwrap();
    let data = big((10 << 20) + 4321, 7);
    let staged = store
        .stage(stream_of(&data), &StageOptions::default())
        .await
        .unwrap();
    let sha = staged.digests.sha256.clone();
    store.commit(staged).await.unwrap();
    let swift = store.objects.swift().unwrap();
    assert_eq!(
        swift.is_large(&super::super::blob_key(&sha)).await.unwrap(),
        Some(true),
        "over a segment: a static large object"
    );
    assert_eq!(segments(&config).await, 3, "5 + 5 + 1 MiB");
    assert_eq!(read_all(&store, &sha, 0..data.len() as u64).await, data);
    let across = (5usize << 20) - 5..(10 << 20) + 5;
    assert_eq!(
        read_all(&store, &sha, across.start as u64..across.end as u64).await,
        &data[across]
    );
    store.delete(&sha).await.unwrap();
    assert!(store.stat(&sha).await.unwrap().is_none());
    assert_eq!(segments(&config).await, 0, "the segments went with it");
}

#[tokio::test]
async fn one_large_content_uploaded_twice_at_once_leaves_no_orphan_segments() {
    let Some(config) = account() else { return };
    let store = BlobStore::swift(&config).await.unwrap();
    let data = big((5 << 20) + 99, 3);
    let options = StageOptions::default();
    let (a, b) = tokio::join!(
        store.stage(stream_of(&data), &options),
        store.stage(stream_of(&data), &options),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let sha = a.digests.sha256.clone();
    // Both passed the "already there?" look before either committed.
    let (ca, cb) = tokio::join!(store.commit(a), store.commit(b));
    ca.unwrap();
    cb.unwrap();
    settle().await;
    assert_eq!(segments(&config).await, 2, "one object's segments");
    assert_eq!(read_all(&store, &sha, 0..data.len() as u64).await, data);
    store.delete(&sha).await.unwrap();
    assert_eq!(segments(&config).await, 0);
}

#[tokio::test]
async fn a_refused_token_is_replaced_and_the_request_sent_again() {
    let Some(config) = account() else { return };
    let store = BlobStore::swift(&config).await.unwrap();
    let staged = store
        .stage(body(vec![b"still ", b"here"]), &StageOptions::default())
        .await
        .unwrap();
    let sha = staged.digests.sha256.clone();
    store.commit(staged).await.unwrap();
    let swift = store.objects.swift().unwrap();
    swift.session.spoil_token().await;
    assert_eq!(read_all(&store, &sha, 0..10).await, b"still here");
    swift.session.spoil_token().await;
    store.delete(&sha).await.unwrap();
    assert!(store.stat(&sha).await.unwrap().is_none());
}

#[tokio::test]
async fn a_keystone_v3_login_finds_the_object_store_in_the_catalog() {
    let Some(swift) = account() else { return };
    let keystone = StandIn::start(swift.clone(), time::Duration::hours(1)).await;
    let config = SwiftConfig {
        auth_url: format!("{}/v3", keystone.url),
        auth_version: None,
        user: "demo".into(),
        key: Some(crate::Secret("demo-password".into())),
        project: Some("demo-project".into()),
        region: Some("RegionTwo".into()),
        ..swift.clone()
    };
    let store = BlobStore::swift(&config).await.unwrap();
    let staged = store
        .stage(
            body(vec![b"through ", b"keystone"]),
            &StageOptions::default(),
        )
        .await
        .unwrap();
    let sha = staged.digests.sha256.clone();
    store.commit(staged).await.unwrap();
    assert_eq!(read_all(&store, &sha, 0..16).await, b"through keystone");
    assert_eq!(sha, digest_bytes(b"through keystone").sha256);
    assert_eq!(keystone.logins(), 1, "a token valid for an hour is kept");
    let wrong = SwiftConfig {
        key: Some(crate::Secret("not-the-password".into())),
        ..config
    };
    let err = format!("{:?}", BlobStore::swift(&wrong).await.unwrap_err());
    assert!(err.contains("401"), "{err}");
    assert_eq!(
        keystone.refused(),
        1,
        "wrong credentials are sent once, not retried"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_it_is_used() {
    let Some(swift) = account() else { return };
    let keystone = StandIn::start(swift.clone(), time::Duration::minutes(2)).await;
    let config = SwiftConfig {
        auth_url: format!("{}/v3", keystone.url),
        user: "demo".into(),
        key: Some(crate::Secret("demo-password".into())),
        project: Some("demo-project".into()),
        region: Some("RegionTwo".into()),
        ..swift
    };
    let store = BlobStore::swift(&config).await.unwrap();
    assert_eq!(keystone.logins(), 1);
    let staged = store
        .stage(body(vec![b"renewed"]), &StageOptions::default())
        .await
        .unwrap();
    let sha = staged.digests.sha256.clone();
    store.commit(staged).await.unwrap();
    let before = keystone.logins();
    assert_eq!(read_all(&store, &sha, 0..7).await, b"renewed");
    assert!(
        keystone.logins() > before,
        "a token with two minutes left is renewed before the next request"
    );
}

/// A stand-in Keystone: `POST /v3/auth/tokens` with the expected password login answers a
/// real TempAuth token of the test Swift, valid (it says) for `lifetime`, and a catalog whose
/// `object-store` has a decoy internal endpoint, a decoy public one in another region, and
/// the real one. It counts the logins it accepted and those it refused.
struct StandIn {
    url: String,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicUsize,
    refused: AtomicUsize,
}

impl StandIn {
    async fn start(swift: SwiftConfig, lifetime: time::Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let counted = counts.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let swift = swift.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    let request = read_request(&mut socket).await;
                    let answer = answer(&request, &swift, lifetime, &counted).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, counts }
    }

    fn logins(&self) -> usize {
        self.counts.accepted.load(Ordering::SeqCst)
    }

    fn refused(&self) -> usize {
        self.counts.refused.load(Ordering::SeqCst)
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if rest.len() >= length || n == 0 {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

async fn answer(
    request: &str,
    swift: &SwiftConfig,
    lifetime: time::Duration,
    counts: &Counts,
) -> String {
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
    let login: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let password = &login["auth"]["identity"]["password"]["user"];
    let scope = &login["auth"]["scope"]["project"];
    let expected = head.starts_with("POST /v3/auth/tokens ")
        && password["name"] == "demo"
        && password["domain"]["name"] == "Default"
        && password["password"] == "demo-password"
        && scope["name"] == "demo-project"
        && scope["domain"]["name"] == "Default";
    if !expected {
        counts.refused.fetch_add(1, Ordering::SeqCst);
        return "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .into();
    }
    let real = reqwest::Client::new()
        .get(&swift.auth_url)
        .header("X-Auth-User", &swift.user)
        .header("X-Auth-Key", &swift.key.as_ref().unwrap().0)
        .send()
        .await
        .unwrap();
    let header = |name: &str| real.headers()[name].to_str().unwrap().to_owned();
    let (token, storage_url) = (header("x-auth-token"), header("x-storage-url"));
    counts.accepted.fetch_add(1, Ordering::SeqCst);
    let expires = time::OffsetDateTime::now_utc() + lifetime;
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let catalog = serde_json::json!({"token": {"expires_at": expires, "catalog": [
        {"type": "identity", "endpoints": [
            {"interface": "public", "region": "RegionTwo", "url": "http://127.0.0.1:1/v3"}]},
        {"type": "object-store", "endpoints": [
            {"interface": "internal", "region": "RegionTwo", "url": "http://127.0.0.1:1/v1/x"},
            {"interface": "public", "region": "RegionOne", "url": "http://127.0.0.1:1/v1/y"},
            {"interface": "public", "region": "RegionTwo", "url": storage_url}]}
    ]}})
    .to_string();
    format!(
        "HTTP/1.1 201 Created\r\nx-subject-token: {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{catalog}",
        catalog.len()
    )
}

#[test]
fn the_auth_version_is_read_or_guessed_from_the_url() {
    use super::AuthVersion::{V1, V3};
    let with = |url: &str, version: Option<&str>| SwiftConfig {
        auth_url: url.into(),
        auth_version: version.map(str::to_owned),
        ..SwiftConfig::default()
    };
    assert_eq!(with("http://h/auth/v1.0", None).version().unwrap(), V1);
    assert_eq!(with("https://h:5000/v3/", None).version().unwrap(), V3);
    assert_eq!(with("https://h:5000/", Some("3")).version().unwrap(), V3);
    assert_eq!(with("https://h/v3", Some("1")).version().unwrap(), V1);
    let numeric: SwiftConfig =
        serde_json::from_str(r#"{"auth_url": "https://h:5000", "auth_version": 3}"#).unwrap();
    assert_eq!(numeric.version().unwrap(), V3);
    let err = with("https://h", Some("2")).version().unwrap_err();
    assert!(err.to_string().contains("auth_version"), "{err}");
    let hidden = SwiftConfig {
        key: Some(crate::Secret("hunter2".into())),
        temp_url_key: Some(crate::Secret("hunter3".into())),
        ..SwiftConfig::default()
    };
    let shown = format!("{hidden:?} {}", serde_json::to_string(&hidden).unwrap());
    assert!(!shown.contains("hunter"), "{shown}");
}
