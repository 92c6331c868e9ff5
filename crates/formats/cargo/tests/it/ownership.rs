//! Crate owners hold through the management API as through cargo: a writer who does not own
//! a crate cannot yank or delete it, and a deleted version never comes back with other
//! content (an admin may purge it explicitly).

use http::Method;
use wharf_core::model::Scope;
use wharf_test_support::TestApp;

use crate::{crate_file, good_crate, metadata, publish_body};

async fn publish(app: &TestApp, token: &str, bytes: &[u8]) -> u16 {
    let r = app
        .request(
            Method::PUT,
            "/cargo/main/api/v1/crates/new",
            &[("authorization", token)],
            publish_body(&metadata("victim2", "1.0.0"), bytes),
        )
        .await;
    r.status.as_u16()
}

/// The same crate with another `lib.rs`: other content, same name and version.
fn other_content() -> Vec<u8> {
    let manifest =
        "[package]\nname = \"victim2\"\nversion = \"1.0.0\"\nedition = \"2021\"\n# alice's\n";
    crate_file("victim2", "1.0.0", Some(manifest))
}

#[tokio::test]
async fn a_writer_who_does_not_own_a_crate_cannot_take_it_over() {
    let app = crate::app().await;
    let admin = app.admin_token.clone();
    let original = good_crate("victim2", "1.0.0");
    assert_eq!(publish(&app, &admin, &original).await, 200);
    let alice = app.token("alice", Scope::Write, Scope::Write, None).await;
    let as_alice = |method: Method, path: &'static str| {
        let bearer = format!("Bearer {alice}");
        let app = &app;
        async move {
            app.request(method, path, &[("authorization", bearer.as_str())], "{}")
                .await
        }
    };
    let base = "/api/v1/repositories/cargo/main/packages/victim2";
    for (method, path) in [
        (
            Method::PUT,
            "/api/v1/repositories/cargo/main/packages/victim2/versions/1.0.0/yank",
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/victim2/versions/1.0.0/yank",
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/victim2/versions/1.0.0/files/victim2-1.0.0.crate",
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/victim2/versions/1.0.0",
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/victim2",
        ),
    ] {
        let r = as_alice(method.clone(), path).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert!(r.text().contains("not an owner"), "{}", r.text());
    }
    // Nothing changed: the version is there, not yanked.
    let index = app.get("/cargo/main/index/vi/ct/victim2").await;
    assert_eq!(index.status, 200);
    assert!(
        index.text().contains("\"yanked\":false"),
        "{}",
        index.text()
    );
    // Alice's own victim2 1.0.0 is refused while the admin's exists...
    assert_eq!(publish(&app, &alice, &other_content()).await, 403);
    // ...and after the owner deletes it, the name and number stay taken for other content,
    let r = app
        .admin(Method::DELETE, &format!("{base}/versions/1.0.0"), "")
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(app.get("/cargo/main/index/vi/ct/victim2").await.status, 404);
    assert_eq!(publish(&app, &alice, &other_content()).await, 409);
    assert_eq!(publish(&app, &admin, &other_content()).await, 409);
    // though the same content may come back.
    assert_eq!(publish(&app, &admin, &original).await, 200);
    app.finish().await;
}

#[tokio::test]
async fn only_an_admin_purge_frees_a_deleted_version() {
    let app = crate::app().await;
    let admin = app.admin_token.clone();
    assert_eq!(
        publish(&app, &admin, &good_crate("victim2", "1.0.0")).await,
        200
    );
    let writer = app.token("writer", Scope::Write, Scope::Write, None).await;
    let version = "/api/v1/repositories/cargo/main/packages/victim2/versions/1.0.0";
    let r = app
        .admin(
            Method::DELETE,
            "/api/v1/repositories/cargo/main/packages/victim2",
            "",
        )
        .await;
    assert_eq!(r.status, 204);
    // A writer cannot purge.
    let r = app
        .request(
            Method::DELETE,
            &format!("{version}?purge=true"),
            &[("authorization", &format!("Bearer {writer}"))],
            "",
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(publish(&app, &admin, &other_content()).await, 409);
    // The admin can; then other content is accepted, once.
    let r = app
        .admin(Method::DELETE, &format!("{version}?purge=true"), "")
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = app
        .admin(Method::DELETE, &format!("{version}?purge=true"), "")
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(publish(&app, &admin, &other_content()).await, 200);
    app.finish().await;
}
