//! Download counts: added up per version and day across calls (as several instances do), read
//! per package from a day on, and skipped for versions deleted in between; totals per name of
//! a repository, and reported analytics events.

use wharf_core::blob::BlobStore;
use wharf_core::store::{DownloadCount, DownloadStore, EventCount, PackageStore};
use wharf_core::usecases::PublishMode;

use crate::packages::publish;
use crate::{hosted, on_every_engine};

#[tokio::test]
async fn downloads_add_up_per_version_and_day() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        for v in ["1.0", "2.0"] {
            publish(
                db,
                &blobs,
                &repo,
                ("p", v, "f"),
                PublishMode::CreateVersion,
                b"x",
            )
            .await
            .unwrap();
        }
        let package = db.package(repo.id, "p").await.unwrap().unwrap();
        let versions = db.list_versions(package.id).await.unwrap();
        let (one, two) = (versions[0].id, versions[1].id);
        db.add_downloads(&[(one, 100, 2), (two, 100, 1)])
            .await
            .unwrap();
        db.add_downloads(&[(one, 100, 3), (one, 101, 1), (two, 99, 7)])
            .await
            .unwrap();
        let count = |version: &str, day: i64, count: u64| DownloadCount {
            version: version.into(),
            day,
            count,
        };
        assert_eq!(
            db.downloads(package.id, 100).await.unwrap(),
            vec![
                count("1.0", 100, 5),
                count("2.0", 100, 1),
                count("1.0", 101, 1)
            ]
        );
        assert_eq!(db.downloads(package.id, 0).await.unwrap().len(), 4);
        db.delete_version(two).await.unwrap();
        db.add_downloads(&[(two, 102, 1), (one, 102, 1)])
            .await
            .unwrap();
        assert_eq!(
            db.downloads(package.id, 102).await.unwrap(),
            vec![count("1.0", 102, 1)],
            "a deleted version's counts go with it"
        );
    });
}

#[tokio::test]
async fn repository_totals_and_reported_events_add_up_by_name() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let other = hosted(db, "other").await;
        for (name, version) in [("a", "1"), ("a", "2"), ("b", "1")] {
            publish(
                db,
                &blobs,
                &repo,
                (name, version, "f"),
                PublishMode::CreateOrAdd,
                b"x",
            )
            .await
            .unwrap();
        }
        let version = |name: &'static str, v: &'static str| async move {
            let package = db.package(repo.id, name).await.unwrap().unwrap();
            db.version(package.id, v).await.unwrap().unwrap().id
        };
        let (a1, a2, b1) = (
            version("a", "1").await,
            version("a", "2").await,
            version("b", "1").await,
        );
        db.add_downloads(&[(a1, 10, 2), (a2, 11, 3), (b1, 9, 4)])
            .await
            .unwrap();
        let mut totals = db.repository_downloads(repo.id, 10).await.unwrap();
        totals.sort();
        assert_eq!(
            totals,
            vec![("a".to_owned(), 5)],
            "b's downloads were before day 10"
        );
        assert!(
            db.repository_downloads(other.id, 0)
                .await
                .unwrap()
                .is_empty()
        );

        let event = |category: &str, name: &str, day: i64, count: u64| EventCount {
            repository_id: repo.id,
            category: category.into(),
            name: name.into(),
            day,
            count,
        };
        db.add_events(&[
            event("install", "wget", 10, 2),
            event("build_error", "wget", 10, 1),
        ])
        .await
        .unwrap();
        db.add_events(&[
            event("install", "wget", 10, 3),
            event("install", "curl", 12, 1),
        ])
        .await
        .unwrap();
        let mut installs = db.event_totals(repo.id, "install", 0).await.unwrap();
        installs.sort();
        assert_eq!(
            installs,
            vec![("curl".to_owned(), 1), ("wget".to_owned(), 5)]
        );
        assert_eq!(
            db.event_totals(repo.id, "install", 11).await.unwrap(),
            vec![("curl".to_owned(), 1)]
        );
        assert_eq!(
            db.event_totals(repo.id, "build_error", 0).await.unwrap(),
            vec![("wget".to_owned(), 1)]
        );
        assert!(
            db.event_totals(other.id, "install", 0)
                .await
                .unwrap()
                .is_empty()
        );
    });
}
