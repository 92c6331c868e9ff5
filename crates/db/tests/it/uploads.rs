//! Upload sessions: created empty, appended only at the offset the appender saw (a racing
//! append loses and changes nothing), removed, and expired (by start time) with their parts'
//! keys listed.

use wharf_core::digest::{Digests, Sha256};
use wharf_core::store::RepositoryStore;
use wharf_core::time::Timestamp;
use wharf_core::uploads::{UploadPart, UploadSession, UploadStore};

use crate::{hosted, on_every_engine};

fn part(key: &str, size: u64) -> UploadPart {
    UploadPart {
        key: key.into(),
        size,
        digests: Digests {
            sha256: Sha256::of(key.as_bytes()),
            sha1: "s1".into(),
            md5: "m5".into(),
            sha512: "s5".into(),
        },
    }
}

fn new_session(id: &str, repository_id: i64, at: i64) -> UploadSession {
    UploadSession {
        id: id.into(),
        repository_id,
        name: "team/app".into(),
        size: 0,
        parts: vec![],
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

#[tokio::test]
async fn parts_append_at_the_offset_seen_only() {
    on_every_engine!(|db| {
        let repo = hosted(db, "images").await;
        db.create_upload(&new_session("u1", repo.id, 1_000))
            .await
            .unwrap();
        assert!(
            db.append_upload_part("u1", 0, &part("uploads/a", 5), Timestamp(2_000))
                .await
                .unwrap()
        );
        // A second appender that also saw offset 0 loses.
        assert!(
            !db.append_upload_part("u1", 0, &part("uploads/b", 7), Timestamp(2_001))
                .await
                .unwrap()
        );
        assert!(
            db.append_upload_part("u1", 5, &part("uploads/c", 3), Timestamp(3_000))
                .await
                .unwrap()
        );
        let got = db.upload("u1").await.unwrap().unwrap();
        assert_eq!(got.size, 8);
        assert_eq!(got.parts, vec![part("uploads/a", 5), part("uploads/c", 3)]);
        assert_eq!(got.name, "team/app");
        assert_eq!(got.repository_id, repo.id);
        assert_eq!(got.created_at, Timestamp(1_000));
        assert_eq!(got.updated_at, Timestamp(3_000));
        assert!(
            !db.append_upload_part("nope", 0, &part("uploads/d", 1), Timestamp(3_000))
                .await
                .unwrap()
        );
        assert!(db.delete_upload("u1").await.unwrap());
        assert!(!db.delete_upload("u1").await.unwrap());
        assert!(db.upload("u1").await.unwrap().is_none());
    });
}

#[tokio::test]
async fn old_sessions_expire_and_name_their_parts() {
    on_every_engine!(|db| {
        let repo = hosted(db, "images").await;
        db.create_upload(&new_session("old", repo.id, 1_000))
            .await
            .unwrap();
        db.append_upload_part("old", 0, &part("uploads/old-1", 4), Timestamp(1_500))
            .await
            .unwrap();
        db.create_upload(&new_session("fresh", repo.id, 6_000))
            .await
            .unwrap();
        db.append_upload_part("fresh", 0, &part("uploads/fresh-1", 4), Timestamp(9_000))
            .await
            .unwrap();
        let keys = db.expire_uploads(Timestamp(5_000)).await.unwrap();
        assert_eq!(keys, vec!["uploads/old-1".to_owned()]);
        assert!(db.upload("old").await.unwrap().is_none());
        assert!(db.upload("fresh").await.unwrap().is_some());
        // Deleting the repository removes its sessions.
        db.delete_repository(repo.id).await.unwrap();
        assert!(db.upload("fresh").await.unwrap().is_none());
    });
}
