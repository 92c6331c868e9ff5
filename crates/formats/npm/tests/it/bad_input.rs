use http::Method;
use serde_json::json;
use wharf_core::model::Scope;
use wharf_test_support::TestApp;

use crate::{error, good, manifest, publish_as, publish_body, tarball};

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "a blob was stored"
    );
    let repo = app.state.repository("npm", "main").await.unwrap();
    let packages = app
        .state
        .store
        .list_packages(repo.id, None, 10)
        .await
        .unwrap();
    assert!(packages.is_empty(), "{packages:?}");
}

#[tokio::test]
async fn bad_tarballs_are_400_and_store_nothing() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let cases = [
        (publish_body("a", "1.0.0", b"not gzip at all"), "not valid"),
        (
            publish_body("a", "1.0.0", &tarball(None)),
            "no package/package.json",
        ),
        (
            publish_body("a", "1.0.0", &tarball(Some(&manifest("b", "1.0.0")))),
            "holds b@1.0.0",
        ),
        (
            publish_body("a", "1.0.0", &tarball(Some(&manifest("a", "2.0.0")))),
            "holds a@2.0.0",
        ),
        (
            publish_body("a", "1.0.0", &tarball(Some(&json!({"name": "a"})))),
            "does not parse",
        ),
    ];
    for (body, expected) in cases {
        let r = publish_as(&app, &token, "a", &body).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(
            error(&r).contains(expected),
            "{} (wanted {expected})",
            error(&r)
        );
    }
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn bad_documents_are_400_and_store_nothing() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let mut no_attachments = good("a", "1.0.0");
    no_attachments
        .as_object_mut()
        .unwrap()
        .remove("_attachments");
    let mut two = good("a", "1.0.0");
    two["_attachments"]["a-1.0.1.tgz"] = two["_attachments"]["a-1.0.0.tgz"].clone();
    let mut bad_integrity = good("a", "1.0.0");
    bad_integrity["versions"]["1.0.0"]["dist"]["shasum"] = json!("0".repeat(40));
    let mut other_name = good("a", "1.0.0");
    other_name["versions"]["1.0.0"]["name"] = json!("b");
    let mut bad_version = good("a", "1.0.0");
    bad_version["versions"] = json!({"one": manifest("a", "one")});
    let mut bad_base64 = good("a", "1.0.0");
    bad_base64["_attachments"]["a-1.0.0.tgz"]["data"] = json!("@@@@");
    let cases = [
        (no_attachments, "_attachments"),
        (two, "exactly one tarball"),
        (bad_integrity, "digest mismatch"),
        (other_name, "must name a"),
        (bad_version, "invalid version"),
        (bad_base64, "base64"),
        (json!(["not", "an", "object"]), "not a valid packument"),
    ];
    for (body, expected) in cases {
        let r = publish_as(&app, &token, "a", &body).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(
            error(&r).contains(expected),
            "{} (wanted {expected})",
            error(&r)
        );
    }
    let r = app
        .send_as(
            &token,
            Method::PUT,
            "/npm/main/a",
            "{\"name\": \"a\", \"_attach",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn invalid_names_are_400() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    for name in [
        "Upper", ".dot", "_under", "a%20b", "@scope", "@Scope/x", "bang!",
    ] {
        let r = publish_as(&app, &token, name, &good(name, "1.0.0")).await;
        assert!(r.status == 400 || r.status == 404, "{name}: {}", r.text());
        assert!(!error(&r).is_empty(), "{name}");
    }
    let long = "a".repeat(215);
    let r = publish_as(&app, &token, &long, &good(&long, "1.0.0")).await;
    assert_eq!(r.status, 400);
    insta::assert_snapshot!(error(&r));
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn credentials_and_limits() {
    let app = crate::builder().max_upload(4096).build().await;
    let body = good("a", "1.0.0");
    let r = app
        .request(Method::PUT, "/npm/main/a", &[], body.to_string())
        .await;
    assert_eq!(r.status, 401);
    insta::assert_snapshot!(error(&r).replace(char::is_numeric, "N"));
    let reader = app.token("reader", Scope::Write, Scope::Read, None).await;
    let r = publish_as(&app, &reader, "a", &body).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let created = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &serde_json::json!({"name": "other", "format": "npm"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let elsewhere = app
        .token("other", Scope::Write, Scope::Write, Some("npm/other"))
        .await;
    let r = publish_as(&app, &elsewhere, "a", &body).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let big: Vec<u8> = (0..20_000u32).flat_map(u32::to_le_bytes).collect();
    let token = app.admin_token.clone();
    let r = publish_as(&app, &token, "a", &publish_body("a", "1.0.0", &big)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.json()["error"].is_string());
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn a_version_is_published_once() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    assert_eq!(
        publish_as(&app, &token, "a", &good("a", "1.0.0"))
            .await
            .status,
        201
    );
    let r = publish_as(&app, &token, "a", &good("a", "1.0.0")).await;
    assert_eq!(r.status, 403);
    insta::assert_snapshot!(error(&r));
    app.finish().await;
}

#[tokio::test]
async fn huge_manifests_readmes_and_documents_are_refused() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    // A manifest member of 2 MiB, a readme of 2 MiB.
    let mut body = good("a", "1.0.0");
    body["versions"]["1.0.0"]["description"] = json!("x".repeat(2 << 20));
    let r = publish_as(&app, &token, "a", &body).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(error(&r).contains("manifest"), "{}", error(&r));
    let mut body = good("a", "1.0.0");
    body["versions"]["1.0.0"]["readme"] = json!("x".repeat(2 << 20));
    let r = publish_as(&app, &token, "a", &body).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(error(&r).contains("readme"), "{}", error(&r));
    // 17 MiB of JSON outside the attachment: refused while it streams, whatever the upload
    // limit (10 GiB here).
    let mut body = good("a", "1.0.0");
    body["padding"] = json!("p".repeat(17 << 20));
    let r = publish_as(&app, &token, "a", &body).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_nothing_stored(&app).await;
    // A deprecation message is bounded too.
    assert_eq!(
        publish_as(&app, &token, "a", &good("a", "1.0.0"))
            .await
            .status,
        201
    );
    let mut doc = app.get("/npm/main/a").await.json();
    doc["versions"]["1.0.0"]["deprecated"] = json!("d".repeat(5000));
    let r = app.admin(Method::PUT, "/npm/main/a", doc.to_string()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    app.finish().await;
}
