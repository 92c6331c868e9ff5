use http::Method;
use serde_json::Value;
use serde_json::json;
use sha2::Digest as _;
use wharf_test_support::TestApp;

use crate::{good, publish_as};

pub(crate) async fn published(app: &TestApp) {
    let token = app.admin_token.clone();
    for (name, version) in [
        ("@acme/util", "1.0.0"),
        ("@acme/util", "1.2.0"),
        ("left-pad", "1.3.0"),
    ] {
        let r = publish_as(app, &token, name, &good(name, version)).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

#[tokio::test]
async fn packages_versions_and_tarballs_in_the_originals_shapes() {
    let app = crate::app().await;
    published(&app).await;
    let host = [("host", "registry.test")];
    let latest = app
        .request(Method::GET, "/pantry/packages/@acme/util", &host, "")
        .await;
    assert_eq!(latest.status, 200, "{}", latest.text());
    assert_eq!(latest.header("access-control-allow-origin"), Some("*"));
    let mut doc = latest.json();
    let checksum = doc["checksum"].as_str().unwrap().to_owned();
    doc["checksum"] = json!("[sha256]");
    doc["publishedAt"] = json!("[time]");
    insta::assert_json_snapshot!("pantry_metadata", doc);
    let one = app.get("/pantry/packages/@acme/util/1.0.0").await.json();
    assert_eq!(one["version"], "1.0.0");
    let versions = app.get("/pantry/packages/@acme/util/versions").await.json();
    assert_eq!(versions, json!({"versions": ["1.2.0", "1.0.0"]}));
    let unscoped = app.get("/pantry/packages/left-pad/versions").await.json();
    assert_eq!(
        unscoped,
        json!({"versions": ["1.3.0"]}),
        "the fixed route rule"
    );

    let tgz = app.get("/pantry/packages/@acme/util/1.2.0/tarball").await;
    assert_eq!(tgz.status, 200);
    assert_eq!(tgz.header("content-type"), Some("application/gzip"));
    assert_eq!(
        tgz.header("content-disposition"),
        Some("attachment; filename=\"acme-util-1.2.0.tgz\"")
    );
    let npm_tgz = app.get("/npm/main/@acme/util/-/util-1.2.0.tgz").await;
    assert_eq!(tgz.body, npm_tgz.body);
    assert_eq!(
        checksum,
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&tgz.body)))
    );

    for (path, error) in [
        ("/pantry/packages/nothing", "Package not found"),
        (
            "/pantry/packages/left-pad/9.9.9",
            "Package version not found",
        ),
        ("/pantry/packages/left-pad/1.3.0/other", "Not found"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json(), json!({"error": error}), "{path}");
    }
    let options = app
        .request(Method::OPTIONS, "/pantry/packages/left-pad", &[], "")
        .await;
    assert_eq!(options.status, 200);
    assert_eq!(
        options.header("access-control-allow-methods"),
        Some("GET, POST, OPTIONS")
    );
    let health = app.get("/pantry/health").await.json();
    assert_eq!(health["status"], "ok");
    app.finish().await;
}

