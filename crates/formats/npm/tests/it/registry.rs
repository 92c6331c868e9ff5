use http::Method;
use serde_json::{Value, json};
use wharf_test_support::TestApp;

use crate::{good, publish_as};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// Times and revisions change from run to run.
fn stable(mut doc: Value) -> Value {
    if let Some(time) = doc.get_mut("time").and_then(Value::as_object_mut) {
        for value in time.values_mut() {
            *value = json!("[time]");
        }
    }
    for key in ["modified", "_rev", "date", "created", "updated"] {
        if doc.get(key).is_some() {
            doc[key] = json!(format!("[{key}]"));
        }
    }
    doc
}

async fn published(app: &TestApp) {
    let token = app.admin_token.clone();
    for (name, version) in [
        ("@acme/util", "1.0.0"),
        ("@acme/util", "1.1.0"),
        ("greeter", "2.0.0"),
    ] {
        let r = publish_as(app, &token, name, &good(name, version)).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

#[tokio::test]
async fn packuments_full_and_abbreviated() {
    let app = crate::app().await;
    published(&app).await;
    let host = [("host", "registry.test")];
    let full = app
        .request(Method::GET, "/npm/main/@acme%2futil", &host, "")
        .await;
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-type"), Some("application/json"));
    insta::assert_json_snapshot!("full", stable(full.json()));
    let abbreviated = app
        .request(
            Method::GET,
            "/npm/main/@acme/util",
            &[host[0], ("accept", ABBREVIATED)],
            "",
        )
        .await;
    assert_eq!(abbreviated.header("content-type"), Some(ABBREVIATED));
    insta::assert_json_snapshot!("abbreviated", stable(abbreviated.json()));
    let etag = abbreviated.header("etag").unwrap().to_owned();
    let again = app
        .request(
            Method::GET,
            "/npm/main/@acme/util",
            &[host[0], ("accept", ABBREVIATED), ("if-none-match", &etag)],
            "",
        )
        .await;
    assert_eq!(again.status, 304);
    let gzipped = app
        .request(
            Method::GET,
            "/npm/main/@acme/util",
            &[
                host[0],
                ("accept", ABBREVIATED),
                ("accept-encoding", "gzip"),
            ],
            "",
        )
        .await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_ne!(gzipped.header("etag"), Some(etag.as_str()));
    let manifest = app
        .request(Method::GET, "/npm/main/@acme/util/latest", &host, "")
        .await;
    assert_eq!(manifest.json()["version"], "1.1.0");
    assert_eq!(
        manifest.json()["dist"]["tarball"],
        "http://registry.test/npm/main/@acme/util/-/util-1.1.0.tgz"
    );
    let tgz = app.get("/npm/main/@acme/util/-/util-1.1.0.tgz").await;
    assert_eq!(tgz.status, 200);
    assert_eq!(&tgz.body[..2], &[0x1f, 0x8b]);
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();
    let downloads = app
        .get("/api/v1/repositories/npm/main/packages/@acme%2futil/downloads")
        .await
        .json();
    assert_eq!(downloads["versions"], json!({"1.1.0": 1}), "{downloads}");
    assert_eq!(
        app.get("/npm/main/@acme/util/-/util-9.0.0.tgz")
            .await
            .status,
        404
    );
    let missing = app.get("/npm/main/nothing-here").await;
    assert_eq!(missing.status, 404);
    insta::assert_json_snapshot!("missing", missing.json());
    app.finish().await;
}

#[tokio::test]
async fn deprecate_dist_tags_and_unpublish() {
    let app = crate::app().await;
    published(&app).await;
    let mut doc = app.get("/npm/main/@acme/util").await.json();
    doc["versions"]["1.0.0"]["deprecated"] = json!("use 1.1");
    let r = app
        .admin(Method::PUT, "/npm/main/@acme%2futil", doc.to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let abbreviated = app
        .request(
            Method::GET,
            "/npm/main/@acme/util",
            &[("accept", ABBREVIATED)],
            "",
        )
        .await
        .json();
    assert_eq!(abbreviated["versions"]["1.0.0"]["deprecated"], "use 1.1");
    assert!(abbreviated["versions"]["1.1.0"].get("deprecated").is_none());

    let tag = "/npm/main/-/package/@acme%2futil/dist-tags/stable";
    assert_eq!(app.admin(Method::PUT, tag, "\"1.0.0\"").await.status, 200);
    let r = app
        .admin(
            Method::PUT,
            "/npm/main/-/package/@acme%2futil/dist-tags/1.x",
            "\"1.0.0\"",
        )
        .await;
    assert_eq!(r.status, 400, "a range as a tag");
    let r = app.admin(Method::PUT, tag, "\"9.9.9\"").await;
    assert_eq!(r.status, 404);
    let tags = app
        .get("/npm/main/-/package/@acme%2futil/dist-tags")
        .await
        .json();
    assert_eq!(tags, json!({"latest": "1.1.0", "stable": "1.0.0"}));
    assert_eq!(app.admin(Method::DELETE, tag, "").await.status, 200);
    let r = app
        .admin(
            Method::DELETE,
            "/npm/main/-/package/@acme%2futil/dist-tags/latest",
            "",
        )
        .await;
    assert_eq!(r.status, 400);

    let mut doc = app.get("/npm/main/@acme/util").await.json();
    doc["versions"].as_object_mut().unwrap().remove("1.1.0");
    doc["dist-tags"] = json!({"latest": "1.0.0"});
    let r = app
        .admin(
            Method::PUT,
            "/npm/main/@acme%2futil/-rev/1-1",
            doc.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let after = app.get("/npm/main/@acme/util").await.json();
    assert_eq!(after["dist-tags"], json!({"latest": "1.0.0"}));
    assert!(after["versions"].get("1.1.0").is_none());
    assert_eq!(
        app.get("/npm/main/@acme/util/-/util-1.1.0.tgz")
            .await
            .status,
        404
    );

    let r = app
        .admin(Method::DELETE, "/npm/main/@acme%2futil/-rev/2-1", "")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/npm/main/@acme/util").await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn search_whoami_ping_and_audit() {
    let app = crate::app().await;
    published(&app).await;
    let found = app
        .get("/npm/main/-/v1/search?text=greeter&size=5")
        .await
        .json();
    assert_eq!(found["total"], 1);
    insta::assert_json_snapshot!("search", stable_search(found));
    let found = app.get("/npm/main/-/v1/search?text=util").await.json();
    assert_eq!(found["objects"][0]["package"]["name"], "@acme/util");
    assert_eq!(app.get("/npm/main/-/ping").await.json(), json!({}));
    let me = app
        .admin(Method::GET, "/npm/main/-/whoami", "")
        .await
        .json();
    assert_eq!(me, json!({"username": "admin"}));
    assert_eq!(app.get("/npm/main/-/whoami").await.status, 401);
    let bulk = app
        .request(
            Method::POST,
            "/npm/main/-/npm/v1/security/advisories/bulk",
            &[],
            "{}",
        )
        .await;
    assert_eq!(bulk.json(), json!({}));
    app.finish().await;
}

fn stable_search(mut found: Value) -> Value {
    found["time"] = json!("[time]");
    for object in found["objects"].as_array_mut().unwrap() {
        object["package"]["date"] = json!("[date]");
    }
    found
}

#[tokio::test]
async fn logout_revokes_the_token_in_its_path() {
    // The token travels in the path (`npm logout`); scripts/check-logs proves no log line of
    // the run holds it.
    let app = crate::app().await;
    let token = app
        .token(
            "leaving",
            wharf_core::model::Scope::Write,
            wharf_core::model::Scope::Write,
            None,
        )
        .await;
    let whoami = app
        .send_as(&token, Method::GET, "/npm/main/-/whoami", "")
        .await;
    assert_eq!(whoami.status, 200);
    let r = app
        .send_as(
            &token,
            Method::DELETE,
            &format!("/npm/main/-/user/token/{token}"),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let whoami = app
        .send_as(&token, Method::GET, "/npm/main/-/whoami", "")
        .await;
    assert_eq!(whoami.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn the_latest_publish_lists_the_package_for_search() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let mut body = good("pad", "1.0.0");
    body["versions"]["1.0.0"]["keywords"] = json!(["Strings", "padding"]);
    body["versions"]["1.0.0"]["description"] = json!("Pads  strings");
    assert_eq!(publish_as(&app, &token, "pad", &body).await.status, 201);
    assert_eq!(
        app.listing("npm/main", "pad").await,
        ("Pads strings".to_owned(), "strings padding".to_owned())
    );
    app.finish().await;
}
