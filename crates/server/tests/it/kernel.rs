use http::Method;

#[tokio::test]
async fn health_and_readiness() {
    let app = crate::app().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status.as_u16(), health.text().as_str()),
        (200, "ok")
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json(),
        serde_json::json!({"database": "ok", "storage": "ok"})
    );
    assert!(
        ready.header("x-request-id").is_some(),
        "every response carries a request id"
    );
    app.finish().await;
}

#[tokio::test]
async fn metrics_count_requests_bytes_and_blobs() {
    let app = crate::app().await;
    app.admin(Method::PUT, "/generic/main/p/1/f", "12345").await;
    app.get("/generic/main/p/1/f").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    for needle in [
        "wharf_http_requests_total{route=\"/generic/{*path}\",method=\"PUT\",status=\"201\"}",
        "wharf_http_request_duration_seconds_bucket",
        "wharf_blob_bytes_stored_total",
        "wharf_blob_bytes_served_total",
        "wharf_uploads_in_flight",
        "wharf_blobs_stored 1",
        "wharf_blobs_stored_bytes 5",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    app.finish().await;
}

#[tokio::test]
async fn protocol_requests_are_counted_by_operation() {
    let app = crate::app().await;
    app.admin(Method::PUT, "/generic/main/p/1/f", "12345").await;
    app.get("/generic/main/p/1/f").await;
    app.get("/cargo/main/index/config.json").await;
    app.get("/cargo/main/index/3/a/abc").await;
    app.get("/npm/main/left-pad").await;
    app.get("/pypi/main/simple/").await;
    app.get("/v2/main/team/app/tags/list").await;
    let text = app.get("/metrics").await.text();
    for needle in [
        r#"wharf_requests_total{format="generic",operation="generic.upload",status="201"}"#,
        r#"wharf_requests_total{format="generic",operation="generic.download",status="200"}"#,
        r#"wharf_requests_total{format="cargo",operation="cargo.config",status="200"}"#,
        r#"wharf_requests_total{format="cargo",operation="cargo.index",status="404"}"#,
        r#"wharf_requests_total{format="npm",operation="npm.packument",status="404"}"#,
        r#"wharf_requests_total{format="pypi",operation="pypi.index",status="200"}"#,
        r#"wharf_requests_total{format="oci",operation="oci.tags",status="404"}"#,
        r#"wharf_request_duration_seconds_bucket{format="cargo",operation="cargo.index","#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_openapi_document_is_stable_and_docs_are_served_offline() {
    let app = crate::app().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    let json = doc.json();
    assert_eq!(json["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", json);
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("swagger"), "{}", docs.text());
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        bundle.status, 200,
        "the UI's script is served from the binary"
    );
    app.finish().await;
}

#[tokio::test]
async fn unknown_endpoints_are_404_in_the_api_shape() {
    let app = crate::app().await;
    let r = app.get("/no/such/thing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = app.get("/api/v1/nothing").await;
    assert_eq!(r.status, 404);
    app.finish().await;
}
