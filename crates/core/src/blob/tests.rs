//! Blob store behaviour on the memory and fs backends.

use super::*;
use crate::digest::digest_bytes;
use futures::stream;

fn body(parts: Vec<&'static [u8]>) -> impl Stream<Item = std::io::Result<Bytes>> + Unpin {
    stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
}

async fn read_all(store: &BlobStore, sha: &Sha256, range: Range<u64>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .read(sha, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

async fn temp_objects(store: &BlobStore) -> usize {
    store
        .op
        .list(TEMP_PREFIX)
        .await
        .map_or(0, |v| v.iter().filter(|e| !e.path().ends_with('/')).count())
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

#[tokio::test]
async fn stage_commit_read_round_trip_with_ranges() {
    let store = BlobStore::memory();
    let staged = store
        .stage(body(vec![b"hello ", b"world"]), &StageOptions::default())
        .await
        .unwrap();
    let expected = digest_bytes(b"hello world");
    assert_eq!(staged.digests, expected);
    assert_eq!(staged.size, 11);
    store.commit(staged).await.unwrap();
    assert_eq!(
        read_all(&store, &expected.sha256, 0..11).await,
        b"hello world"
    );
    assert_eq!(read_all(&store, &expected.sha256, 6..11).await, b"world");
    assert_eq!(
        store.stat(&expected.sha256).await.unwrap().unwrap().size,
        11
    );
    assert_eq!(temp_objects(&store).await, 0);
}

#[tokio::test]
async fn large_bodies_hash_across_batches() {
    let store = BlobStore::memory();
    let big: &'static [u8] = Box::leak(vec![7u8; 3 * BATCH_FOR_TESTS + 123].into_boxed_slice());
    let parts: Vec<&'static [u8]> = big.chunks(64 * 1024).collect();
    let staged = store
        .stage(body(parts), &StageOptions::default())
        .await
        .unwrap();
    assert_eq!(staged.digests, digest_bytes(big));
}

const BATCH_FOR_TESTS: usize = 1 << 20;

#[tokio::test]
async fn digest_mismatch_is_refused_and_leaves_nothing() {
    let store = BlobStore::memory();
    let wrong = digest_bytes(b"other").sha256;
    let err = store
        .stage(
            body(vec![b"content"]),
            &StageOptions {
                expected_sha256: Some(wrong),
                ..StageOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    settle().await;
    assert_eq!(temp_objects(&store).await, 0);
}

#[tokio::test]
async fn oversized_body_is_refused_and_leaves_nothing() {
    let store = BlobStore::memory();
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
    assert!(matches!(err, Error::TooLarge { limit: 10 }), "{err:?}");
    settle().await;
    assert_eq!(temp_objects(&store).await, 0);
}

#[tokio::test]
async fn broken_body_is_a_body_error_and_leaves_nothing() {
    let store = BlobStore::memory();
    let parts = stream::iter(vec![
        Ok(Bytes::from_static(b"partial")),
        Err(std::io::Error::other("connection reset")),
    ]);
    let err = store
        .stage(parts, &StageOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyRead(_)), "{err:?}");
    settle().await;
    assert_eq!(temp_objects(&store).await, 0);
}

#[tokio::test]
async fn identical_content_is_stored_once_on_fs() {
    let dir = tempdir();
    let store = BlobStore::from_config(
        &StorageConfig {
            backend: Backend::Fs,
            root: Some(dir.clone()),
        },
        &dir,
    )
    .unwrap();
    for _ in 0..2 {
        let staged = store
            .stage(body(vec![b"same"]), &StageOptions::default())
            .await
            .unwrap();
        store.commit(staged).await.unwrap();
    }
    settle().await;
    assert_eq!(
        store.list_blobs().await.unwrap(),
        vec![digest_bytes(b"same").sha256]
    );
    assert_eq!(temp_objects(&store).await, 0);
    let sha = digest_bytes(b"same").sha256;
    assert!(dir.join(blob_key(&sha)).is_file());
    store.delete(&sha).await.unwrap();
    assert!(store.stat(&sha).await.unwrap().is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn missing_blob_reads_as_not_found() {
    let store = BlobStore::memory();
    let sha = digest_bytes(b"never stored").sha256;
    assert!(matches!(
        store.read(&sha, 0..1).await,
        Err(Error::NotFound(_))
    ));
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-blob-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
