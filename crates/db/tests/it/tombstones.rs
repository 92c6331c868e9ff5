//! Tombstones: what deleted files held stays recorded, a publish of the same names with other
//! content is refused in its transaction, a purge frees them; a change transaction deletes
//! versions and properties all or nothing.

use wharf_core::Error;
use wharf_core::blob::BlobStore;
use wharf_core::model::{PropertyOwner, RepoPolicy};
use wharf_core::store::{PackageStore, RepositoryStore, TombstoneStore};
use wharf_core::usecases::PublishMode;

use crate::packages::publish;
use crate::{hosted, on_every_engine};

#[tokio::test]
async fn deleted_files_keep_their_names_for_their_content() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let coords = ("App", "1.0", "app.tgz");
        let first = publish(
            db,
            &blobs,
            &repo,
            coords,
            PublishMode::CreateVersion,
            b"one",
        )
        .await
        .unwrap();
        db.tombstone_version(first.version_id).await.unwrap();
        assert!(db.delete_version(first.version_id).await.unwrap());
        let other = publish(
            db,
            &blobs,
            &repo,
            ("app", "1.0", "APP.tgz"),
            PublishMode::CreateVersion,
            b"two",
        )
        .await;
        assert!(matches!(other, Err(Error::Conflict(_))), "{other:?}");
        assert!(
            db.package(repo.id, "app").await.unwrap().is_none(),
            "nothing half-written"
        );
        // The same content comes back; a file of another name is not covered.
        let again = publish(
            db,
            &blobs,
            &repo,
            coords,
            PublishMode::CreateVersion,
            b"one",
        )
        .await
        .unwrap();
        publish(
            db,
            &blobs,
            &repo,
            ("App", "1.0", "other.tgz"),
            PublishMode::AddToExisting,
            b"three",
        )
        .await
        .unwrap();
        // A whole package, then a purge by its lower-case name.
        db.tombstone_package(again.package_id).await.unwrap();
        assert!(db.delete_package(again.package_id).await.unwrap());
        let blocked = publish(
            db,
            &blobs,
            &repo,
            ("App", "1.0", "other.tgz"),
            PublishMode::CreateVersion,
            b"four",
        )
        .await;
        assert!(matches!(blocked, Err(Error::Conflict(_))));
        assert_eq!(db.purge_tombstones(repo.id, "APP", "1.0").await.unwrap(), 2);
        assert_eq!(db.purge_tombstones(repo.id, "app", "1.0").await.unwrap(), 0);
        publish(
            db,
            &blobs,
            &repo,
            ("App", "1.0", "other.tgz"),
            PublishMode::CreateVersion,
            b"four",
        )
        .await
        .unwrap();
    });
}

#[tokio::test]
async fn repositories_that_allow_overwrite_ignore_tombstones() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let mut repo = hosted(db, "open").await;
        repo.policy = RepoPolicy {
            allow_overwrite: true,
            ..RepoPolicy::default()
        };
        assert!(db.update_policy(repo.id, &repo.policy).await.unwrap());
        let first = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "f"),
            PublishMode::CreateVersion,
            b"one",
        )
        .await
        .unwrap();
        db.tombstone_file(first.file_id).await.unwrap();
        assert!(db.delete_version(first.version_id).await.unwrap());
        publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "f"),
            PublishMode::CreateVersion,
            b"two",
        )
        .await
        .unwrap();
    });
}

