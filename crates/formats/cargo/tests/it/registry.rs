use http::Method;
use serde_json::json;
use wharf_core::model::Scope;
use wharf_test_support::TestApp;

use crate::{good_crate, metadata, publish_body};

const NEW: &str = "/cargo/main/api/v1/crates/new";

async fn publish(
    app: &TestApp,
    token: &str,
    meta: &serde_json::Value,
    crate_bytes: &[u8],
) -> wharf_test_support::TestResponse {
    app.request(
        Method::PUT,
        NEW,
        &[("authorization", token)],
        publish_body(meta, crate_bytes),
    )
    .await
}

#[tokio::test]
async fn config_json_points_cargo_at_this_repository() {
    let app = crate::app().await;
    let r = app
        .request(
            Method::GET,
            "/cargo/main/index/config.json",
            &[("host", "registry.test:8080")],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"dl": "http://registry.test:8080/cargo/main/api/v1/crates", "api": "http://registry.test:8080/cargo/main", "auth-required": false})
    );
    app.finish().await;
}

#[tokio::test]
async fn publish_index_download_round_trip() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let mut meta = metadata("demo_crate", "0.1.0");
    meta["deps"] = json!([{"name": "other", "version_req": "^1.2", "features": ["x"], "optional": true,
        "default_features": false, "target": "cfg(unix)", "kind": "normal", "registry": null, "explicit_name_in_toml": "renamed"}]);
    meta["features"] = json!({"default": [], "extra": ["dep:renamed"]});
    meta["rust_version"] = json!("1.70");
    let crate_bytes = good_crate("demo_crate", "0.1.0");
    let r = publish(&app, &token, &meta, &crate_bytes).await;
    assert_eq!(r.status, 200, "{}", r.text());
    insta::assert_json_snapshot!(r.json());
    publish(
        &app,
        &token,
        &metadata("demo_crate", "0.2.0"),
        &good_crate("demo_crate", "0.2.0"),
    )
    .await;

    let index = app.get("/cargo/main/index/de/mo/demo_crate").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let lines: Vec<serde_json::Value> = index
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let mut first = lines[0].clone();
    assert!(first["pubtime"].as_str().unwrap().ends_with('Z'));
    first["pubtime"] = json!("[time]");
    insta::assert_json_snapshot!(first);
    let sha = wharf_core::digest::digest_bytes(&crate_bytes)
        .sha256
        .to_string();
    assert_eq!(lines[0]["cksum"], sha);

    let etag = index.header("etag").unwrap().to_owned();
    let cached = app
        .request(
            Method::GET,
            "/cargo/main/index/de/mo/demo_crate",
            &[("if-none-match", &etag)],
            "",
        )
        .await;
    assert_eq!((cached.status.as_u16(), cached.body.len()), (304, 0));
    let modified = index.header("last-modified").unwrap().to_owned();
    let since = app
        .request(
            Method::GET,
            "/cargo/main/index/de/mo/demo_crate",
            &[("if-modified-since", &modified)],
            "",
        )
        .await;
    assert_eq!(since.status, 304);

    let dl = app
        .get("/cargo/main/api/v1/crates/demo_crate/0.1.0/download")
        .await;
    assert_eq!(dl.status, 200);
    assert_eq!(&dl.body[..], &crate_bytes[..]);
    assert_eq!(
        app.get("/cargo/main/api/v1/crates/demo_crate/9.9.9/download")
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/cargo/main/index/no/ne/nonexistent").await.status,
        404
    );
    assert_eq!(
        app.get("/cargo/main/index/xx/yy/demo_crate").await.status,
        404
    );
    // Crates are hashed for SHA-256 (the index's `cksum`) alone.
    let version = app
        .get("/api/v1/repositories/cargo/main/packages/demo_crate/versions/0.1.0")
        .await
        .json();
    let file = &version["files"][0];
    assert_eq!(file["sha256"], sha, "{version}");
    for other in ["sha1", "md5", "sha512"] {
        assert!(file.get(other).is_none(), "{other}: {version}");
    }
    app.finish().await;
}

