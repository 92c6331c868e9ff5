use std::time::Duration;

use http::Method;
use serde_json::json;
use wharf_test_support::{Served, TestApp};

use crate::{good_crate, metadata, publish_body};

async fn publish(app: &TestApp, repo: &str, name: &str, vers: &str) {
    let token = app.admin_token.clone();
    let r = app
        .request(
            Method::PUT,
            &format!("/cargo/{repo}/api/v1/crates/new"),
            &[("authorization", &token)],
            publish_body(&metadata(name, vers), &good_crate(name, vers)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn create(app: &TestApp, body: serde_json::Value) {
    let r = app
        .admin_json(Method::POST, "/api/v1/repositories", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

fn versions(index: &str) -> Vec<String> {
    index
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["vers"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_proxy_serves_the_upstream_index_and_caches_crates_for_ever() {
    let upstream = crate::app().await;
    publish(&upstream, "main", "up", "1.0.0").await;
    let (mut served, seen) = Served::counted(upstream.router.clone()).await;
    let app = crate::builder().proxy_max_age(Duration::ZERO).build().await;
    create(&app, json!({"name": "crates", "format": "cargo", "kind": "proxy", "upstream": format!("{}/cargo/main/index/", served.url)})).await;

    let index = app.get("/cargo/crates/index/2/up").await;
    assert_eq!(index.status, 200, "{}", index.text());
    assert_eq!(
        index.text(),
        upstream.get("/cargo/main/index/2/up").await.text()
    );
    let config = app
        .request(
            Method::GET,
            "/cargo/crates/index/config.json",
            &[("host", "me")],
            "",
        )
        .await;
    assert_eq!(config.json()["dl"], "http://me/cargo/crates/api/v1/crates");

    let downloads = (0..8).map(|_| app.get("/cargo/crates/api/v1/crates/up/1.0.0/download"));
    for r in futures::future::join_all(downloads).await {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(&r.body[..], &good_crate("up", "1.0.0")[..]);
    }
    let upstream_downloads = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, p, _)| p.ends_with("/download"))
        .count();
    assert_eq!(
        upstream_downloads, 1,
        "concurrent downloads make one upstream request"
    );
    let cached = app
        .get("/api/v1/repositories/cargo/crates/packages/up/versions/1.0.0")
        .await;
    assert_eq!(cached.json()["files"][0]["name"], "up-1.0.0.crate");

    app.get("/cargo/crates/index/2/up").await;
    let revalidated = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, p, s)| p.ends_with("/2/up") && *s == 304)
        .count();
    assert!(
        revalidated >= 1,
        "expired documents are revalidated with their ETag: {:?}",
        seen.lock().unwrap()
    );

    served.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stale = app.get("/cargo/crates/index/2/up").await;
    assert_eq!(
        stale.status, 200,
        "a stale index is served while the upstream is down"
    );
    let from_cache = app
        .get("/cargo/crates/api/v1/crates/up/1.0.0/download")
        .await;
    assert_eq!(from_cache.status, 200, "cached crates need no upstream");
    let unknown = app.get("/cargo/crates/index/ne/ve/never-seen").await;
    assert_eq!(unknown.status, 502, "{}", unknown.text());
    assert!(
        unknown.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("upstream")
    );
    let read_only = app
        .request(
            Method::PUT,
            "/cargo/crates/api/v1/crates/new",
            &[("authorization", &app.admin_token.clone())],
            publish_body(&metadata("x", "1.0.0"), &good_crate("x", "1.0.0")),
        )
        .await;
    assert_eq!(read_only.status, 400);
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_proxy_refuses_a_crate_whose_checksum_does_not_match_the_index() {
    let upstream = crate::app().await;
    publish(&upstream, "main", "up", "1.0.0").await;
    let served =
        Served::tampering(upstream.router.clone(), |path| path.ends_with("/download")).await;
    let app = crate::app().await;
    create(&app, json!({"name": "crates", "format": "cargo", "kind": "proxy", "upstream": format!("{}/cargo/main/index", served.url)})).await;
    let r = app
        .get("/cargo/crates/api/v1/crates/up/1.0.0/download")
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "nothing cached"
    );
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_group_merges_members_with_the_dependency_confusion_guard() {
    let upstream = crate::app().await;
    for (name, vers) in [("shared", "1.0.0"), ("theirs", "1.0.0")] {
        publish(&upstream, "main", name, vers).await;
    }
    let served = Served::start(upstream.router.clone()).await;
    for guard in [true, false] {
        let app = crate::builder().confusion_guard(guard).build().await;
        create(&app, json!({"name": "remote", "format": "cargo", "kind": "proxy", "upstream": format!("{}/cargo/main/index/", served.url)})).await;
        create(&app, json!({"name": "all", "format": "cargo", "kind": "group", "members": ["main", "remote"]})).await;
        publish(&app, "all", "shared", "2.0.0").await;
        publish(&app, "main", "mine", "0.1.0").await;
        let shared = app.get("/cargo/all/index/sh/ar/shared").await;
        let expected = if guard {
            vec!["2.0.0"]
        } else {
            vec!["2.0.0", "1.0.0"]
        };
        assert_eq!(versions(&shared.text()), expected, "guard={guard}");
        assert_eq!(
            versions(&app.get("/cargo/all/index/th/ei/theirs").await.text()),
            vec!["1.0.0"]
        );
        assert_eq!(
            versions(&app.get("/cargo/all/index/mi/ne/mine").await.text()),
            vec!["0.1.0"]
        );
        assert_eq!(
            app.get("/cargo/all/api/v1/crates/theirs/1.0.0/download")
                .await
                .status,
            200
        );
        assert_eq!(
            app.get("/cargo/all/api/v1/crates/mine/0.1.0/download")
                .await
                .status,
            200
        );
        let hidden = app
            .get("/cargo/all/api/v1/crates/shared/1.0.0/download")
            .await
            .status;
        assert_eq!(hidden, if guard { 404 } else { 200 });
        let search = app.get("/cargo/all/api/v1/crates?q=i").await.json();
        let names: Vec<&str> = search["crates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"mine") && names.contains(&"theirs"),
            "{search}"
        );
        app.finish().await;
    }
    upstream.finish().await;
}

#[tokio::test]
async fn proxy_and_group_definitions_are_validated() {
    let app = crate::app().await;
    for (body, status, expected) in [
        (
            json!({"name": "p", "format": "cargo", "kind": "proxy", "upstream": "ftp://x"}),
            400,
            "http://",
        ),
        (
            json!({"name": "g", "format": "cargo", "kind": "group", "members": []}),
            400,
            "needs members",
        ),
        // A member that does not exist is a missing resource (404, as the API document says).
        (
            json!({"name": "g", "format": "cargo", "kind": "group", "members": ["nope"]}),
            404,
            "not a cargo repository",
        ),
        (
            json!({"name": "g", "format": "cargo", "kind": "group", "members": ["main", "main"]}),
            400,
            "twice",
        ),
    ] {
        let r = app
            .admin_json(Method::POST, "/api/v1/repositories", &body)
            .await;
        assert_eq!(r.status, status, "{body}");
        assert!(r.text().contains(expected), "{expected}: {}", r.text());
    }
    app.finish().await;
}

#[tokio::test]
async fn a_cargo_proxy_defaults_to_the_public_index() {
    let app = crate::app().await;
    let r = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "crates-io", "format": "cargo", "kind": "proxy"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["upstream"], "https://index.crates.io/");
    app.finish().await;
}