#[tokio::test]
async fn a_change_transaction_is_all_or_nothing() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let one = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "f1"),
            PublishMode::CreateVersion,
            b"1",
        )
        .await
        .unwrap();
        let two = publish(
            db,
            &blobs,
            &repo,
            ("p", "2", "f2"),
            PublishMode::CreateVersion,
            b"2",
        )
        .await
        .unwrap();
        let owner = PropertyOwner::Package(one.package_id);
        db.set_property(owner, "tag:latest", "2").await.unwrap();
        let before = db.package(repo.id, "p").await.unwrap().unwrap();
        // Dropped without a commit: nothing happened.
        let mut tx = db.begin_publish().await.unwrap();
        assert!(tx.delete_version(two.version_id, true).await.unwrap());
        assert!(tx.delete_property(owner, "tag:latest").await.unwrap());
        drop(tx);
        assert_eq!(db.list_versions(one.package_id).await.unwrap().len(), 2);
        assert_eq!(db.properties(owner).await.unwrap().len(), 1);
        // Committed: all of it, with the tombstone and a new revision.
        let mut tx = db.begin_publish().await.unwrap();
        assert!(tx.delete_version(two.version_id, true).await.unwrap());
        assert!(tx.delete_property(owner, "tag:latest").await.unwrap());
        assert!(!tx.delete_property(owner, "tag:none").await.unwrap());
        tx.set_property(owner, "tag:latest", "1").await.unwrap();
        tx.touch_package(one.package_id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(db.list_versions(one.package_id).await.unwrap().len(), 1);
        assert_eq!(
            db.properties(owner).await.unwrap(),
            vec![("tag:latest".to_owned(), "1".to_owned())]
        );
        let after = db.package(repo.id, "p").await.unwrap().unwrap();
        assert!(after.revision > before.revision);
        let again = publish(
            db,
            &blobs,
            &repo,
            ("p", "2", "f2"),
            PublishMode::CreateVersion,
            b"other",
        )
        .await;
        assert!(matches!(again, Err(Error::Conflict(_))));
        // Deleting the repository takes its tombstones along.
        assert!(db.delete_repository(repo.id).await.unwrap());
        let repo = hosted(db, "main").await;
        publish(
            db,
            &blobs,
            &repo,
            ("p", "2", "f2"),
            PublishMode::CreateVersion,
            b"other",
        )
        .await
        .unwrap();
    });
}

#[tokio::test]
async fn several_files_are_published_all_or_nothing() {
    use wharf_core::names::{FileName, PackageName, VersionName};
    use wharf_core::usecases::{PublishFile, publish_files};

    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "commits").await;
        publish(
            db,
            &blobs,
            &repo,
            ("sha1", "b", "b.tgz"),
            PublishMode::CreateVersion,
            b"taken",
        )
        .await
        .unwrap();
        let package = PackageName::new("sha1").unwrap();
        let (va, vb) = (
            VersionName::new("a").unwrap(),
            VersionName::new("b").unwrap(),
        );
        let (fa, fb) = (
            FileName::new("a.tgz").unwrap(),
            FileName::new("b.tgz").unwrap(),
        );
        let file = |version, file| PublishFile {
            repository: &repo,
            package: &package,
            canonical: None,
            version,
            file,
            mode: PublishMode::CreateOrAdd,
            properties: vec![],
        };
        // The second file clashes: the first is not recorded either.
        let clash = publish_files(
            db,
            &blobs,
            vec![
                (file(&va, &fa), crate::packages::stage(&blobs, b"a").await),
                (
                    file(&vb, &fb),
                    crate::packages::stage(&blobs, b"other").await,
                ),
            ],
        )
        .await;
        assert!(matches!(clash, Err(Error::Conflict(_))), "{clash:?}");
        let package_row = db.package(repo.id, "sha1").await.unwrap().unwrap();
        assert_eq!(db.list_versions(package_row.id).await.unwrap().len(), 1);
        let vc = VersionName::new("c").unwrap();
        let fc = FileName::new("c.tgz").unwrap();
        let done = publish_files(
            db,
            &blobs,
            vec![
                (file(&va, &fa), crate::packages::stage(&blobs, b"a").await),
                (file(&vc, &fc), crate::packages::stage(&blobs, b"c").await),
            ],
        )
        .await
        .unwrap();
        assert_eq!(done.len(), 2);
        assert_eq!(db.list_versions(package_row.id).await.unwrap().len(), 3);
    });
}
