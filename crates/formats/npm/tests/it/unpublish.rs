//! What unpublishing leaves: an update of the packument applies all of it or nothing (one
//! that would remove every version is refused, as npm unpublishes a package with `DELETE`),
//! dist-tags never name a version that is gone, and an unpublished version never comes back
//! with other content.

use http::Method;
use serde_json::json;
use wharf_test_support::TestApp;

use crate::{error, good, manifest, publish_as, publish_body, tarball};

async fn publish_two(app: &TestApp) {
    for v in ["1.0.0", "1.1.0"] {
        let r = publish_as(app, &app.admin_token, "revtest", &good("revtest", v)).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

#[tokio::test]
async fn an_update_removing_every_version_is_refused_and_changes_nothing() {
    let app = crate::app().await;
    publish_two(&app).await;
    let before = app.get("/npm/main/revtest").await.json();
    let r = app
        .admin(
            Method::PUT,
            "/npm/main/revtest/-rev/3-abc",
            json!({"versions": {}, "dist-tags": {}}).to_string(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(error(&r).contains("unpublish the package"), "{}", r.text());
    let after = app.get("/npm/main/revtest").await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["versions"], before["versions"]);
    assert_eq!(after.json()["dist-tags"], json!({"latest": "1.1.0"}));
    app.finish().await;
}

#[tokio::test]
async fn removing_the_latest_version_moves_latest_to_the_highest_left() {
    let app = crate::app().await;
    publish_two(&app).await;
    let mut doc = app.get("/npm/main/revtest").await.json();
    doc["versions"].as_object_mut().unwrap().remove("1.1.0");
    // A client that leaves the tags as they were: latest would name a removed version.
    let r = app
        .admin(Method::PUT, "/npm/main/revtest/-rev/2-x", doc.to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let after = app.get("/npm/main/revtest").await.json();
    assert_eq!(after["dist-tags"], json!({"latest": "1.0.0"}));
    app.finish().await;
}

#[tokio::test]
async fn an_unpublished_version_never_comes_back_with_other_content() {
    let app = crate::app().await;
    publish_two(&app).await;
    let mut doc = app.get("/npm/main/revtest").await.json();
    doc["versions"].as_object_mut().unwrap().remove("1.1.0");
    doc["dist-tags"] = json!({"latest": "1.0.0"});
    let r = app
        .admin(Method::PUT, "/npm/main/revtest/-rev/2-x", doc.to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut other = manifest("revtest", "1.1.0");
    other["description"] = json!("not what it was");
    let r = publish_as(
        &app,
        &app.admin_token,
        "revtest",
        &publish_body("revtest", "1.1.0", &tarball(Some(&other))),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(error(&r).contains("previously published"), "{}", r.text());
    // The same goes for a whole package unpublished with --force.
    let r = app
        .admin(Method::DELETE, "/npm/main/revtest/-rev/3-x", "")
        .await;
    assert_eq!(r.status, 200);
    let mut other = manifest("revtest", "1.0.0");
    other["description"] = json!("someone else's");
    let r = publish_as(
        &app,
        &app.admin_token,
        "revtest",
        &publish_body("revtest", "1.0.0", &tarball(Some(&other))),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    // A new version is fine.
    let r = publish_as(&app, &app.admin_token, "revtest", &good("revtest", "2.0.0")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    app.finish().await;
}

#[tokio::test]
async fn dist_tag_names_are_checked_everywhere() {
    let app = crate::app().await;
    publish_two(&app).await;
    let long = "t".repeat(10_000);
    let r = app
        .admin(
            Method::PUT,
            &format!("/npm/main/-/package/revtest/dist-tags/{long}"),
            "\"1.0.0\"",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let mut body = good("revtest", "1.2.0");
    body["dist-tags"] = json!({"latest": "1.2.0", long.clone(): "1.2.0"});
    let r = publish_as(&app, &app.admin_token, "revtest", &body).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let mut doc = app.get("/npm/main/revtest").await.json();
    doc["dist-tags"][&long] = json!("1.0.0");
    let r = app
        .admin(Method::PUT, "/npm/main/revtest", doc.to_string())
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let tags = app
        .get("/npm/main/-/package/revtest/dist-tags")
        .await
        .json();
    assert_eq!(tags, json!({"latest": "1.1.0"}));
    app.finish().await;
}

#[tokio::test]
async fn deleting_through_the_api_keeps_dist_tags_on_versions_that_exist() {
    let app = crate::app().await;
    publish_two(&app).await;
    let tag = "/npm/main/-/package/revtest/dist-tags/stable";
    assert_eq!(app.admin(Method::PUT, tag, "\"1.1.0\"").await.status, 200);
    let versions = "/api/v1/repositories/npm/main/packages/revtest/versions";
    let r = app
        .admin(Method::DELETE, &format!("{versions}/1.1.0"), "")
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let tags = app
        .get("/npm/main/-/package/revtest/dist-tags")
        .await
        .json();
    assert_eq!(tags, json!({"latest": "1.0.0"}));
    let doc = app.get("/npm/main/revtest").await.json();
    assert_eq!(doc["dist-tags"], json!({"latest": "1.0.0"}));
    // A file deleted alone (its version goes with it) is the same.
    let r = publish_as(&app, &app.admin_token, "revtest", &good("revtest", "1.2.0")).await;
    assert_eq!(r.status, 201);
    let r = app
        .admin(
            Method::DELETE,
            &format!("{versions}/1.2.0/files/revtest-1.2.0.tgz"),
            "",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let tags = app
        .get("/npm/main/-/package/revtest/dist-tags")
        .await
        .json();
    assert_eq!(tags, json!({"latest": "1.0.0"}));
    app.finish().await;
}
