use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use wharf_test_support::{Served, TestApp};

use crate::{good, publish_as};

async fn create(app: &TestApp, body: Value) {
    let r = app
        .admin_json(Method::POST, "/api/v1/repositories", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

/// A proxy `mirror` of `upstream` and a group `all` of `main` and `mirror`.
async fn mirror_and_group(app: &TestApp, upstream: String) {
    create(
        app,
        json!({"name": "mirror", "format": "npm", "kind": "proxy", "upstream": upstream}),
    )
    .await;
    create(
        app,
        json!({"name": "all", "format": "npm", "kind": "group", "members": ["main", "mirror"]}),
    )
    .await;
}

#[tokio::test]
async fn a_proxy_points_tarballs_at_itself_and_keeps_them() {
    let upstream = crate::app().await;
    let token = upstream.admin_token.clone();
    assert_eq!(
        publish_as(
            &upstream,
            &token,
            "@acme/util",
            &good("@acme/util", "1.0.0")
        )
        .await
        .status,
        201
    );
    let (mut served, seen) = Served::counted(upstream.router.clone()).await;
    let app = crate::builder()
        .proxy_max_age(Duration::from_mins(10))
        .build()
        .await;
    create(
        &app,
        json!({"name": "mirror", "format": "npm", "kind": "proxy",
                        "upstream": format!("{}/npm/main/", served.url)}),
    )
    .await;
    let doc = app
        .request(
            Method::GET,
            "/npm/mirror/@acme%2futil",
            &[("host", "me")],
            "",
        )
        .await
        .json();
    let tarball = "http://me/npm/mirror/@acme/util/-/util-1.0.0.tgz";
    assert_eq!(doc["versions"]["1.0.0"]["dist"]["tarball"], tarball);
    let first = app.get("/npm/mirror/@acme/util/-/util-1.0.0.tgz").await;
    assert_eq!(first.status, 200, "{}", first.text());
    let theirs = upstream.get("/npm/main/@acme/util/-/util-1.0.0.tgz").await;
    assert_eq!(first.body, theirs.body);
    served.stop();
    let again = app.get("/npm/mirror/@acme/util/-/util-1.0.0.tgz").await;
    assert_eq!(again.status, 200, "a fetched tarball is kept");
    let tags = app
        .get("/npm/mirror/-/package/@acme%2futil/dist-tags")
        .await
        .json();
    assert_eq!(tags, json!({"latest": "1.0.0"}));
    let fetched = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, path, _)| {
            std::path::Path::new(path)
                .extension()
                .is_some_and(|e| e == "tgz")
        })
        .count();
    assert_eq!(fetched, 1, "the tarball was fetched once");
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_proxy_refuses_a_tarball_that_does_not_match_its_integrity() {
    let upstream = crate::app().await;
    let token = upstream.admin_token.clone();
    publish_as(&upstream, &token, "a", &good("a", "1.0.0")).await;
    let served = Served::tampering(upstream.router.clone(), |path| {
        std::path::Path::new(path)
            .extension()
            .is_some_and(|e| e == "tgz")
    })
    .await;
    let app = crate::app().await;
    create(
        &app,
        json!({"name": "mirror", "format": "npm", "kind": "proxy",
                        "upstream": format!("{}/npm/main", served.url)}),
    )
    .await;
    let r = app.get("/npm/mirror/a/-/a-1.0.0.tgz").await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("integrity"));
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "nothing cached"
    );
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_group_merges_members_and_guards_hosted_names() {
    let upstream = crate::app().await;
    let token = upstream.admin_token.clone();
    for (name, version) in [("shared", "2.0.0"), ("theirs", "1.0.0")] {
        publish_as(&upstream, &token, name, &good(name, version)).await;
    }
    let served = Served::start(upstream.router.clone()).await;
    let app = crate::app().await;
    let token = app.admin_token.clone();
    publish_as(&app, &token, "shared", &good("shared", "1.0.0")).await;
    mirror_and_group(&app, format!("{}/npm/main/", served.url)).await;
    let shared = app.get("/npm/all/shared").await.json();
    let versions: Vec<&String> = shared["versions"].as_object().unwrap().keys().collect();
    assert_eq!(versions, ["1.0.0"], "the proxy's shared@2.0.0 is hidden");
    assert_eq!(
        shared["versions"]["1.0.0"]["dist"]["tarball"],
        "http://localhost/npm/all/shared/-/shared-1.0.0.tgz"
    );
    let theirs = app.get("/npm/all/theirs").await.json();
    assert_eq!(theirs["dist-tags"]["latest"], "1.0.0");
    assert_eq!(
        app.get("/npm/all/theirs/-/theirs-1.0.0.tgz").await.status,
        200
    );
    assert_eq!(
        app.get("/npm/all/shared/-/shared-2.0.0.tgz").await.status,
        404
    );
    let r = publish_as(&app, &token, "new-one", &good("new-one", "1.0.0")).await;
    assert_eq!(r.status, 201);
    let r = app
        .send_as(
            &token,
            Method::PUT,
            "/npm/all/new-one",
            good("new-one", "1.0.1").to_string(),
        )
        .await;
    assert_eq!(
        r.status, 201,
        "a publish to a group goes to its hosted member"
    );
    assert_eq!(
        app.get("/npm/main/new-one").await.json()["dist-tags"]["latest"],
        "1.0.1"
    );
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_proxy_signs_in_to_a_private_upstream_with_its_credentials() {
    let upstream = crate::app().await;
    let token = upstream.admin_token.clone();
    let r = upstream
        .admin_json(
            Method::PATCH,
            "/api/v1/repositories/npm/main",
            &json!({"anonymous_read": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        publish_as(&upstream, &token, "left-pad", &good("left-pad", "1.3.0"))
            .await
            .status,
        201
    );
    let served = Served::start(upstream.router.clone()).await;
    let upstream_url = format!("{}/npm/main/", served.url);
    let auth = |authorization: String| {
        vec![wharf_server::upstream::UpstreamAuth {
            format: "npm".into(),
            name: "private".into(),
            authorization,
            token_service: None,
        }]
    };
    let without = crate::app().await;
    let with_wrong = crate::builder()
        .upstream_auth(auth("Bearer wharf_wrong".into()))
        .build()
        .await;
    let with = crate::builder()
        .upstream_auth(auth(format!("Bearer {token}")))
        .build()
        .await;
    for app in [&without, &with_wrong, &with] {
        create(
            app,
            json!({"name": "private", "format": "npm", "kind": "proxy", "upstream": upstream_url}),
        )
        .await;
    }
    for app in [&without, &with_wrong] {
        let refused = app.get("/npm/private/left-pad").await;
        assert_eq!(refused.status, 502, "{}", refused.text());
    }
    let doc = with.get("/npm/private/left-pad").await;
    assert_eq!(doc.status, 200, "{}", doc.text());
    assert_eq!(doc.json()["dist-tags"]["latest"], "1.3.0");
    let tarball = with.get("/npm/private/left-pad/-/left-pad-1.3.0.tgz").await;
    assert_eq!(tarball.status, 200, "{}", tarball.text());
    for app in [without, with_wrong, with] {
        app.finish().await;
    }
    upstream.finish().await;
}

#[tokio::test]
async fn audits_are_forwarded_to_proxies_and_empty_for_hosted_packages() {
    use std::io::Write as _;
    let upstream = axum::Router::new().route(
        "/-/npm/v1/security/advisories/bulk",
        axum::routing::post(|headers: http::HeaderMap, body: axum::body::Bytes| async move {
            let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text)
                .unwrap();
            assert!(gzipped && text.contains("left-pad"), "passed through as sent: {text}");
            axum::Json(json!({"left-pad": [{"id": 7, "severity": "high", "vulnerable_versions": "<1.3.0"}]}))
        }),
    );
    let (mut served, seen) = Served::counted(upstream).await;
    let app = crate::app().await;
    mirror_and_group(&app, format!("{}/", served.url)).await;
    let mut body = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    body.write_all(br#"{"left-pad":["1.2.0"]}"#).unwrap();
    let body = body.finish().unwrap();
    let audit = |repo: &'static str| {
        let body = body.clone();
        let app = &app;
        async move {
            app.request(
                Method::POST,
                &format!("/npm/{repo}/-/npm/v1/security/advisories/bulk"),
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                ],
                body,
            )
            .await
        }
    };
    let advisories =
        json!({"left-pad": [{"id": 7, "severity": "high", "vulnerable_versions": "<1.3.0"}]});
    for repo in ["mirror", "all"] {
        let r = audit(repo).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), advisories, "{repo}");
    }
    assert_eq!(
        audit("main").await.json(),
        json!({}),
        "hosted packages have no advisories"
    );
    assert_eq!(seen.lock().unwrap().len(), 2, "hosted audits stay local");
    served.stop();
    let down = audit("mirror").await;
    assert_eq!(
        (down.status.as_u16(), down.json()),
        (200, json!({})),
        "an install goes on"
    );
    app.finish().await;
}

