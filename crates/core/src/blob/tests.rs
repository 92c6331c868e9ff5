//! The storage conformance suite: the same behaviour on every backend — memory, fs, S3 when
//! `WHARF_TEST_S3_ENDPOINT` is set and Swift when `WHARF_TEST_SWIFT_AUTH_URL` is
//! (`scripts/test` starts s3s-fs and a one-node Swift and sets both; under `CI=true` a missing
//! server fails the suite rather than skipping it).

use super::*;
use crate::digest::digest_bytes;
use futures::{Stream, stream};

pub(super) fn body(
    parts: Vec<&'static [u8]>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Unpin {
    stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
}

/// A store per backend, each empty (its own directory or key prefix).
pub(super) async fn backends() -> Vec<(&'static str, BlobStore)> {
    let mut all = vec![("memory", BlobStore::memory())];
    let dir = tempdir();
    all.push((
        "fs",
        BlobStore::from_config(
            &StorageConfig {
                backend: Backend::Fs,
                root: Some(dir.clone()),
                ..StorageConfig::default()
            },
            &dir,
        )
        .await
        .unwrap(),
    ));
    if let Some(s3) = test_s3() {
        all.push(("s3", BlobStore::s3(&s3).unwrap()));
    }
    if let Some(swift) = test_swift() {
        all.push(("swift", BlobStore::swift(&swift).await.unwrap()));
    }
    all
}

/// The test Swift account's settings with a fresh prefix and the smallest segments (5 MiB, so
/// that the suite's 16 MiB body is a large object), when one is configured.
pub(super) fn test_swift() -> Option<SwiftConfig> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(auth_url) = var("WHARF_TEST_SWIFT_AUTH_URL") else {
        assert!(
            var("CI").as_deref() != Some("true"),
            "CI runs the storage suite on Swift: WHARF_TEST_SWIFT_AUTH_URL must name the Swift scripts/test starts"
        );
        return None;
    };
    Some(SwiftConfig {
        auth_url,
        user: var("WHARF_TEST_SWIFT_USER").unwrap_or_else(|| "test:tester".into()),
        key: Some(crate::Secret(
            var("WHARF_TEST_SWIFT_KEY").unwrap_or_else(|| "testing".into()),
        )),
        container: var("WHARF_TEST_SWIFT_CONTAINER").unwrap_or_else(|| "wharf-test".into()),
        prefix: Some(format!("suite-{}", uuid::Uuid::new_v4().simple())),
        temp_url_key: var("WHARF_TEST_SWIFT_TEMP_URL_KEY").map(crate::Secret),
        segment_size: Some(5 << 20),
        ..SwiftConfig::default()
    })
}

/// The test S3 server's settings with a fresh prefix, when one is configured.
fn test_s3() -> Option<S3Config> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(endpoint) = var("WHARF_TEST_S3_ENDPOINT") else {
        assert!(
            var("CI").as_deref() != Some("true"),
            "CI runs the storage suite on S3: WHARF_TEST_S3_ENDPOINT must name the S3 server scripts/test starts"
        );
        return None;
    };
    Some(S3Config {
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        bucket: var("WHARF_TEST_S3_BUCKET").unwrap_or_else(|| "wharf-test".into()),
        prefix: Some(format!("suite-{}", uuid::Uuid::new_v4().simple())),
        access_key_id: var("WHARF_TEST_S3_ACCESS_KEY"),
        secret_access_key: var("WHARF_TEST_S3_SECRET_KEY").map(crate::Secret),
        virtual_host_style: false,
    })
}

