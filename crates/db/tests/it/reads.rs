//! The read paths that render documents: a version property joined across versions (in order
//! or gathered in any order), versions
//! by prefix, a package's files with chosen properties, and the content tag every change bumps.

use wharf_core::blob::BlobStore;
use wharf_core::model::PropertyOwner;
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::store::PackageStore;
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_file};

use crate::packages::{publish, stage};
use crate::{hosted, on_every_engine};

#[tokio::test]
async fn a_version_property_is_joined_in_version_order_with_the_maximum_of_another() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let package = PackageName::new("p").unwrap();
        for (v, line, changed) in [
            ("1", "{\"v\":1}", "30"),
            ("2", "{\"v\":2}", "10"),
            ("3", "{\"v\":3}", "20"),
        ] {
            let version = VersionName::new(v).unwrap();
            let file = FileName::new("f").unwrap();
            let staged = stage(&blobs, b"x").await;
            let props = vec![
                (PropertyTarget::Version, "line".to_owned(), line.to_owned()),
                (
                    PropertyTarget::Version,
                    "changed".to_owned(),
                    changed.to_owned(),
                ),
            ];
            publish_file(
                db,
                &blobs,
                PublishFile {
                    repository: &repo,
                    package: &package,
                    canonical: None,
                    version: &version,
                    file: &file,
                    mode: PublishMode::CreateVersion,
                    properties: props,
                },
                staged,
            )
            .await
            .unwrap();
        }
        let id = db.package(repo.id, "p").await.unwrap().unwrap().id;
        let (joined, max) = db
            .joined_version_property(id, "line", "changed")
            .await
            .unwrap();
        assert_eq!(joined.as_deref(), Some("{\"v\":1}\n{\"v\":2}\n{\"v\":3}"));
        assert_eq!(max, Some(30));
        assert_eq!(
            db.joined_version_property(id, "none", "changed")
                .await
                .unwrap(),
            (None, None)
        );
        let gathered = db
            .gathered_version_properties(id, &["line", "none", "changed"])
            .await
            .unwrap();
        let lines = |joined: &Option<String>| {
            let mut lines: Vec<String> = joined
                .as_deref()
                .unwrap()
                .split('\n')
                .map(str::to_owned)
                .collect();
            lines.sort_unstable();
            lines
        };
        assert_eq!(
            lines(&gathered[0]),
            ["{\"v\":1}", "{\"v\":2}", "{\"v\":3}"],
            "every value, in any order"
        );
        assert_eq!(gathered[1], None);
        assert_eq!(lines(&gathered[2]), ["10", "20", "30"]);
    });
}

#[tokio::test]
async fn versions_are_found_by_prefix_with_wildcards_escaped() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        for v in ["1.0.0", "1.0.0+build", "1.0.01", "1x0", "2.0.0"] {
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
        let id = db.package(repo.id, "p").await.unwrap().unwrap().id;
        let found: Vec<String> = db
            .versions_with_prefix(id, "1.0.0")
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(found, vec!["1.0.0", "1.0.0+build", "1.0.01"]);
        assert!(
            db.versions_with_prefix(id, "1_0").await.unwrap().is_empty(),
            "_ is not a wildcard"
        );
        assert!(
            db.versions_with_prefix(id, "%").await.unwrap().is_empty(),
            "% is not a wildcard"
        );
    });
}

#[tokio::test]
async fn every_change_to_a_package_bumps_its_content_tag() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let tag = || async {
            db.package(repo.id, "pkg")
                .await
                .unwrap()
                .map(|p| p.content_tag())
        };
        let first = publish(
            db,
            &blobs,
            &repo,
            ("Pkg", "1", "a"),
            PublishMode::CreateOrAdd,
            b"x",
        )
        .await
        .unwrap();
        let mut seen = vec![tag().await.unwrap()];
        let mut changed = |t: String| {
            assert!(!seen.contains(&t), "{t} was seen before: {seen:?}");
            seen.push(t);
        };
        publish(
            db,
            &blobs,
            &repo,
            ("Pkg", "1", "b"),
            PublishMode::CreateOrAdd,
            b"y",
        )
        .await
        .unwrap();
        changed(tag().await.unwrap());
        let owner = PropertyOwner::Version(first.version_id);
        db.set_property(owner, "yanked", "").await.unwrap();
        changed(tag().await.unwrap());
        assert!(db.delete_property(owner, "yanked").await.unwrap());
        changed(tag().await.unwrap());
        db.set_property(PropertyOwner::File(first.file_id), "k", "v")
            .await
            .unwrap();
        changed(tag().await.unwrap());
        assert!(db.delete_file(first.file_id).await.unwrap());
        changed(tag().await.unwrap());
        let other = db.package(repo.id, "pkg").await.unwrap().unwrap();
        assert!(db.delete_package(other.id).await.unwrap());
        assert_eq!(tag().await, None);
        publish(
            db,
            &blobs,
            &repo,
            ("Pkg", "1", "a"),
            PublishMode::CreateOrAdd,
            b"x",
        )
        .await
        .unwrap();
        changed(tag().await.unwrap());
    });
}

#[tokio::test]
async fn a_package_lists_its_files_with_chosen_properties_in_one_query() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let a = publish(
            db,
            &blobs,
            &repo,
            ("pkg", "1", "b"),
            PublishMode::CreateOrAdd,
            b"x",
        )
        .await
        .unwrap();
        publish(
            db,
            &blobs,
            &repo,
            ("pkg", "1", "a"),
            PublishMode::CreateOrAdd,
            b"y",
        )
        .await
        .unwrap();
        publish(
            db,
            &blobs,
            &repo,
            ("pkg", "2", "c"),
            PublishMode::CreateOrAdd,
            b"z",
        )
        .await
        .unwrap();
        db.set_property(PropertyOwner::File(a.file_id), "big", "not asked for")
            .await
            .unwrap();
        let listed = db
            .package_files(a.package_id, &["kind", "absent"])
            .await
            .unwrap();
        let names: Vec<(&str, &str)> = listed
            .iter()
            .map(|f| (f.version.version.as_str(), f.file.name.as_str()))
            .collect();
        assert_eq!(names, vec![("1", "a"), ("1", "b"), ("2", "c")]);
        for f in &listed {
            assert_eq!(f.properties, vec![("kind".to_owned(), "test".to_owned())]);
            assert_eq!(f.version.id, f.file.version_id);
        }
        assert_eq!(listed[2].file.blob.size, 1);
        let bare = db.package_files(a.package_id, &[]).await.unwrap();
        assert_eq!(bare.len(), 3);
        assert!(bare.iter().all(|f| f.properties.is_empty()));
    });
}