#[tokio::test]
async fn search_reaches_the_upstream_of_proxies_and_groups() {
    let upstream = crate::app().await;
    let theirs = upstream.admin_token.clone();
    let r = publish_as(&upstream, &theirs, "left-pad", &good("left-pad", "1.3.0")).await;
    assert_eq!(r.status, 201);
    let mut served = Served::start(upstream.router.clone()).await;
    let app = crate::app().await;
    mirror_and_group(&app, format!("{}/npm/main/", served.url)).await;
    let ours = app.admin_token.clone();
    let r = publish_as(&app, &ours, "@acme/util", &good("@acme/util", "1.0.0")).await;
    assert_eq!(r.status, 201);
    let names = |body: &Value| -> Vec<String> {
        body["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["package"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mirror = app.get("/npm/mirror/-/v1/search?text=left").await;
    assert_eq!(mirror.status, 200, "{}", mirror.text());
    assert_eq!(names(&mirror.json()), ["left-pad"]);
    assert_eq!(mirror.json()["total"], 1);
    let group = app.get("/npm/all/-/v1/search?text=acme").await.json();
    assert_eq!(names(&group), ["@acme/util"], "hosted hits first");
    let group = app.get("/npm/all/-/v1/search?text=left").await.json();
    assert_eq!(
        names(&group),
        ["left-pad"],
        "completed from the proxy's upstream"
    );
    served.stop();
    let down = app.get("/npm/mirror/-/v1/search?text=left").await;
    assert_eq!(down.status, 200);
    assert_eq!(
        names(&down.json()),
        Vec::<String>::new(),
        "an upstream that fails adds nothing"
    );
    app.finish().await;
    upstream.finish().await;
}
