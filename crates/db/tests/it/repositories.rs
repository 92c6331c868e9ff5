use wharf_core::Error;
use wharf_core::model::{NewRepository, RepoKind, RepoPolicy};
use wharf_core::names::RepoName;
use wharf_core::store::{MetadataStore, RepositoryStore};

use crate::{hosted, on_every_engine};

#[tokio::test]
async fn repositories_are_unique_per_format_and_round_trip() {
    on_every_engine!(|db| {
        let repo = hosted(db, "main").await;
        assert_eq!(repo.name.as_str(), "main");
        assert!(repo.policy.anonymous_read);
        let again = db
            .create_repository(&NewRepository {
                name: RepoName::new("main").unwrap(),
                format: "generic".into(),
                kind: RepoKind::Hosted,
                upstream: None,
                members: vec![],
                policy: RepoPolicy::default(),
            })
            .await;
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
        let group = db
            .create_repository(&NewRepository {
                name: RepoName::new("main").unwrap(),
                format: "npm".into(),
                kind: RepoKind::Group,
                upstream: None,
                members: vec!["a".into(), "b".into()],
                policy: RepoPolicy {
                    allow_overwrite: true,
                    max_upload_size: Some(1024),
                    anonymous_read: false,
                    retention_days: Some(90),
                    redirect_downloads: true,
                },
            })
            .await
            .unwrap();
        assert_eq!(group.members, vec!["a", "b"]);
        assert_eq!(group.policy.max_upload_size, Some(1024));
        assert_eq!(
            db.repository("npm", "main").await.unwrap(),
            Some(group.clone())
        );
        assert_eq!(db.list_repositories().await.unwrap().len(), 2);
        assert_eq!(group.policy.retention_days, Some(90));
        assert!(group.policy.redirect_downloads);
        let policy = RepoPolicy {
            max_upload_size: None,
            retention_days: None,
            ..group.policy.clone()
        };
        assert!(db.update_policy(group.id, &policy).await.unwrap());
        assert_eq!(
            db.repository("npm", "main").await.unwrap().unwrap().policy,
            policy
        );
        assert!(db.delete_repository(group.id).await.unwrap());
        assert!(!db.delete_repository(group.id).await.unwrap());
        assert!(db.repository("npm", "main").await.unwrap().is_none());
        db.ping().await.unwrap();
    });
}

#[tokio::test]
async fn upstream_documents_are_cached_per_repository() {
    use wharf_core::store::{CachedDocument, UpstreamCacheStore};
    use wharf_core::time::Timestamp;
    on_every_engine!(|db| {
        let repo = hosted(db, "proxy").await;
        assert!(db.cached(repo.id, "se/rd/serde").await.unwrap().is_none());
        let doc = CachedDocument {
            status: 200,
            etag: Some("\"abc\"".into()),
            last_modified: None,
            fetched_at: Timestamp(1_000),
            body: b"{\"name\":\"serde\"}\n\x00\xff".to_vec(),
        };
        db.store_cached(repo.id, "se/rd/serde", &doc).await.unwrap();
        assert_eq!(
            db.cached(repo.id, "se/rd/serde").await.unwrap(),
            Some(doc.clone())
        );
        db.touch_cached(repo.id, "se/rd/serde", Timestamp(2_000))
            .await
            .unwrap();
        assert_eq!(
            db.cached(repo.id, "se/rd/serde")
                .await
                .unwrap()
                .unwrap()
                .fetched_at,
            Timestamp(2_000)
        );
        let gone = CachedDocument {
            status: 404,
            body: vec![],
            etag: None,
            ..doc
        };
        db.store_cached(repo.id, "se/rd/serde", &gone)
            .await
            .unwrap();
        assert_eq!(
            db.cached(repo.id, "se/rd/serde")
                .await
                .unwrap()
                .unwrap()
                .status,
            404
        );
        db.delete_repository(repo.id).await.unwrap();
        assert!(db.cached(repo.id, "se/rd/serde").await.unwrap().is_none());
    });
}
