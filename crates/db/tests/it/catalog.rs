//! Browsing reads: repository counts, the newest versions, and package pages filtered by words
//! in the name or description, sorted by name, last change, downloads or relevance, paged with
//! a total.

use wharf_core::blob::BlobStore;
use wharf_core::catalog::{CatalogStore, DESCRIPTION, KEYWORDS, PackageQuery, PackageSort};
use wharf_core::model::PropertyOwner;
use wharf_core::store::{DownloadStore, PackageStore};
use wharf_core::usecases::PublishMode;

use crate::packages::publish;
use crate::{hosted, on_every_engine};

fn names(page: &wharf_core::catalog::PackagePage) -> Vec<&str> {
    page.rows.iter().map(|r| r.package.name.as_str()).collect()
}

#[tokio::test]
async fn packages_are_listed_filtered_sorted_and_paged_in_the_database() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let main = hosted(db, "main").await;
        let other = hosted(db, "other").await;
        for (repo, name, version) in [
            (&main, "left-pad", "1.0"),
            (&main, "Left-Pad-Extra", "1.0"),
            (&main, "pad", "1.0"),
            (&main, "pad", "2.0"),
            (&main, "zeta", "1.0"),
            (&other, "hidden", "1.0"),
        ] {
            publish(
                db,
                &blobs,
                repo,
                (name, version, "f"),
                PublishMode::CreateOrAdd,
                b"x",
            )
            .await
            .unwrap();
        }
        let zeta = db.package(main.id, "zeta").await.unwrap().unwrap();
        db.set_property(
            PropertyOwner::Package(zeta.id),
            DESCRIPTION,
            "Pads 100% of strings",
        )
        .await
        .unwrap();
        // Times are milliseconds: the last change comes later for sure.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let extra = db
            .package(main.id, "Left-Pad-Extra")
            .await
            .unwrap()
            .unwrap();
        db.set_property(
            PropertyOwner::Package(extra.id),
            KEYWORDS,
            "strings padding",
        )
        .await
        .unwrap();
        let pad = db.package(main.id, "pad").await.unwrap().unwrap();
        let newest = db.list_versions(pad.id).await.unwrap()[1].id;
        db.add_downloads(&[(newest, 1, 7)]).await.unwrap();

        let ids = [main.id];
        let page = |words: &'static [&'static str], sort, offset, limit| {
            let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            async move {
                db.packages_page(&PackageQuery {
                    repository_ids: &ids,
                    words: &words,
                    sort,
                    offset,
                    limit,
                })
                .await
                .unwrap()
            }
        };
        let all = page(&[], PackageSort::Name, 0, 10).await;
        assert_eq!(names(&all), ["left-pad", "Left-Pad-Extra", "pad", "zeta"]);
        assert_eq!(all.total, 4);
        let second = page(&[], PackageSort::Name, 2, 1).await;
        assert_eq!((names(&second), second.total), (vec!["pad"], 4));
        let by_downloads = page(&[], PackageSort::Downloads, 0, 2).await;
        assert_eq!(names(&by_downloads), ["pad", "left-pad"]);
        assert_eq!(by_downloads.rows[0].downloads, 7);
        let by_update = page(&[], PackageSort::Updated, 0, 1).await;
        assert_eq!(
            names(&by_update),
            ["Left-Pad-Extra"],
            "its keywords changed it last (downloads change nothing)"
        );

        let pad_search = page(&["PAD"], PackageSort::Relevance, 0, 10).await;
        assert_eq!(
            names(&pad_search),
            ["pad", "left-pad", "Left-Pad-Extra", "zeta"],
            "exact, then contained, then the description's match"
        );
        assert_eq!(pad_search.rows[3].description, "Pads 100% of strings");
        let keyword = page(&["padding"], PackageSort::Relevance, 0, 10).await;
        assert_eq!(names(&keyword), ["Left-Pad-Extra"], "keywords are searched");
        let both = page(&["left", "extra"], PackageSort::Relevance, 0, 10).await;
        assert_eq!(names(&both), ["Left-Pad-Extra"], "every word must match");
        let literal = page(&["100%"], PackageSort::Relevance, 0, 10).await;
        assert_eq!(names(&literal), ["zeta"]);
        let wildcard = page(&["%"], PackageSort::Relevance, 0, 10).await;
        assert_eq!(
            names(&wildcard),
            ["zeta"],
            "% is a character, not a wildcard"
        );
        let none = page(&["_"], PackageSort::Relevance, 0, 10).await;
        assert!(none.rows.is_empty() && none.total == 0);
    });
}

#[tokio::test]
async fn repositories_are_counted_and_the_newest_versions_come_first() {
    on_every_engine!(|db| {
        let blobs = BlobStore::memory();
        let main = hosted(db, "main").await;
        let other = hosted(db, "other").await;
        for (repo, name, version) in [
            (&main, "a", "1.0"),
            (&main, "a", "2.0"),
            (&main, "b", "1.0"),
            (&other, "c", "1.0"),
        ] {
            publish(
                db,
                &blobs,
                repo,
                (name, version, "f"),
                PublishMode::CreateOrAdd,
                b"x",
            )
            .await
            .unwrap();
        }
        let counts = db.repository_counts().await.unwrap();
        let of = |id| counts.iter().find(|c| c.repository_id == id).unwrap();
        assert_eq!((of(main.id).packages, of(main.id).versions), (2, 3));
        assert_eq!((of(other.id).packages, of(other.id).versions), (1, 1));
        let recent = db.recent_versions(&[main.id], 2).await.unwrap();
        assert_eq!(recent.len(), 2);
        assert!(recent.iter().all(|r| r.repository_id == main.id));
        assert!(recent[0].created_at >= recent[1].created_at);
        assert!(db.recent_versions(&[], 5).await.unwrap().is_empty());
    });
}
