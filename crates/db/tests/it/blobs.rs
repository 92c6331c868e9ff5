use std::time::Duration;

use wharf_core::blob::BlobStore;
use wharf_core::digest::digest_bytes;
use wharf_core::store::{BlobIndex, PackageStore, RepositoryStore};
use wharf_core::time::Timestamp;
use wharf_core::usecases::{PublishMode, collect_garbage, expire_versions, fsck};

use crate::packages::publish;
use crate::{hosted, on_every_engine};

const HOUR: Duration = Duration::from_hours(1);

#[tokio::test]
async fn a_full_claim_fills_the_digests_a_sha256_only_one_left_out() {
    on_every_engine!(|db| {
        let full = digest_bytes(b"layer");
        let mut partial = full.clone();
        partial.sha1.clear();
        partial.md5.clear();
        partial.sha512.clear();
        let now = Timestamp::now();
        db.claim_blob(&partial, 5, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        let stored = db.blob(&full.sha256).await.unwrap().unwrap();
        assert_eq!((stored.sha1.as_str(), stored.sha512.as_str()), ("", ""));
        db.claim_blob(&full, 5, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        let stored = db.blob(&full.sha256).await.unwrap().unwrap();
        assert_eq!(
            (stored.sha1, stored.md5, stored.sha512),
            (full.sha1.clone(), full.md5.clone(), full.sha512.clone())
        );
        // A later SHA-256-only claim does not erase them.
        db.claim_blob(&partial, 5, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        let stored = db.blob(&full.sha256).await.unwrap().unwrap();
        assert_eq!(stored.sha512, full.sha512);
    });
}

#[tokio::test]
async fn a_claim_pins_a_blob_and_a_condemned_blob_refuses_claims() {
    on_every_engine!(|db| {
        let d = digest_bytes(b"x");
        let now = Timestamp::now();
        let claim = db
            .claim_blob(&d, 1, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        let again = db
            .claim_blob(&d, 1, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claim.blob_id, again.blob_id);
        let later = now.plus(Duration::from_secs(1));
        assert!(
            db.gc_candidates(later, later, 0, 10)
                .await
                .unwrap()
                .is_empty(),
            "pinned blob listed"
        );
        db.release_pin(claim.pin_id).await.unwrap();
        db.release_pin(again.pin_id).await.unwrap();
        let candidates = db.gc_candidates(later, later, 0, 10).await.unwrap();
        assert_eq!(candidates.len(), 1);
        let c = &candidates[0];
        assert!(
            !db.condemn_blob(c.blob.id, c.claim_seq + 1, later)
                .await
                .unwrap(),
            "stale claim_seq condemned"
        );
        assert!(
            db.condemn_blob(c.blob.id, c.claim_seq, later)
                .await
                .unwrap()
        );
        assert!(
            db.claim_blob(&d, 1, later, later.plus(HOUR))
                .await
                .unwrap()
                .is_none()
        );
        assert!(db.blob(&d.sha256).await.unwrap().is_none());
        db.forget_blob(c.blob.id).await.unwrap();
        assert!(
            db.claim_blob(&d, 1, later, later.plus(HOUR))
                .await
                .unwrap()
                .is_some()
        );
    });
}

#[tokio::test]
async fn a_claim_between_listing_and_condemning_saves_the_blob() {
    on_every_engine!(|db| {
        let d = digest_bytes(b"y");
        let t0 = Timestamp::now();
        let claim = db
            .claim_blob(&d, 1, t0, t0.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        db.release_pin(claim.pin_id).await.unwrap();
        let t1 = t0.plus(Duration::from_secs(1));
        let listed = db.gc_candidates(t1, t1, 0, 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        let new_claim = db
            .claim_blob(&d, 1, t1, t1.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        db.release_pin(new_claim.pin_id).await.unwrap();
        assert!(
            !db.condemn_blob(listed[0].blob.id, listed[0].claim_seq, t1)
                .await
                .unwrap()
        );
    });
}

#[tokio::test]
async fn gc_removes_only_unreferenced_blobs_and_fsck_agrees() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let kept = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "kept"),
            PublishMode::CreateOrAdd,
            b"kept",
        )
        .await
        .unwrap();
        let gone = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "gone"),
            PublishMode::CreateOrAdd,
            b"gone",
        )
        .await
        .unwrap();
        assert_eq!(db.blob_totals().await.unwrap(), (2, 8));
        assert!(db.delete_file(gone.file_id).await.unwrap());
        let report = collect_garbage(db, &blobs, HOUR, "t")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.deleted, 0, "grace period ignored");
        let report = collect_garbage(db, &blobs, Duration::ZERO, "t")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((report.deleted, report.bytes_freed), (1, 4));
        assert!(blobs.stat(&gone.digests.sha256).await.unwrap().is_none());
        assert!(blobs.stat(&kept.digests.sha256).await.unwrap().is_some());
        let check = fsck(db, &blobs).await.unwrap();
        assert_eq!(check.checked, 1);
        assert!(!check.damaged() && check.orphans.is_empty(), "{check:?}");
        blobs.delete(&kept.digests.sha256).await.unwrap();
        let check = fsck(db, &blobs).await.unwrap();
        assert!(check.damaged());
        assert_eq!(check.missing, vec![kept.digests.sha256.clone()]);

        // A publish whose process died between claiming its blob and storing it leaves a
        // record no file references and no object: unfinished, not damage.
        let digests = digest_bytes(b"never stored");
        let now = Timestamp::now();
        db.claim_blob(&digests, 12, now, now.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        let check = fsck(db, &blobs).await.unwrap();
        assert_eq!(check.unfinished, vec![digests.sha256.clone()], "{check:?}");
        assert_eq!(check.missing, vec![kept.digests.sha256.clone()]);
    });
}

