use futures::stream;
use wharf_core::Error;
use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::model::{PropertyOwner, RepoPolicy, Repository};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::store::{BlobIndex, MetadataStore, PackageStore, RepositoryStore};
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, Published, publish_file};

use crate::{hosted, on_every_engine};

pub(crate) async fn stage(blobs: &BlobStore, content: &'static [u8]) -> StagedBlob {
    let body = stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(content))]);
    blobs.stage(body, &StageOptions::default()).await.unwrap()
}

pub(crate) async fn publish(
    db: &dyn MetadataStore,
    blobs: &BlobStore,
    repo: &Repository,
    coords: (&str, &str, &str),
    mode: PublishMode,
    content: &'static [u8],
) -> Result<Published, Error> {
    let package = PackageName::new(coords.0).unwrap();
    let version = VersionName::new(coords.1).unwrap();
    let file = FileName::new(coords.2).unwrap();
    let staged = stage(blobs, content).await;
    publish_file(
        db,
        blobs,
        PublishFile {
            repository: repo,
            package: &package,
            canonical: None,
            version: &version,
            file: &file,
            mode,
            properties: vec![(PropertyTarget::File, "kind".into(), "test".into())],
        },
        staged,
    )
    .await
}

#[tokio::test]
async fn publish_modes_follow_forgejo_semantics() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let first = publish(
            db,
            &blobs,
            &repo,
            ("app", "1.0", "a.tgz"),
            PublishMode::CreateVersion,
            b"a",
        )
        .await
        .unwrap();
        assert!(first.version_created);
        let again = publish(
            db,
            &blobs,
            &repo,
            ("App", "1.0", "b.tgz"),
            PublishMode::CreateVersion,
            b"b",
        )
        .await;
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
        let added = publish(
            db,
            &blobs,
            &repo,
            ("app", "1.0", "b.tgz"),
            PublishMode::AddToExisting,
            b"b",
        )
        .await
        .unwrap();
        assert_eq!(added.version_id, first.version_id);
        let missing = publish(
            db,
            &blobs,
            &repo,
            ("app", "2.0", "c.tgz"),
            PublishMode::AddToExisting,
            b"c",
        )
        .await;
        assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
        assert!(
            db.version(first.package_id, "2.0").await.unwrap().is_none(),
            "failed publish left a version"
        );
        let dup = publish(
            db,
            &blobs,
            &repo,
            ("app", "1.0", "A.TGZ"),
            PublishMode::CreateOrAdd,
            b"x",
        )
        .await;
        assert!(matches!(dup, Err(Error::Conflict(_))), "{dup:?}");
        let files = db.list_files(first.version_id).await.unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["a.tgz", "b.tgz"]);
        assert_eq!(files[0].blob.size, 1);
        assert_eq!(
            db.properties(PropertyOwner::File(first.file_id))
                .await
                .unwrap(),
            vec![("kind".to_owned(), "test".to_owned())]
        );
        let found = db
            .file(repo.id, "APP", "1.0", "a.tgz")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, first.file_id);
        assert_eq!(db.list_repository_files(repo.id).await.unwrap().len(), 2);
    });
}

#[tokio::test]
async fn overwrite_replaces_the_file_only_where_allowed() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let mut repo = hosted(db, "main").await;
        repo.policy = RepoPolicy {
            allow_overwrite: true,
            ..RepoPolicy::default()
        };
        db.update_policy(repo.id, &repo.policy).await.unwrap();
        publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "f"),
            PublishMode::CreateOrAdd,
            b"old",
        )
        .await
        .unwrap();
        let new = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "f"),
            PublishMode::CreateOrAdd,
            b"new",
        )
        .await
        .unwrap();
        let file = db.file(repo.id, "p", "1", "f").await.unwrap().unwrap();
        assert_eq!(file.id, new.file_id);
        assert_eq!(file.blob.sha256, new.digests.sha256);
    });
}

#[tokio::test]
async fn deleting_the_last_file_removes_version_and_package() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let a = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "a"),
            PublishMode::CreateOrAdd,
            b"a",
        )
        .await
        .unwrap();
        let b = publish(
            db,
            &blobs,
            &repo,
            ("p", "1", "b"),
            PublishMode::CreateOrAdd,
            b"b",
        )
        .await
        .unwrap();
        let v2 = publish(
            db,
            &blobs,
            &repo,
            ("p", "2", "c"),
            PublishMode::CreateOrAdd,
            b"c",
        )
        .await
        .unwrap();
        assert!(db.delete_file(a.file_id).await.unwrap());
        assert!(db.version(a.package_id, "1").await.unwrap().is_some());
        assert!(db.delete_file(b.file_id).await.unwrap());
        assert!(db.version(a.package_id, "1").await.unwrap().is_none());
        assert!(!db.delete_file(b.file_id).await.unwrap());
        assert!(db.delete_version(v2.version_id).await.unwrap());
        assert!(db.package(repo.id, "p").await.unwrap().is_none());
        let blob = db.blob(&v2.digests.sha256).await.unwrap();
        assert!(blob.is_some(), "blobs stay for GC");
    });
}

