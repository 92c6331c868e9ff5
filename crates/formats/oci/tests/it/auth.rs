//! Authentication as docker and podman do it: a 401 with a Bearer challenge naming the token
//! endpoint and the scope, the token endpoint taking Basic credentials (password or token),
//! anonymous tokens for public repositories, Basic on every request, and scopes enforced.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use wharf_core::model::Scope;
use wharf_test_support::TestApp;

use crate::{code, push_blob};

/// Turns anonymous reads of `main` on or off.
async fn anonymous_reads(app: &TestApp, on: bool) {
    let r = app
        .admin_json(
            Method::PATCH,
            "/api/v1/repositories/oci/main",
            &serde_json::json!({"anonymous_read": on}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    app.state.forget_repositories();
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{secret}")))
}

#[tokio::test]
async fn a_client_without_credentials_is_sent_to_the_token_endpoint() {
    let app = crate::app().await;
    anonymous_reads(&app, false).await;
    let base = app
        .request(Method::GET, "/v2/", &[("host", "registry.test")], vec![])
        .await;
    assert_eq!(base.status, 401);
    assert_eq!(
        base.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert_eq!(
        base.header("www-authenticate"),
        Some("Bearer realm=\"http://registry.test/v2/token\",service=\"wharf\"")
    );
    let push = app
        .request(
            Method::POST,
            "/v2/main/team/app/blobs/uploads/",
            &[("host", "registry.test")],
            vec![],
        )
        .await;
    assert_eq!(push.status, 401);
    assert_eq!(code(&push), "UNAUTHORIZED");
    assert_eq!(
        push.header("www-authenticate"),
        Some(
            "Bearer realm=\"http://registry.test/v2/token\",service=\"wharf\",scope=\"repository:main/team/app:pull,push\""
        )
    );
    let pull = app.get("/v2/main/team/app/tags/list").await;
    assert!(
        pull.header("www-authenticate")
            .unwrap()
            .ends_with("scope=\"repository:main/team/app:pull\"")
    );
    app.finish().await;
}

#[tokio::test]
async fn a_password_buys_a_short_lived_token() {
    let app = crate::app().await;
    let auth = basic("admin", "admin-password");
    let r = app
        .request(
            Method::GET,
            "/v2/token?service=wharf&scope=repository:main/team/app:pull,push",
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("wharf_"));
    assert_eq!(body["access_token"], body["token"]);
    assert_eq!(body["expires_in"], 3600);
    assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
    let bearer = format!("Bearer {token}");
    let base = app
        .request(Method::GET, "/v2/", &[("authorization", &bearer)], vec![])
        .await;
    assert_eq!(base.status, 200);
    // The token works for pushes; a wrong password gets nothing.
    let push = app
        .request(
            Method::POST,
            "/v2/main/team/app/blobs/uploads/",
            &[("authorization", &bearer)],
            vec![],
        )
        .await;
    assert_eq!(push.status, 202);
    let wrong = app
        .request(
            Method::GET,
            "/v2/token",
            &[("authorization", &basic("admin", "nope"))],
            vec![],
        )
        .await;
    assert_eq!(wrong.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn a_token_as_password_is_the_token_and_basic_works_directly() {
    let app = crate::app().await;
    let auth = basic("anyone", &app.admin_token);
    let r = app
        .request(
            Method::GET,
            "/v2/token",
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(r.json()["token"], app.admin_token.as_str());
    let direct = app
        .request(
            Method::POST,
            "/v2/main/team/app/blobs/uploads/",
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(direct.status, 202);
    app.finish().await;
}

#[tokio::test]
async fn anonymous_tokens_read_public_repositories_only() {
    let app = crate::app().await;
    let d = push_blob(&app, "main/team/app", b"public bits").await;
    anonymous_reads(&app, false).await;
    let anonymous = app
        .get("/v2/token?service=wharf&scope=repository:main/team/app:pull")
        .await;
    assert_eq!(anonymous.json()["token"], "anonymous");
    let path = format!("/v2/main/team/app/blobs/{d}");
    let refused = app
        .request(
            Method::GET,
            &path,
            &[("authorization", "Bearer anonymous")],
            vec![],
        )
        .await;
    assert_eq!(refused.status, 401);
    anonymous_reads(&app, true).await;
    let allowed = app
        .request(
            Method::GET,
            &path,
            &[("authorization", "Bearer anonymous")],
            vec![],
        )
        .await;
    assert_eq!(allowed.status, 200);
    let push = app
        .request(
            Method::POST,
            "/v2/main/team/app/blobs/uploads/",
            &[("authorization", "Bearer anonymous")],
            vec![],
        )
        .await;
    assert_eq!(push.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn a_read_token_cannot_push() {
    let app = crate::app().await;
    let reader = app.token("reader", Scope::Read, Scope::Read, None).await;
    let pull = app
        .send_as(&reader, Method::GET, "/v2/_catalog", vec![])
        .await;
    assert_eq!(pull.status, 200);
    let push = app
        .send_as(
            &reader,
            Method::POST,
            "/v2/main/team/app/blobs/uploads/",
            vec![],
        )
        .await;
    assert_eq!(push.status, 403);
    assert_eq!(code(&push), "DENIED");
    app.finish().await;
}
