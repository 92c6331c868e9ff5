//! Linked publishes (a version made of blobs already stored, as an OCI manifest is) and
//! finding a file by name anywhere in a package.

use wharf_core::Error;
use wharf_core::blob::{BlobStore, StageOptions};
use wharf_core::digest::Sha256;
use wharf_core::model::PropertyOwner;
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::store::PackageStore;
use wharf_core::usecases::{PropertyTarget, PublishLinked, PublishMode, publish_linked};

use crate::packages::publish;
use crate::{hosted, on_every_engine};

async fn staged(blobs: &BlobStore, content: &'static [u8]) -> wharf_core::blob::StagedBlob {
    blobs
        .stage(
            futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(content))]),
            &StageOptions::default(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_version_links_stored_blobs_and_finds_them_by_name() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "images").await;
        let layer = publish(
            db,
            &blobs,
            &repo,
            ("app", "uploads", "layer-name"),
            PublishMode::CreateOrAdd,
            b"layer",
        )
        .await
        .unwrap();
        let package = PackageName::new("app").unwrap();
        let version = VersionName::new("v1").unwrap();
        let document = FileName::new("doc").unwrap();
        let link = FileName::new("linked-layer").unwrap();
        let links = vec![(link.clone(), layer.digests.sha256.clone())];
        let linked = publish_linked(
            db,
            &blobs,
            PublishLinked {
                repository: &repo,
                package: &package,
                version: &version,
                document: Some((&document, staged(&blobs, b"document").await)),
                links: &links,
                properties: vec![
                    (PropertyTarget::Version, "kind".into(), "manifest".into()),
                    (PropertyTarget::Package, "tag.latest".into(), "v1".into()),
                ],
            },
        )
        .await
        .unwrap();
        assert!(linked.version_created);
        let files = db.list_files(linked.version_id).await.unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["doc", "linked-layer"]);
        let found = db
            .package_file(repo.id, "APP", "Linked-Layer")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.blob.sha256, layer.digests.sha256);
        assert_eq!(found.version_id, linked.version_id);
        let first = db
            .package_file(repo.id, "app", "layer-name")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.blob.id, found.blob.id);
        assert!(
            db.package_file(repo.id, "app", "nothing")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            db.package_file(repo.id, "other", "doc")
                .await
                .unwrap()
                .is_none()
        );
        let props = db
            .properties(PropertyOwner::Version(linked.version_id))
            .await
            .unwrap();
        assert_eq!(props, vec![("kind".to_owned(), "manifest".to_owned())]);
        // Publishing the same again keeps what is there.
        let again = publish_linked(
            db,
            &blobs,
            PublishLinked {
                repository: &repo,
                package: &package,
                version: &version,
                document: Some((&document, staged(&blobs, b"document").await)),
                links: &links,
                properties: vec![],
            },
        )
        .await
        .unwrap();
        assert!(!again.version_created);
        assert_eq!(db.list_files(linked.version_id).await.unwrap().len(), 2);
    });
}

#[tokio::test]
async fn a_missing_blob_fails_the_whole_linked_publish() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "images").await;
        let missing = Sha256::of(b"never stored");
        let links = vec![(FileName::new("gone").unwrap(), missing)];
        let err = publish_linked(
            db,
            &blobs,
            PublishLinked {
                repository: &repo,
                package: &PackageName::new("app").unwrap(),
                version: &VersionName::new("v1").unwrap(),
                document: Some((&FileName::new("doc").unwrap(), staged(&blobs, b"doc").await)),
                links: &links,
                properties: vec![],
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        assert!(db.package(repo.id, "app").await.unwrap().is_none());
    });
}

#[tokio::test]
async fn files_of_versions_of_one_name_are_listed_by_age() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "images").await;
        let other = hosted(db, "others").await;
        for (r, package, version, file, content) in [
            (&repo, "a", "uploads", "one", b"1".as_slice()),
            (&repo, "b", "Uploads", "two", b"2"),
            (&repo, "a", "sha256:x", "three", b"3"),
            (&other, "a", "uploads", "four", b"4"),
        ] {
            let content: &'static [u8] = Box::leak(content.to_vec().into_boxed_slice());
            publish(
                db,
                &blobs,
                r,
                (package, version, file),
                PublishMode::CreateOrAdd,
                content,
            )
            .await
            .unwrap();
        }
        let later = wharf_core::time::Timestamp::now().plus(std::time::Duration::from_mins(1));
        let found = db
            .files_of_versions_named(repo.id, "uploads", later, 10)
            .await
            .unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["one", "two"]);
        let one = db
            .files_of_versions_named(repo.id, "uploads", later, 1)
            .await
            .unwrap();
        assert_eq!(one.len(), 1);
        let earlier = wharf_core::time::Timestamp(0);
        assert!(
            db.files_of_versions_named(repo.id, "uploads", earlier, 10)
                .await
                .unwrap()
                .is_empty()
        );
    });
}
