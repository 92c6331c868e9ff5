//! Parts of resumable uploads on every backend: kept after staging, joined (one part taken
//! as it is, several hashed again), checked against the digest and limit, and removed.

use super::tests::{backends, body, read_all, settle};
use super::*;
use crate::digest::digest_bytes;

async fn exists(store: &BlobStore, key: &str) -> bool {
    store.op.stat(key).await.is_ok()
}

#[tokio::test]
async fn one_part_is_committed_as_it_is() {
    for (backend, store) in backends().await {
        let part = store
            .stage_part(body(vec![b"one ", b"part"]), &StageOptions::default())
            .await
            .unwrap();
        assert_eq!(part.size, 8, "{backend}");
        assert_eq!(part.digests, digest_bytes(b"one part"), "{backend}");
        assert!(part.key.starts_with("uploads/"), "{backend}");
        settle().await;
        assert!(exists(&store, &part.key).await, "{backend}: a part is kept");
        let sha = part.digests.sha256.clone();
        let key = part.key.clone();
        let staged = store
            .join_parts(
                vec![part],
                &StageOptions {
                    max_size: None,
                    expected_sha256: Some(sha.clone()),
                    digests: crate::digest::DigestSet::ALL,
                },
            )
            .await
            .unwrap();
        store.commit(staged).await.unwrap();
        assert_eq!(read_all(&store, &sha, 0..8).await, b"one part", "{backend}");
        settle().await;
        assert!(
            !exists(&store, &key).await,
            "{backend}: the part became the blob"
        );
    }
}

#[tokio::test]
async fn several_parts_are_joined_and_hashed_again() {
    for (backend, store) in backends().await {
        let mut parts = Vec::new();
        for chunk in [b"first-".as_slice(), b"second-", b"third"] {
            let chunk: &'static [u8] = chunk;
            parts.push(
                store
                    .stage_part(body(vec![chunk]), &StageOptions::default())
                    .await
                    .unwrap(),
            );
        }
        let keys: Vec<String> = parts.iter().map(|p| p.key.clone()).collect();
        let whole = digest_bytes(b"first-second-third");
        let staged = store
            .join_parts(
                parts,
                &StageOptions {
                    max_size: Some(100),
                    expected_sha256: Some(whole.sha256.clone()),
                    digests: crate::digest::DigestSet::ALL,
                },
            )
            .await
            .unwrap();
        assert_eq!(staged.digests, whole, "{backend}");
        store.commit(staged).await.unwrap();
        assert_eq!(
            read_all(&store, &whole.sha256, 0..18).await,
            b"first-second-third",
            "{backend}"
        );
        store.delete_parts(&keys).await.unwrap();
        for key in &keys {
            assert!(!exists(&store, key).await, "{backend}: {key} removed");
        }
    }
}

#[tokio::test]
async fn a_wrong_digest_or_size_refuses_the_join() {
    for (backend, store) in backends().await {
        let wrong = digest_bytes(b"something else").sha256;
        let part = store
            .stage_part(body(vec![b"content"]), &StageOptions::default())
            .await
            .unwrap();
        let key = part.key.clone();
        let refused = store
            .join_parts(
                vec![part],
                &StageOptions {
                    max_size: None,
                    expected_sha256: Some(wrong.clone()),
                    digests: crate::digest::DigestSet::ALL,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::DigestMismatch { .. }), "{backend}");
        settle().await;
        assert!(
            !exists(&store, &key).await,
            "{backend}: a refused part goes"
        );
        let parts = vec![
            store
                .stage_part(body(vec![b"12345"]), &StageOptions::default())
                .await
                .unwrap(),
            store
                .stage_part(body(vec![b"67890"]), &StageOptions::default())
                .await
                .unwrap(),
        ];
        let refused = store
            .join_parts(
                parts,
                &StageOptions {
                    max_size: Some(8),
                    expected_sha256: None,
                    digests: crate::digest::DigestSet::ALL,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::TooLarge { limit: 8 }), "{backend}");
    }
}

#[tokio::test]
async fn old_parts_are_swept() {
    for (backend, store) in backends().await {
        let part = store
            .stage_part(body(vec![b"abandoned"]), &StageOptions::default())
            .await
            .unwrap();
        settle().await;
        assert_eq!(
            store.sweep_parts(Timestamp(0)).await.unwrap(),
            0,
            "{backend}"
        );
        assert!(exists(&store, &part.key).await, "{backend}");
        if backend == "memory" {
            // The memory backend keeps no modification times, and an object of unknown age
            // is never swept.
            continue;
        }
        let future = Timestamp::now().plus(std::time::Duration::from_mins(1));
        assert_eq!(store.sweep_parts(future).await.unwrap(), 1, "{backend}");
        assert!(!exists(&store, &part.key).await, "{backend}");
    }
}

#[tokio::test]
async fn sha256_only_staging_leaves_the_other_digests_empty() {
    for (backend, store) in backends().await {
        let big: &'static [u8] = Box::leak(vec![5u8; 300 << 10].into_boxed_slice());
        for body_parts in [vec![b"small".as_slice()], vec![big, big]] {
            let whole = digest_bytes(&body_parts.concat());
            let staged = store
                .stage(
                    body(body_parts),
                    &StageOptions {
                        digests: crate::digest::DigestSet::SHA256,
                        ..StageOptions::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(staged.digests.sha256, whole.sha256, "{backend}");
            assert_eq!(
                (
                    staged.digests.sha1.as_str(),
                    staged.digests.md5.as_str(),
                    staged.digests.sha512.as_str()
                ),
                ("", "", ""),
                "{backend}"
            );
        }
    }
}