pub(super) async fn read_all(store: &BlobStore, sha: &Sha256, range: Range<u64>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .read(sha, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

pub(super) async fn temp_objects(store: &BlobStore) -> usize {
    store
        .op
        .list(TEMP_PREFIX)
        .await
        .map_or(0, |v| v.iter().filter(|e| !e.path().ends_with('/')).count())
}

pub(super) async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

#[tokio::test]
async fn stage_commit_read_round_trip_with_ranges() {
    for (name, store) in backends().await {
        let staged = store
            .stage(body(vec![b"hello ", b"world"]), &StageOptions::default())
            .await
            .unwrap();
        let expected = digest_bytes(b"hello world");
        assert_eq!(staged.digests, expected, "{name}");
        assert_eq!(staged.size, 11);
        store.commit(staged).await.unwrap();
        assert_eq!(
            read_all(&store, &expected.sha256, 0..11).await,
            b"hello world",
            "{name}"
        );
        assert_eq!(
            read_all(&store, &expected.sha256, 6..11).await,
            b"world",
            "{name}"
        );
        assert_eq!(
            store.stat(&expected.sha256).await.unwrap().unwrap().size,
            11
        );
        settle().await;
        assert_eq!(temp_objects(&store).await, 0, "{name}");
        store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn large_bodies_hash_across_batches_and_parts() {
    // Over two S3 parts, so that a multipart upload is made and completed.
    let big: &'static [u8] = Box::leak(
        (0..2 * S3_PART + 12_345)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect::<Vec<u8>>()
            .into_boxed_slice(),
    );
    let expected = digest_bytes(big);
    for (name, store) in backends().await {
        let parts: Vec<&'static [u8]> = big.chunks(64 * 1024).collect();
        let staged = store
            .stage(body(parts), &StageOptions::default())
            .await
            .unwrap();
        assert_eq!(staged.digests, expected, "{name}");
        store.commit(staged).await.unwrap();
        let size = big.len() as u64;
        assert_eq!(
            read_all(&store, &expected.sha256, 0..size).await,
            big,
            "{name}"
        );
        let tail = size - 10..size;
        assert_eq!(
            read_all(&store, &expected.sha256, tail).await,
            &big[big.len() - 10..],
            "{name}"
        );
    }
}

#[tokio::test]
async fn digest_mismatch_is_refused_and_leaves_nothing() {
    for (name, store) in backends().await {
        let wrong = digest_bytes(b"other").sha256;
        let err = store
            .stage(
                body(vec![b"content"]),
                &StageOptions {
                    expected_sha256: Some(wrong),
                    digests: crate::digest::DigestSet::ALL,
                    ..StageOptions::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::DigestMismatch { .. }),
            "{name}: {err:?}"
        );
        settle().await;
        assert_eq!(temp_objects(&store).await, 0, "{name}");
    }
}

#[tokio::test]
async fn oversized_body_is_refused_and_leaves_nothing() {
    for (name, store) in backends().await {
        let err = store
            .stage(
                body(vec![b"0123456789", b"abc"]),
                &StageOptions {
                    max_size: Some(10),
                    ..StageOptions::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: 10 }),
            "{name}: {err:?}"
        );
        settle().await;
        assert_eq!(temp_objects(&store).await, 0, "{name}");
    }
}

/// What the store logged at warning level or above while `work` ran on this thread.
async fn warnings_during<F: std::future::Future<Output = ()>>(work: F) -> String {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    work.await;
    drop(guard);
    String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned()
}

#[tokio::test]
async fn a_refused_upload_on_a_backend_without_multipart_uploads_logs_no_warning() {
    for (name, store) in backends().await {
        if !matches!(name, "fs" | "memory") {
            continue;
        }
        let logged = warnings_during(async {
            let refused = store
                .stage(
                    body(vec![b"0123456789", b"abc"]),
                    &StageOptions {
                        max_size: Some(10),
                        ..StageOptions::default()
                    },
                )
                .await;
            assert!(refused.is_err());
        })
        .await;
        assert!(logged.is_empty(), "{name}: {logged}");
    }
}

#[tokio::test]
async fn an_interrupted_write_leaves_nothing() {
    let part: &'static [u8] = Box::leak(vec![1u8; S3_PART + 1].into_boxed_slice());
    for (name, store) in backends().await {
        // The first part is already uploaded when the body breaks.
        let parts = stream::iter(vec![
            Ok(Bytes::from_static(part)),
            Ok(Bytes::from_static(b"partial")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let err = store
            .stage(parts, &StageOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BodyRead(_)), "{name}: {err:?}");
        settle().await;
        assert_eq!(temp_objects(&store).await, 0, "{name}");
        assert!(store.list_blobs().await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn identical_content_is_stored_once_listed_and_deleted() {
    for (name, store) in backends().await {
        for _ in 0..2 {
            let staged = store
                .stage(body(vec![b"same"]), &StageOptions::default())
                .await
                .unwrap();
            store.commit(staged).await.unwrap();
        }
        settle().await;
        let sha = digest_bytes(b"same").sha256;
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![sha.clone()],
            "{name}"
        );
        assert_eq!(temp_objects(&store).await, 0, "{name}");
        store.delete(&sha).await.unwrap();
        assert!(store.stat(&sha).await.unwrap().is_none(), "{name}");
        store.delete(&sha).await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_writes_of_the_same_blob_leave_one_readable_object() {
    for (name, store) in backends().await {
        let writes = (0..8).map(|_| {
            let store = store.clone();
            async move {
                let staged = store
                    .stage(body(vec![b"raced ", b"content"]), &StageOptions::default())
                    .await?;
                store.commit(staged).await
            }
        });
        for result in futures::future::join_all(writes).await {
            result.unwrap();
        }
        settle().await;
        let sha = digest_bytes(b"raced content").sha256;
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![sha.clone()],
            "{name}"
        );
        assert_eq!(
            read_all(&store, &sha, 0..13).await,
            b"raced content",
            "{name}"
        );
        assert_eq!(temp_objects(&store).await, 0, "{name}");
    }
}

#[tokio::test]
async fn a_dropped_staged_blob_and_old_temporaries_are_removed() {
    for (name, store) in backends().await {
        let staged = store
            .stage(body(vec![b"never committed"]), &StageOptions::default())
            .await
            .unwrap();
        drop(staged);
        settle().await;
        assert_eq!(temp_objects(&store).await, 0, "{name}");
        let kept = store
            .stage(body(vec![b"in flight"]), &StageOptions::default())
            .await
            .unwrap();
        let past = Timestamp::now().minus(std::time::Duration::from_hours(1));
        assert_eq!(
            store.sweep_temp(past).await.unwrap(),
            0,
            "{name}: young uploads stay"
        );
        drop(kept);
    }
}

#[tokio::test]
async fn missing_blob_reads_as_not_found() {
    for (name, store) in backends().await {
        let sha = digest_bytes(b"never stored").sha256;
        assert!(
            matches!(store.read(&sha, 0..1).await, Err(Error::NotFound(_))),
            "{name}"
        );
        assert!(store.stat(&sha).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn presigned_urls_serve_the_blob_where_the_backend_signs_them() {
    for (name, store) in backends().await {
        let staged = store
            .stage(body(vec![b"signed ", b"content"]), &StageOptions::default())
            .await
            .unwrap();
        let sha = staged.digests.sha256.clone();
        store.commit(staged).await.unwrap();
        let url = store.presigned_url(&sha).await.unwrap();
        if name != "s3" && name != "swift" {
            assert!(url.is_none(), "{name} cannot sign URLs");
            continue;
        }
        let url = url.expect("S3 and Swift (TempURL) sign download URLs");
        let got = reqwest::get(&url).await.unwrap();
        assert_eq!(got.status(), 200, "{url}");
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"signed content");
        let tampered = url
            .replace("X-Amz-Signature=", "X-Amz-Signature=0")
            .replace("temp_url_sig=", "temp_url_sig=0");
        assert_ne!(reqwest::get(&tampered).await.unwrap().status(), 200);
    }
}

#[test]
fn an_s3_store_needs_a_bucket_and_hides_its_secret() {
    let err = BlobStore::s3(&S3Config::default()).unwrap_err();
    assert!(err.to_string().contains("storage.s3.bucket"), "{err}");
    let config = S3Config {
        bucket: "b".into(),
        secret_access_key: Some(crate::Secret("hunter2".into())),
        ..S3Config::default()
    };
    assert!(!format!("{config:?}").contains("hunter2"));
    let json = serde_json::to_string(&config).unwrap();
    assert!(
        json.contains("\"secret_access_key\":\"***\"") && !json.contains("hunter2"),
        "{json}"
    );
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-blob-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
