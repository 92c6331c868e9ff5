use wharf_core::Error;
use wharf_core::model::{NewToken, Scope};
use wharf_core::store::{LeaseStore, UserStore};
use wharf_core::time::Timestamp;

use crate::{hosted, on_every_engine};

#[tokio::test]
async fn tokens_are_found_by_hash_until_they_expire() {
    on_every_engine!(|db| {
        assert_eq!(db.count_users().await.unwrap(), 0);
        let user = db.create_user("alice", "phc", Scope::Admin).await.unwrap();
        assert!(matches!(
            db.create_user("alice", "x", Scope::Read).await,
            Err(Error::Conflict(_))
        ));
        let (found, hash) = db.user_by_name("alice").await.unwrap().unwrap();
        assert_eq!((found, hash.as_str()), (user.clone(), "phc"));
        let repo = hosted(db, "main").await;
        let now = Timestamp::now();
        let token = db
            .create_token(&NewToken {
                user_id: user.id,
                name: "ci".into(),
                hash: "h1".into(),
                scope: Scope::Write,
                repository_id: Some(repo.id),
                expires_at: Some(now.plus(std::time::Duration::from_mins(1))),
            })
            .await
            .unwrap();
        let (t, u) = db.token_by_hash("h1", now).await.unwrap().unwrap();
        assert_eq!((t, u), (token.clone(), user.clone()));
        let later = now.plus(std::time::Duration::from_mins(2));
        assert!(db.token_by_hash("h1", later).await.unwrap().is_none());
        assert_eq!(db.list_tokens(user.id).await.unwrap(), vec![token.clone()]);
        let forever = db
            .create_token(&NewToken {
                user_id: user.id,
                name: "forever".into(),
                hash: "h2".into(),
                scope: Scope::Read,
                repository_id: None,
                expires_at: None,
            })
            .await
            .unwrap();
        // Expired tokens are removed; live and unexpiring ones stay.
        assert_eq!(db.delete_expired_tokens(now).await.unwrap(), 0);
        assert_eq!(db.delete_expired_tokens(later).await.unwrap(), 1);
        assert_eq!(
            db.list_tokens(user.id).await.unwrap(),
            vec![forever.clone()]
        );
        assert!(!db.delete_token(user.id, token.id).await.unwrap());
        assert!(db.delete_token(user.id, forever.id).await.unwrap());
        assert!(db.token_by_hash("h1", now).await.unwrap().is_none());
        assert_eq!(db.count_users().await.unwrap(), 1);
        assert!(db.delete_user(user.id).await.unwrap());
    });
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires() {
    on_every_engine!(|db| {
        let t0 = Timestamp(1_000);
        let t1 = Timestamp(2_000);
        assert!(db.try_lease("gc", "a", t0, t1).await.unwrap());
        assert!(!db.try_lease("gc", "b", t0, t1).await.unwrap());
        assert!(db.try_lease("gc", "a", t0, Timestamp(3_000)).await.unwrap());
        assert!(
            db.try_lease("gc", "b", Timestamp(3_001), Timestamp(4_000))
                .await
                .unwrap()
        );
        db.release_lease("gc", "b").await.unwrap();
        assert!(
            db.try_lease("gc", "c", Timestamp(3_002), Timestamp(4_000))
                .await
                .unwrap()
        );
    });
}
