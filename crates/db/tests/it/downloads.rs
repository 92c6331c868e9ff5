//! Download counts: added up per version and day across calls (as several instances do), read
//! per package from a day on, and skipped for versions deleted in between.

use wharf_core::blob::BlobStore;
use wharf_core::store::{DownloadCount, DownloadStore, PackageStore};
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