#[tokio::test]
async fn search_and_analytics_count_tarball_downloads() {
    let app = crate::app().await;
    published(&app).await;
    for _ in 0..3 {
        app.get("/pantry/packages/left-pad/1.3.0/tarball").await;
    }
    app.get("/npm/main/@acme/util/-/util-1.0.0.tgz").await;
    app.request(
        Method::HEAD,
        "/pantry/packages/left-pad/1.3.0/tarball",
        &[],
        "",
    )
    .await;
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();

    let top = app.get("/pantry/analytics/top?limit=5").await.json();
    assert_eq!(
        top,
        json!({"packages": [{"name": "left-pad", "downloads": 3}, {"name": "@acme/util", "downloads": 1}]})
    );
    assert_eq!(app.get("/pantry/analytics").await.json(), top);
    let stats = app.get("/pantry/analytics/left-pad").await.json();
    assert_eq!(stats["totalDownloads"], 3);
    assert_eq!(stats["weeklyDownloads"], 3);
    assert_eq!(stats["monthlyDownloads"], 3);
    assert_eq!(stats["versionDownloads"], json!({"1.3.0": 3}));
    let timeline = app
        .get("/pantry/analytics/@acme/util/timeline?days=3")
        .await
        .json();
    assert_eq!(timeline["packageName"], "@acme/util");
    let counts: Vec<u64> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 0, 1]);
    let none = app.get("/pantry/analytics/nothing").await;
    assert_eq!(none.status, 404);
    assert_eq!(
        none.json(),
        json!({"error": "No analytics data for this package"})
    );

    let found = app.get("/pantry/search?q=PAD").await.json();
    assert_eq!(found["results"][0]["name"], "left-pad");
    assert_eq!(found["results"][0]["downloads"], 3);
    let all = app.get("/pantry/search?q=&limit=1").await.json();
    assert_eq!(all["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        all["results"][0]["name"], "left-pad",
        "most downloaded first"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_compat_root_serves_pantry_at_the_root() {
    let app = crate::builder().compat_root("pantry").build().await;
    published(&app).await;
    let r = app.get("/packages/left-pad").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["tarballUrl"]
            .as_str()
            .unwrap()
            .ends_with("/packages/left-pad/1.3.0/tarball")
    );
    assert_eq!(app.get("/health").await.json()["status"], "ok");
    app.finish().await;
}

/// A multipart body with the given text fields and an optional `tarball` file.
fn form(fields: &[(&str, &str)], tarball: Option<&[u8]>) -> Vec<u8> {
    let files: Vec<(&str, &[u8])> = tarball.map(|t| ("tarball", t)).into_iter().collect();
    crate::multipart(fields, &files)
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    crate::pantry_post(app, "/pantry/publish", token, content_type, body).await
}

#[tokio::test]
async fn publish_takes_the_originals_multipart_and_json_bodies() {
    let app = crate::builder().max_upload(64 << 10).build().await;
    let token = app.admin_token.clone();
    let multipart = "multipart/form-data; boundary=b0undary";
    let tgz = crate::tarball(Some(&crate::manifest("my-package", "1.0.0")));
    let metadata = r#"{"name":"my-package","version":"1.0.0"}"#;
    let (status, body) = post(
        &app,
        Some(&token),
        multipart,
        form(&[("metadata", metadata)], Some(&tgz)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "message": "Published my-package@1.0.0"})
    );
    let packument = app.get("/npm/main/my-package").await.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    assert_eq!(
        packument["versions"]["1.0.0"]["description"], "my-package things",
        "the tarball's package.json"
    );

    let tgz2 = crate::tarball(Some(&crate::manifest("my-package", "1.1.0")));
    let json_body = json!({"metadata": {"name": "my-package", "version": "1.1.0"},
                           "tarball": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &tgz2)});
    let (status, body) = post(
        &app,
        Some(&token),
        "application/json",
        json_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let meta = app.get("/pantry/packages/my-package").await.json();
    assert_eq!(meta["version"], "1.1.0");

    app.finish().await;
}

/// A publish Pantry refuses, and how.
struct Refusal {
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    error: &'static str,
}

#[tokio::test]
async fn bad_publishes_get_the_originals_answers_and_store_nothing() {
    let app = crate::builder().max_upload(64 << 10).build().await;
    let token = app.admin_token.clone();
    let multipart = "multipart/form-data; boundary=b0undary";
    let tgz = crate::tarball(Some(&crate::manifest("my-package", "1.0.0")));
    let metadata = r#"{"name":"my-package","version":"1.0.0"}"#;
    let good = || form(&[("metadata", metadata)], Some(&tgz));
    let big = vec![7u8; 70 << 10];
    let (status, _) = post(&app, Some(&token), multipart, good()).await;
    assert_eq!(status, 201);
    let blobs = app.state.store.blob_totals().await.unwrap().0;
    let refusal = |token: Option<&str>, content_type, body, status, error| Refusal {
        token: token.map(str::to_owned),
        content_type,
        body,
        status,
        error,
    };
    let cases = [
        refusal(
            Some(&token),
            multipart,
            good(),
            409,
            "Version already exists",
        ),
        refusal(None, multipart, good(), 401, "Authorization required"),
        refusal(Some("wharf_0000"), multipart, good(), 401, "Invalid token"),
        refusal(
            Some(&token),
            "text/plain",
            b"x".to_vec(),
            415,
            "Unsupported content type",
        ),
        refusal(
            Some(&token),
            multipart,
            form(&[("metadata", metadata)], None),
            400,
            "Missing tarball",
        ),
        refusal(
            Some(&token),
            multipart,
            form(&[], Some(&tgz)),
            400,
            "Missing metadata",
        ),
        refusal(
            Some(&token),
            "application/json",
            b"{}".to_vec(),
            400,
            "Missing metadata or tarball",
        ),
        refusal(
            Some(&token),
            multipart,
            form(
                &[("metadata", r#"{"name":"other","version":"2.0.0"}"#)],
                Some(&tgz),
            ),
            400,
            "the tarball holds my-package@1.0.0",
        ),
        refusal(
            Some(&token),
            multipart,
            form(
                &[("metadata", r#"{"name":"my-package","version":"3.0.0"}"#)],
                Some(&big),
            ),
            413,
            "",
        ),
    ];
    for case in cases {
        let (got, answer) = post(&app, case.token.as_deref(), case.content_type, case.body).await;
        assert_eq!(got, case.status, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(case.error),
            "{answer} (wanted {})",
            case.error
        );
    }
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        blobs,
        "nothing more stored"
    );
    app.finish().await;
}