#[tokio::test]
async fn yank_and_unyank_rewrite_the_index_line() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    publish(
        &app,
        &token,
        &metadata("yanky", "1.0.0"),
        &good_crate("yanky", "1.0.0"),
    )
    .await;
    let before = app.get("/cargo/main/index/ya/nk/yanky").await;
    let yank = app
        .request(
            Method::DELETE,
            "/cargo/main/api/v1/crates/yanky/1.0.0/yank",
            &[("authorization", &token)],
            "",
        )
        .await;
    assert_eq!(yank.json(), json!({"ok": true}));
    let after = app.get("/cargo/main/index/ya/nk/yanky").await;
    assert!(after.text().contains("\"yanked\":true"));
    assert_ne!(before.header("etag"), after.header("etag"));
    let stale = app
        .request(
            Method::GET,
            "/cargo/main/index/ya/nk/yanky",
            &[("if-none-match", before.header("etag").unwrap())],
            "",
        )
        .await;
    assert_eq!(stale.status, 200, "a yank invalidates cached copies");
    app.request(
        Method::PUT,
        "/cargo/main/api/v1/crates/yanky/1.0.0/unyank",
        &[("authorization", &token)],
        "",
    )
    .await;
    assert!(
        app.get("/cargo/main/index/ya/nk/yanky")
            .await
            .text()
            .contains("\"yanked\":false")
    );
    let anonymous = app
        .request(
            Method::DELETE,
            "/cargo/main/api/v1/crates/yanky/1.0.0/yank",
            &[],
            "",
        )
        .await;
    assert_eq!(anonymous.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn owners_decide_who_may_publish_and_yank() {
    let app = crate::app().await;
    let alice = app.token("alice", Scope::Write, Scope::Write, None).await;
    let bob = app.token("bob", Scope::Write, Scope::Write, None).await;
    assert_eq!(
        publish(
            &app,
            &alice,
            &metadata("shared", "1.0.0"),
            &good_crate("shared", "1.0.0")
        )
        .await
        .status,
        200
    );
    let denied = publish(
        &app,
        &bob,
        &metadata("shared", "1.1.0"),
        &good_crate("shared", "1.1.0"),
    )
    .await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json(),
        json!({"errors": [{"detail": "bob is not an owner of crate `shared`"}]})
    );
    let list = app.get("/cargo/main/api/v1/crates/shared/owners").await;
    assert_eq!(list.json()["users"][0]["login"], "alice");
    let add = app
        .request(
            Method::PUT,
            "/cargo/main/api/v1/crates/shared/owners",
            &[("authorization", &alice)],
            json!({"users": ["bob"]}).to_string(),
        )
        .await;
    assert_eq!(add.json()["ok"], true);
    assert_eq!(
        publish(
            &app,
            &bob,
            &metadata("shared", "1.1.0"),
            &good_crate("shared", "1.1.0")
        )
        .await
        .status,
        200
    );
    let remove_all = app
        .request(
            Method::DELETE,
            "/cargo/main/api/v1/crates/shared/owners",
            &[("authorization", &bob)],
            json!({"users": ["alice", "bob"]}).to_string(),
        )
        .await;
    assert_eq!(remove_all.status, 400, "a crate keeps an owner");
    let unknown = app
        .request(
            Method::PUT,
            "/cargo/main/api/v1/crates/shared/owners",
            &[("authorization", &bob)],
            json!({"users": ["nobody"]}).to_string(),
        )
        .await;
    assert_eq!(unknown.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn search_ranks_name_matches_before_descriptions() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    for (name, description) in [
        ("tool", "a tool"),
        ("toolbox", "many tools"),
        ("hammer", "a tool for nails"),
        ("other", "unrelated"),
    ] {
        let mut meta = metadata(name, "1.0.0");
        meta["description"] = json!(description);
        publish(&app, &token, &meta, &good_crate(name, "1.0.0")).await;
    }
    publish(
        &app,
        &token,
        &metadata("tool", "1.2.0"),
        &good_crate("tool", "1.2.0"),
    )
    .await;
    let r = app
        .get("/cargo/main/api/v1/crates?q=tool&per_page=10")
        .await;
    insta::assert_json_snapshot!(r.json());
    let limited = app.get("/cargo/main/api/v1/crates?q=tool&per_page=1").await;
    assert_eq!(limited.json()["crates"].as_array().unwrap().len(), 1);
    assert_eq!(limited.json()["meta"]["total"], 3);
    app.finish().await;
}

#[tokio::test]
async fn private_repositories_require_auth_everywhere() {
    let app = crate::app().await;
    app.admin_json(
        Method::POST,
        "/api/v1/repositories",
        &json!({"name": "private", "format": "cargo", "anonymous_read": false}),
    )
    .await;
    let config = app
        .request(
            Method::GET,
            "/cargo/private/index/config.json",
            &[("host", "h")],
            "",
        )
        .await;
    assert_eq!(config.status, 401);
    assert_eq!(
        config.header("www-authenticate"),
        Some("Cargo login_url=\"http://h/cargo/private/me\"")
    );
    let token = app.admin_token.clone();
    let ok = app
        .request(
            Method::GET,
            "/cargo/private/index/config.json",
            &[("authorization", &token)],
            "",
        )
        .await;
    assert_eq!(ok.json()["auth-required"], true);
    let me = app.get("/cargo/private/me").await;
    assert!(me.text().contains("wharf token create"));
    app.finish().await;
}

#[tokio::test]
async fn a_publish_through_another_instance_invalidates_the_cached_index() {
    use std::sync::Arc;
    use tower::ServiceExt;
    let app = crate::app().await;
    let token = app.admin_token.clone();
    publish(
        &app,
        &token,
        &metadata("multi", "1.0.0"),
        &good_crate("multi", "1.0.0"),
    )
    .await;
    assert_eq!(
        app.get("/cargo/main/index/mu/lt/multi")
            .await
            .text()
            .lines()
            .count(),
        1
    );
    let components = wharf_server::Components {
        formats: vec![Arc::new(wharf_format_cargo::CargoFormat)],
        seeds: Vec::new(),
    };
    let other = wharf_server::build_router(app.state.clone(), &components);
    let request = http::Request::builder()
        .method(Method::PUT)
        .uri("/cargo/main/api/v1/crates/new")
        .header("authorization", &token)
        .body(axum::body::Body::from(publish_body(
            &metadata("multi", "1.1.0"),
            &good_crate("multi", "1.1.0"),
        )))
        .unwrap();
    assert_eq!(other.oneshot(request).await.unwrap().status(), 200);
    let after = app.get("/cargo/main/index/mu/lt/multi").await;
    assert_eq!(
        after.text().lines().count(),
        2,
        "the first instance must not serve its stale copy"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_management_api_yanks_crates_too() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    publish(
        &app,
        &token,
        &metadata("viaapi", "1.0.0"),
        &good_crate("viaapi", "1.0.0"),
    )
    .await;
    let path = "/api/v1/repositories/cargo/main/packages/viaapi/versions/1.0.0/yank";
    assert_eq!(app.admin(Method::PUT, path, "").await.status, 204);
    assert!(
        app.get("/cargo/main/index/vi/aa/viaapi")
            .await
            .text()
            .contains("\"yanked\":true")
    );
    assert_eq!(app.admin(Method::DELETE, path, "").await.status, 204);
    assert!(
        app.get("/cargo/main/index/vi/aa/viaapi")
            .await
            .text()
            .contains("\"yanked\":false")
    );
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_version_through_the_api_updates_the_cached_index_file() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    for vers in ["1.0.0", "1.1.0"] {
        let r = publish(
            &app,
            &token,
            &metadata("gone", vers),
            &good_crate("gone", vers),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let path = "/cargo/main/index/go/ne/gone";
    let before = app.get(path).await;
    assert_eq!(before.text().lines().count(), 2);
    let r = app
        .request(
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/gone/versions/1.1.0",
            &[("authorization", &token)],
            "",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let after = app.get(path).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.text().lines().count(), 1, "{}", after.text());
    assert_ne!(before.header("etag"), after.header("etag"));
    app.finish().await;
}

#[tokio::test]
async fn a_publish_lists_the_crate_for_search() {
    let app = crate::app().await;
    let mut meta = metadata("listed", "1.0.0");
    meta["keywords"] = json!(["cli", "Parsing"]);
    let r = app
        .admin(
            Method::PUT,
            "/cargo/main/api/v1/crates/new",
            publish_body(&meta, &good_crate("listed", "1.0.0")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        app.listing("cargo/main", "listed").await,
        ("listed does things".to_owned(), "cli parsing".to_owned())
    );
    app.finish().await;
}