#[tokio::test]
async fn retention_removes_old_versions_only_where_set_and_gc_frees_their_blobs() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let kept_repo = hosted(db, "releases").await;
        let mut repo = hosted(db, "commits").await;
        repo.policy.retention_days = Some(1);
        assert!(db.update_policy(repo.id, &repo.policy).await.unwrap());
        let old = publish(
            db,
            &blobs,
            &repo,
            ("app", "abc", "app.tgz"),
            PublishMode::CreateOrAdd,
            b"old",
        )
        .await
        .unwrap();
        publish(
            db,
            &blobs,
            &kept_repo,
            ("app", "1.0", "app.tgz"),
            PublishMode::CreateOrAdd,
            b"kept",
        )
        .await
        .unwrap();
        let now = Timestamp::now();
        assert_eq!(
            expire_versions(db, now).await.unwrap(),
            0,
            "a day has not passed"
        );
        let later = now.plus(Duration::from_hours(25));
        assert_eq!(expire_versions(db, later).await.unwrap(), 1);
        assert!(
            db.package(repo.id, "app").await.unwrap().is_none(),
            "the emptied package went too"
        );
        assert!(db.package(kept_repo.id, "app").await.unwrap().is_some());
        let report = collect_garbage(db, &blobs, Duration::ZERO, "t")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.deleted, 1);
        assert!(blobs.stat(&old.digests.sha256).await.unwrap().is_none());
    });
}

#[tokio::test]
async fn gc_racing_publishes_of_the_same_content_never_loses_a_blob() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        for round in 0..15 {
            let version = format!("{round}");
            let published = {
                let (db, blobs, repo) = (db.clone(), blobs.clone(), repo.clone());
                tokio::spawn(async move {
                    publish(
                        &db,
                        &blobs,
                        &repo,
                        ("race", &version, "f"),
                        PublishMode::CreateOrAdd,
                        b"shared",
                    )
                    .await
                })
            };
            let collected = {
                let (db, blobs) = (db.clone(), blobs.clone());
                tokio::spawn(
                    async move { collect_garbage(&db, &blobs, Duration::ZERO, "gc").await },
                )
            };
            let published = published.await.unwrap().unwrap();
            collected.await.unwrap().unwrap();
            assert!(
                blobs
                    .stat(&published.digests.sha256)
                    .await
                    .unwrap()
                    .is_some(),
                "round {round}: a published blob was collected"
            );
            let file = db.list_files(published.version_id).await.unwrap();
            db.delete_file(file[0].id).await.unwrap();
        }
        let check = fsck(db, &blobs).await.unwrap();
        assert!(!check.damaged(), "{check:?}");
    });
}
