use http::Method;
use serde_json::{Value, json};
use wharf_test_support::TestApp;

use crate::pantry::published;

async fn report(app: &TestApp, event: Value) -> (u16, Value) {
    let r = app
        .request(
            Method::POST,
            "/pantry/analytics/events",
            &[("content-type", "application/json")],
            event.to_string(),
        )
        .await;
    (r.status.as_u16(), r.json())
}

/// A category report with its dates checked and taken out.
async fn category(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut body = r.json();
    for key in ["start_date", "end_date"] {
        assert_eq!(body[key].as_str().unwrap().len(), 10, "{body}");
        body[key] = json!("<date>");
    }
    body
}

#[tokio::test]
async fn category_reports_count_downloads_and_reported_events() {
    let app = crate::app().await;
    published(&app).await;
    for _ in 0..2 {
        app.get("/pantry/packages/left-pad/1.3.0/tarball").await;
    }
    app.get("/npm/main/@acme/util/-/util-1.0.0.tgz").await;
    for event in [
        json!({"packageName": "left-pad", "category": "install", "version": "1.3.0"}),
        json!({"packageName": "wget", "category": "install"}),
        json!({"packageName": "wget", "category": "install_on_request"}),
        json!({"packageName": "wget", "category": "install_on_request", "version": "1.21"}),
        json!({"packageName": "curl", "category": "build_error"}),
    ] {
        assert_eq!(report(&app, event).await, (200, json!({"success": true})));
    }
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();

    let installs = category(&app, "/pantry/analytics/install/30d").await;
    insta::assert_json_snapshot!("install_30d", installs);
    let stats = app.get("/pantry/analytics/left-pad").await.json();
    assert_eq!(
        stats["totalDownloads"], 3,
        "a reported install of a held version is a download"
    );

    let json_form = app
        .get("/pantry/api/analytics/install-on-request/90d.json")
        .await;
    assert_eq!(
        json_form.header("cache-control"),
        Some("public, max-age=3600")
    );
    let mut on_request = json_form.json();
    on_request["start_date"] = json!("<date>");
    on_request["end_date"] = json!("<date>");
    assert_eq!(
        on_request,
        json!({"category": "install_on_request", "total_items": 1, "start_date": "<date>",
               "end_date": "<date>", "total_count": 2,
               "items": [{"number": 1, "formula": "wget", "count": "2", "percent": "100.00"}]})
    );
    let errors = category(&app, "/pantry/analytics/build-error/365d").await;
    assert_eq!(errors["items"][0]["formula"], "curl");
    assert_eq!(errors["total_count"], 1);
    let recent = category(&app, "/pantry/analytics/build-error/30d").await;
    assert_eq!(
        recent["total_count"], 1,
        "reported today, inside every period"
    );
    assert_eq!(
        app.get("/pantry/api/analytics/install/7d.json")
            .await
            .status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_events_are_refused_with_the_originals_shape() {
    let app = crate::app().await;
    for (event, error) in [
        (
            json!({"category": "install"}),
            "packageName must be a package name",
        ),
        (
            json!({"packageName": "", "category": "install"}),
            "packageName must be a package name",
        ),
        (
            json!({"packageName": "wget", "category": "upgrade"}),
            "category must be install, install_on_request or build_error",
        ),
        (
            json!({"packageName": "wget", "category": "install", "version": 3}),
            "version must be a string",
        ),
        (json!("not an object"), "packageName must be a package name"),
    ] {
        assert_eq!(report(&app, event).await, (400, json!({"error": error})));
    }
    let broken = app
        .request(Method::POST, "/pantry/analytics/events", &[], "{")
        .await;
    assert_eq!(broken.status, 400);
    assert!(
        broken.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the event is not JSON")
    );
    let options = app
        .request(Method::OPTIONS, "/pantry/analytics/events", &[], "")
        .await;
    assert_eq!(options.status, 200);
    assert_eq!(options.header("access-control-allow-origin"), Some("*"));
    let get = app.get("/pantry/analytics/events").await;
    assert_eq!(get.status, 404);
    app.finish().await;
}