#[tokio::test]
async fn packages_page_by_name() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        for name in ["b", "a", "C"] {
            publish(
                db,
                &blobs,
                &repo,
                (name, "1", "f"),
                PublishMode::CreateOrAdd,
                b"x",
            )
            .await
            .unwrap();
        }
        let first: Vec<String> = db
            .list_packages(repo.id, None, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(first, vec!["a", "b"]);
        let rest: Vec<String> = db
            .list_packages(repo.id, Some("b"), 2)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(rest, vec!["C"]);
        let p = db.package(repo.id, "a").await.unwrap().unwrap();
        assert!(db.delete_package(p.id).await.unwrap());
    });
}

#[tokio::test]
async fn concurrent_publishes_of_one_version_have_one_winner() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let tasks = (0..10).map(|i| {
            let (db, blobs, repo) = (db.clone(), blobs.clone(), repo.clone());
            tokio::spawn(async move {
                let content: &'static [u8] =
                    Box::leak(format!("content {i}").into_bytes().into_boxed_slice());
                publish(
                    &db,
                    &blobs,
                    &repo,
                    ("race", "1.0", "f"),
                    PublishMode::CreateVersion,
                    content,
                )
                .await
            })
        });
        let results = futures::future::join_all(tasks).await;
        let wins = results
            .iter()
            .filter(|r| r.as_ref().unwrap().is_ok())
            .count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r.as_ref().unwrap(), Err(Error::Conflict(_))))
            .count();
        assert_eq!((wins, conflicts), (1, 9));
    });
}

#[tokio::test]
async fn canonical_names_versions_with_properties_and_property_updates() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let repo = hosted(db, "main").await;
        let package = PackageName::new("Foo_Bar").unwrap();
        for v in ["1.0.0", "1.1.0"] {
            let version = VersionName::new(v).unwrap();
            let file = FileName::new("f").unwrap();
            let staged = stage(&blobs, b"x").await;
            publish_file(
                db,
                &blobs,
                PublishFile {
                    repository: &repo,
                    package: &package,
                    canonical: Some("foo-bar"),
                    version: &version,
                    file: &file,
                    mode: PublishMode::CreateVersion,
                    properties: vec![(PropertyTarget::Version, "meta".into(), format!("v{v}"))],
                },
                staged,
            )
            .await
            .unwrap();
        }
        let found = db
            .package_by_canonical(repo.id, "foo-bar")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.name, "Foo_Bar");
        assert!(
            db.package_by_canonical(repo.id, "foo_bar")
                .await
                .unwrap()
                .is_none()
        );
        let versions = db.versions_with_properties(found.id).await.unwrap();
        let flat: Vec<(&str, Vec<(String, String)>)> = versions
            .iter()
            .map(|(v, p)| (v.version.as_str(), p.clone()))
            .collect();
        assert_eq!(
            flat,
            vec![
                ("1.0.0", vec![("meta".to_owned(), "v1.0.0".to_owned())]),
                ("1.1.0", vec![("meta".to_owned(), "v1.1.0".to_owned())]),
            ]
        );
        let owner = PropertyOwner::Version(versions[0].0.id);
        db.set_property(owner, "yanked", "true").await.unwrap();
        db.set_property(owner, "yanked", "yes").await.unwrap();
        let props = db.properties(owner).await.unwrap();
        assert!(props.contains(&("yanked".to_owned(), "yes".to_owned())));
        assert!(db.delete_property(owner, "yanked").await.unwrap());
        assert!(!db.delete_property(owner, "yanked").await.unwrap());
        let bare = hosted(db, "bare").await;
        publish(
            db,
            &blobs,
            &bare,
            ("NoProps", "1", "f"),
            PublishMode::CreateOrAdd,
            b"y",
        )
        .await
        .unwrap();
        let p = db
            .package_by_canonical(bare.id, "noprops")
            .await
            .unwrap()
            .unwrap();
        let versions = db.versions_with_properties(p.id).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert!(versions[0].1.is_empty());
    });
}
