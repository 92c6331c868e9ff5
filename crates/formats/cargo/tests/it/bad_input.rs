use http::Method;
use serde_json::json;
use wharf_test_support::{TestApp, TestResponse};

use crate::{crate_file, good_crate, metadata, publish_body};

const NEW: &str = "/cargo/main/api/v1/crates/new";

async fn put(app: &TestApp, body: Vec<u8>) -> TestResponse {
    let token = app.admin_token.clone();
    app.request(Method::PUT, NEW, &[("authorization", &token)], body)
        .await
}

fn detail(r: &TestResponse) -> String {
    r.json()["errors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "a blob was stored"
    );
    let repo = app.state.repository("cargo", "main").await.unwrap();
    assert!(
        app.state
            .store
            .list_packages(repo.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_and_store_nothing() {
    let app = crate::app().await;
    let good = publish_body(&metadata("a", "1.0.0"), &good_crate("a", "1.0.0"));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..2].to_vec(), "truncated"),
        (good[..20].to_vec(), "truncated"),
        (good[..good.len() - 5].to_vec(), "truncated"),
        ([good.clone(), b"extra".to_vec()].concat(), "bytes after"),
        (
            publish_body(&json!("not an object"), b"x"),
            "not valid JSON",
        ),
        (
            {
                let mut b = 5u32.to_le_bytes().to_vec();
                b.extend_from_slice(b"{oops");
                b.extend_from_slice(&0u32.to_le_bytes());
                b
            },
            "not valid JSON",
        ),
        (
            publish_body(&metadata("a", "1.0.0"), b"plain bytes, not gzip"),
            "not valid",
        ),
        (
            publish_body(&metadata("a", "1.0.0"), &crate_file("a", "1.0.0", None)),
            "has no a-1.0.0/Cargo.toml",
        ),
        (
            publish_body(&metadata("a", "1.0.0"), &good_crate("b", "1.0.0")),
            "has no a-1.0.0/Cargo.toml",
        ),
        (
            publish_body(
                &metadata("a", "1.0.0"),
                &crate_file(
                    "a",
                    "1.0.0",
                    Some("[package]\nname = \"b\"\nversion = \"1.0.0\"\n"),
                ),
            ),
            "the .crate is b 1.0.0",
        ),
        (
            publish_body(
                &metadata("a", "1.0.0"),
                &crate_file("a", "1.0.0", Some("not toml [")),
            ),
            "does not parse",
        ),
        (
            publish_body(&metadata("1bad", "1.0.0"), &good_crate("1bad", "1.0.0")),
            "invalid crate name",
        ),
        (
            publish_body(&metadata("a", "1.0"), &good_crate("a", "1.0")),
            "invalid version",
        ),
    ];
    for (body, expected) in cases {
        let r = put(&app, body).await;
        assert_eq!(r.status, 400, "{expected}: {}", r.text());
        assert!(
            detail(&r).contains(expected),
            "expected {expected:?} in {:?}",
            detail(&r)
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn dependencies_on_unknown_registries_are_refused() {
    let app = crate::app().await;
    let mut meta = metadata("a", "1.0.0");
    meta["deps"] = json!([{"name": "evil", "version_req": "1", "registry": "https://elsewhere.example/index"}]);
    let r = put(&app, publish_body(&meta, &good_crate("a", "1.0.0"))).await;
    assert_eq!(r.status, 400);
    insta::assert_json_snapshot!(r.json());
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn oversized_crates_are_413() {
    let app = crate::builder().max_upload(64).build().await;
    let r = put(
        &app,
        publish_body(&metadata("a", "1.0.0"), &good_crate("a", "1.0.0")),
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(detail(&r).contains("limit"), "{}", r.text());
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn publishing_without_a_token_is_401_with_the_login_hint() {
    let app = crate::app().await;
    let r = app
        .request(
            Method::PUT,
            NEW,
            &[("host", "reg.test")],
            publish_body(&metadata("a", "1.0.0"), &good_crate("a", "1.0.0")),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Cargo login_url=\"http://reg.test/cargo/main/me\"")
    );
    insta::assert_json_snapshot!(r.json());
    app.finish().await;
}

#[tokio::test]
async fn republishing_and_clashing_names_are_conflicts() {
    let app = crate::app().await;
    assert_eq!(
        put(
            &app,
            publish_body(
                &metadata("my-crate", "1.0.0"),
                &good_crate("my-crate", "1.0.0")
            )
        )
        .await
        .status,
        200
    );
    let again = put(
        &app,
        publish_body(
            &metadata("my-crate", "1.0.0"),
            &good_crate("my-crate", "1.0.0"),
        ),
    )
    .await;
    assert_eq!(again.status, 409);
    insta::assert_json_snapshot!(again.json());
    let build_meta = put(
        &app,
        publish_body(
            &metadata("my-crate", "1.0.0+build"),
            &good_crate("my-crate", "1.0.0+build"),
        ),
    )
    .await;
    assert_eq!(
        build_meta.status, 409,
        "build metadata does not make a new version"
    );
    let clash = put(
        &app,
        publish_body(
            &metadata("My_Crate", "2.0.0"),
            &good_crate("My_Crate", "2.0.0"),
        ),
    )
    .await;
    assert_eq!(clash.status, 409);
    assert!(detail(&clash).contains("conflicts with the existing crate `my-crate`"));
    app.finish().await;
}

#[tokio::test]
async fn dependency_and_feature_names_are_checked() {
    let app = crate::app().await;
    let cases = [
        json!({"deps": [{"name": "../../x", "version_req": "1"}]}),
        json!({"deps": [{"name": "ok", "version_req": "1", "explicit_name_in_toml": "a/b"}]}),
        json!({"deps": [{"name": "ok\u{202e}", "version_req": "1"}]}),
        json!({"features": {"../f": []}}),
        json!({"features": {"f": ["dep:../x"]}}),
        json!({"features": {"f": ["ok/bad feature"]}}),
    ];
    for case in cases {
        let mut meta = metadata("a", "1.0.0");
        for (key, value) in case.as_object().unwrap() {
            meta[key] = value.clone();
        }
        let r = put(&app, publish_body(&meta, &good_crate("a", "1.0.0"))).await;
        assert_eq!(r.status, 400, "{case}: {}", r.text());
        assert!(detail(&r).contains("invalid"), "{case}: {}", detail(&r));
    }
    assert_nothing_stored(&app).await;
    app.finish().await;
}
