//! Uploads of a declared digest on every backend (written in place where the backend cannot
//! rename, S3 and memory; staged as any other upload elsewhere): nothing is at the content
//! address before the commit, the commit makes it whole, stored content is kept as it is, and
//! a dropped, broken or mismatched upload leaves nothing.

use super::tests::{backends, body, read_all, settle, temp_objects};
use super::*;
use crate::digest::digest_bytes;
use futures::stream;

/// Over two S3 parts, so that S3 gets a multipart upload left open until the commit.
fn big() -> &'static [u8] {
    Box::leak(
        (0..2 * S3_PART + 777)
            .map(|i| u8::try_from(i % 253).unwrap())
            .collect::<Vec<u8>>()
            .into_boxed_slice(),
    )
}

fn declared(sha: &Sha256) -> StageOptions {
    StageOptions {
        expected_sha256: Some(sha.clone()),
        ..StageOptions::default()
    }
}

#[tokio::test]
async fn a_declared_upload_appears_only_when_committed() {
    let big = big();
    let sha = digest_bytes(big).sha256;
    for (name, store) in backends().await {
        let staged = store
            .stage(body(big.chunks(64 << 10).collect()), &declared(&sha))
            .await
            .unwrap();
        assert_eq!(staged.digests, digest_bytes(big), "{name}");
        assert!(
            store.stat(&sha).await.unwrap().is_none(),
            "{name}: nothing at the address before the commit"
        );
        let in_place = store.writes_in_place();
        assert_eq!(in_place, name == "memory" || name == "s3", "{name}");
        if in_place {
            assert_eq!(
                temp_objects(&store).await,
                0,
                "{name}: no temporary object to copy"
            );
        }
        store.commit(staged).await.unwrap();
        let size = big.len() as u64;
        assert_eq!(
            store.stat(&sha).await.unwrap().unwrap().size,
            size,
            "{name}"
        );
        assert_eq!(read_all(&store, &sha, 0..size).await, big, "{name}");
        settle().await;
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![sha.clone()],
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_declared_upload_of_stored_content_keeps_the_stored_object() {
    let sha = digest_bytes(b"stored once").sha256;
    for (name, store) in backends().await {
        let first = store
            .stage(body(vec![b"stored ", b"once"]), &StageOptions::default())
            .await
            .unwrap();
        store.commit(first).await.unwrap();
        let modified = store.stat(&sha).await.unwrap().unwrap().modified;
        let again = store
            .stage(body(vec![b"stored once"]), &declared(&sha))
            .await
            .unwrap();
        store.commit(again).await.unwrap();
        settle().await;
        let stat = store.stat(&sha).await.unwrap().unwrap();
        assert_eq!(
            stat.modified, modified,
            "{name}: the stored object is not rewritten"
        );
        assert_eq!(
            read_all(&store, &sha, 0..11).await,
            b"stored once",
            "{name}"
        );
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![sha.clone()],
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_dropped_or_broken_declared_upload_leaves_nothing() {
    let big = big();
    let sha = digest_bytes(big).sha256;
    for (name, store) in backends().await {
        let staged = store
            .stage(body(big.chunks(1 << 20).collect()), &declared(&sha))
            .await
            .unwrap();
        drop(staged);
        let broken = stream::iter(vec![
            Ok(Bytes::from_static(&big[..=S3_PART])),
            Err(std::io::Error::other("connection reset")),
        ]);
        let err = store.stage(broken, &declared(&sha)).await.unwrap_err();
        assert!(matches!(err, Error::BodyRead(_)), "{name}: {err:?}");
        let err = store
            .stage(
                body(big.chunks(1 << 20).collect()),
                &declared(&digest_bytes(b"x").sha256),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::DigestMismatch { .. }),
            "{name}: {err:?}"
        );
        let err = store
            .stage(
                body(big.chunks(1 << 20).collect()),
                &StageOptions {
                    max_size: Some(S3_PART as u64),
                    ..declared(&sha)
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{name}: {err:?}");
        settle().await;
        assert!(store.stat(&sha).await.unwrap().is_none(), "{name}");
        assert!(store.list_blobs().await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn racing_declared_uploads_of_one_content_leave_one_whole_object() {
    let big = big();
    let sha = digest_bytes(big).sha256;
    for (name, store) in backends().await {
        let uploads = (0..3).map(|_| {
            let store = store.clone();
            let sha = sha.clone();
            async move {
                let staged = store
                    .stage(body(big.chunks(1 << 20).collect()), &declared(&sha))
                    .await?;
                store.commit(staged).await
            }
        });
        for result in futures::future::join_all(uploads).await {
            result.unwrap();
        }
        let size = big.len() as u64;
        assert_eq!(read_all(&store, &sha, 0..size).await, big, "{name}");
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![sha.clone()],
            "{name}"
        );
    }
}
