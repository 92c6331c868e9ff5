//! Sessions are found by hash until they end, never for a disabled user, and end one by one,
//! per user or by expiry; users change role, password and state in one statement.

use std::time::Duration;

use wharf_core::model::Scope;
use wharf_core::sessions::{NewSession, SessionStore};
use wharf_core::store::{UserChange, UserStore};
use wharf_core::time::Timestamp;

use crate::on_every_engine;

#[tokio::test]
async fn sessions_live_until_they_end_and_never_for_a_disabled_user() {
    on_every_engine!(|db| {
        let user = db.create_user("alice", "phc", Scope::Write).await.unwrap();
        let now = Timestamp::now();
        let session = |hash: &str, minutes| NewSession {
            user_id: user.id,
            hash: hash.into(),
            csrf: format!("csrf-{hash}"),
            expires_at: now.plus(Duration::from_mins(minutes)),
        };
        db.create_session(&session("s1", 10)).await.unwrap();
        db.create_session(&session("s2", 1)).await.unwrap();
        let found = db.session_by_hash("s1", now).await.unwrap().unwrap();
        assert_eq!((found.user.id, found.csrf.as_str()), (user.id, "csrf-s1"));
        let later = now.plus(Duration::from_mins(2));
        assert!(db.session_by_hash("s2", later).await.unwrap().is_none());
        assert_eq!(db.delete_expired_sessions(later).await.unwrap(), 1);

        assert!(
            db.update_user(
                user.id,
                &UserChange {
                    disabled: Some(true),
                    ..UserChange::default()
                }
            )
            .await
            .unwrap()
        );
        assert!(db.session_by_hash("s1", now).await.unwrap().is_none());
        assert!(db.user_by_id(user.id).await.unwrap().unwrap().disabled);
        db.update_user(
            user.id,
            &UserChange {
                disabled: Some(false),
                role: Some(Scope::Admin),
                password_hash: Some("new-phc".into()),
            },
        )
        .await
        .unwrap();
        let (changed, hash) = db.user_by_name("alice").await.unwrap().unwrap();
        assert_eq!(
            (changed.role, changed.disabled, hash.as_str()),
            (Scope::Admin, false, "new-phc")
        );
        db.update_user(user.id, &UserChange::default())
            .await
            .unwrap();
        assert_eq!(
            db.user_by_name("alice").await.unwrap().unwrap().1,
            "new-phc"
        );
        assert!(db.session_by_hash("s1", now).await.unwrap().is_some());
        assert_eq!(db.delete_user_sessions(user.id).await.unwrap(), 1);
        assert!(!db.delete_session("s1").await.unwrap());
        assert!(!db.update_user(9999, &UserChange::default()).await.unwrap());
        assert!(db.user_by_id(9999).await.unwrap().is_none());
    });
}
