use http::Method;
use serde_json::json;
use wharf_core::model::Scope;

use crate::assert_wire;

#[tokio::test]
async fn repositories_crud() {
    let app = crate::app().await;
    let created = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "releases", "format": "generic", "max_upload_size": 1024, "anonymous_read": false}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_wire!(created.json());
    let again = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "releases", "format": "generic"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_wire!(again.json());
    let listed = app.admin(Method::GET, "/api/v1/repositories", "").await;
    assert_wire!(listed.json());
    let anonymous = app.get("/api/v1/repositories").await;
    let listing = anonymous.json();
    let names: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "/cargo/main/",
            "/generic/main/",
            "/npm/main/",
            "/v2/main/",
            "/pypi/main/"
        ],
        "private repositories are hidden from anonymous callers"
    );
    let patched = app
        .admin_json(
            Method::PATCH,
            "/api/v1/repositories/generic/releases",
            &json!({"max_upload_size": 0, "allow_overwrite": true}),
        )
        .await;
    assert_eq!(patched.json()["max_upload_size"], serde_json::Value::Null);
    assert_eq!(patched.json()["allow_overwrite"], true);
    assert_eq!(
        app.admin(Method::DELETE, "/api/v1/repositories/generic/releases", "")
            .await
            .status,
        204
    );
    assert_eq!(
        app.admin(Method::GET, "/api/v1/repositories/generic/releases", "")
            .await
            .status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn repository_creation_is_validated() {
    let app = crate::app().await;
    for (body, expected) in [
        (json!({"name": "x", "format": "nope"}), "unknown format"),
        (
            json!({"name": "../x", "format": "generic"}),
            "invalid repository name",
        ),
        (
            json!({"name": "x", "format": "generic", "kind": "proxy"}),
            "does not implement proxy",
        ),
        (
            json!({"name": "x", "format": "generic", "kind": "weird"}),
            "unknown kind",
        ),
    ] {
        let r = app
            .admin_json(Method::POST, "/api/v1/repositories", &body)
            .await;
        assert_eq!(r.status, 400, "{body}");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{}",
            r.text()
        );
    }
    let unknown_field = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "x", "format": "generic", "colour": 1}),
        )
        .await;
    assert_eq!(unknown_field.status, 400);
    assert_eq!(unknown_field.json()["error"]["code"], "invalid");
    let writer = app.token("writer", Scope::Write, Scope::Write, None).await;
    let denied = app
        .request(
            Method::POST,
            "/api/v1/repositories",
            &[
                ("authorization", &format!("Bearer {writer}")),
                ("content-type", "application/json"),
            ],
            json!({"name": "x", "format": "generic"}).to_string(),
        )
        .await;
    assert_eq!(denied.status, 403);
    app.finish().await;
}

#[tokio::test]
async fn packages_versions_and_files_are_listed_and_deleted() {
    let app = crate::app().await;
    app.admin(Method::PUT, "/generic/main/tool/1.0/tool.bin", "one")
        .await;
    app.admin(Method::PUT, "/generic/main/tool/2.0/tool.bin", "two")
        .await;
    app.admin(Method::PUT, "/generic/main/alpha/0.1/a.txt", "a")
        .await;
    let packages = app.get("/api/v1/repositories/generic/main/packages").await;
    assert_wire!(packages.json());
    let paged = app
        .get("/api/v1/repositories/generic/main/packages?after=alpha&limit=1")
        .await;
    assert_eq!(paged.json()[0]["name"], "tool");
    let package = app
        .get("/api/v1/repositories/generic/main/packages/tool")
        .await;
    assert_wire!(package.json());
    let version = app
        .get("/api/v1/repositories/generic/main/packages/tool/versions/1.0")
        .await;
    assert_wire!(version.json());
    let base = "/api/v1/repositories/generic/main/packages/tool";
    assert_eq!(app.get(&format!("{base}/versions/9.9")).await.status, 404);
    assert_eq!(
        app.request(Method::DELETE, &format!("{base}/versions/1.0"), &[], "")
            .await
            .status,
        401
    );
    assert_eq!(
        app.admin(
            Method::DELETE,
            &format!("{base}/versions/1.0/files/tool.bin"),
            ""
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.admin(Method::DELETE, &format!("{base}/versions/2.0"), "")
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(base).await.status,
        404,
        "a package without versions is gone"
    );
    assert_eq!(
        app.admin(
            Method::DELETE,
            "/api/v1/repositories/generic/main/packages/alpha",
            ""
        )
        .await
        .status,
        204
    );
    app.finish().await;
}

#[tokio::test]
async fn users_tokens_and_whoami() {
    let app = crate::app().await;
    let me = app.admin(Method::GET, "/api/v1/whoami", "").await;
    assert_wire!(me.json());
    assert_eq!(app.get("/api/v1/whoami").await.status, 401);
    let user = app
        .admin_json(
            Method::POST,
            "/api/v1/users",
            &json!({"name": "dev", "password": "long-enough", "role": "write"}),
        )
        .await;
    assert_eq!(user.status, 201);
    assert_wire!(user.json());
    let short = app
        .admin_json(
            Method::POST,
            "/api/v1/users",
            &json!({"name": "x", "password": "short"}),
        )
        .await;
    assert_eq!(short.status, 400);
    let auth = format!("Basic {}", base64("dev:long-enough"));
    let created = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &auth), ("content-type", "application/json")],
            json!({"name": "ci", "scope": "write", "repository": "generic/main", "expires_in": "30d"}).to_string(),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_wire!(created.json());
    let secret = created.json()["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("wharf_"));
    assert_eq!(
        app.send_as(&secret, Method::PUT, "/generic/main/p/1/f", "x")
            .await
            .status,
        201
    );
    let escalate = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            json!({"name": "root", "scope": "admin"}).to_string(),
        )
        .await;
    assert_eq!(escalate.status, 403);
    let listed = app
        .send_as(&secret, Method::GET, "/api/v1/tokens", "")
        .await;
    assert_eq!(listed.json()[0]["repository"], "generic/main");
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        app.send_as(&secret, Method::DELETE, &format!("/api/v1/tokens/{id}"), "")
            .await
            .status,
        204
    );
    assert_eq!(
        app.send_as(&secret, Method::GET, "/api/v1/whoami", "")
            .await
            .status,
        401,
        "revoked"
    );
    let users = app.admin(Method::GET, "/api/v1/users", "").await;
    assert_eq!(users.json().as_array().unwrap().len(), 2);
    assert_eq!(
        app.admin(Method::DELETE, "/api/v1/users/dev", "")
            .await
            .status,
        204
    );
    app.finish().await;
}

#[tokio::test]
async fn gc_through_the_api_frees_deleted_content() {
    let app = crate::app().await;
    app.admin(Method::PUT, "/generic/main/p/1/f", "garbage soon")
        .await;
    app.admin(Method::DELETE, "/generic/main/p/1/f", "").await;
    let kept = app.admin_json(Method::POST, "/api/v1/gc", &json!({})).await;
    assert_eq!(kept.json()["deleted"], 0, "the default grace keeps it");
    let freed = app
        .admin_json(Method::POST, "/api/v1/gc", &json!({"grace": "0s"}))
        .await;
    assert_eq!(freed.status, 200);
    assert_wire!(freed.json());
    let wrong_method = app.get("/api/v1/gc").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");
    assert_eq!(
        app.request(Method::POST, "/api/v1/gc", &[], "")
            .await
            .status,
        401
    );
    app.finish().await;
}

#[tokio::test]
async fn malformed_json_is_a_client_error() {
    let app = crate::app().await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/repositories",
            &[
                ("authorization", &format!("Bearer {}", app.admin_token)),
                ("content-type", "application/json"),
            ],
            "{not json",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_wire!(r.json());
    let no_type = app.admin(Method::POST, "/api/v1/repositories", "{}").await;
    assert_eq!(no_type.status, 400);
    assert_eq!(no_type.json()["error"]["code"], "invalid");
    let bad_id = app.admin(Method::DELETE, "/api/v1/tokens/abc", "").await;
    assert_eq!(bad_id.json()["error"]["code"], "invalid");
    let bad_limit = app
        .get("/api/v1/repositories/generic/main/packages?limit=many")
        .await;
    assert_eq!(bad_limit.status, 400);
    app.finish().await;
}

fn base64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn token_lifetimes_beyond_ten_years_are_refused() {
    let app = crate::app().await;
    for lifetime in ["999999999999d", "3651d", "0s"] {
        let r = app
            .admin_json(
                Method::POST,
                "/api/v1/tokens",
                &json!({"name": "forever", "expires_in": lifetime}),
            )
            .await;
        assert_eq!(r.status, 400, "{lifetime}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "invalid");
    }
    let r = app
        .admin_json(
            Method::POST,
            "/api/v1/tokens",
            &json!({"name": "long", "expires_in": "3650d"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(!r.json()["expires_at"].as_str().unwrap().is_empty());
    app.finish().await;
}

/// `Authorization: Basic` of `user:password`.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(&format!("{user}:{password}")))
}

#[tokio::test]
async fn failed_password_sign_ins_are_limited_per_user() {
    let app = crate::app().await;
    let attempt = |password: &'static str| {
        let auth = basic("admin", password);
        let app = &app;
        async move {
            app.request(
                Method::GET,
                "/api/v1/whoami",
                &[("authorization", &auth)],
                "",
            )
            .await
        }
    };
    for _ in 0..10 {
        assert_eq!(attempt("wrong-guess").await.status, 401);
    }
    // Locked: even the right password is refused, before it is checked.
    let locked = attempt("admin-password").await;
    assert_eq!(locked.status, 429, "{}", locked.text());
    assert_eq!(locked.json()["error"]["code"], "rate_limited");
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    // Tokens of that user still work.
    let me = app
        .send_as(&app.admin_token, Method::GET, "/api/v1/whoami", "")
        .await;
    assert_eq!(me.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_user_costs_as_much_as_a_wrong_password() {
    let app = crate::app().await;
    let time = |user: &'static str| {
        let auth = basic(user, "not-the-password");
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = app
                .request(
                    Method::GET,
                    "/api/v1/whoami",
                    &[("authorization", &auth)],
                    "",
                )
                .await;
            assert_eq!(r.status, 401);
            started.elapsed()
        }
    };
    // Warm the lazily made hash of unknown users once.
    time("nobody-at-all").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        known.push(time("admin").await);
        unknown.push(time("nobody-at-all").await);
    }
    known.sort();
    unknown.sort();
    // Both verify an argon2 hash: the medians are of the same order (without the dummy
    // verification an unknown user answered some thirty times faster).
    assert!(
        unknown[1] * 3 >= known[1],
        "unknown {unknown:?}, known {known:?}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_format_without_yanks_has_no_yank_to_change() {
    let app = crate::app().await;
    let generic = app.admin(Method::PUT, "/generic/main/p/1/f", "x").await;
    assert_eq!(generic.status, 201);
    let no_yanks = app
        .admin(
            Method::PUT,
            "/api/v1/repositories/generic/main/packages/p/versions/1/yank",
            "",
        )
        .await;
    // 404, as the API document says.
    assert_eq!(no_yanks.status, 404);
    assert!(no_yanks.text().contains("has no yanks"));
    app.finish().await;
}

#[tokio::test]
async fn oversized_and_undecodable_requests_answer_in_the_apis_shape() {
    let app = crate::app().await;
    let big = vec![b' '; 2 << 20];
    for path in [
        "/api/v1/gc",
        "/api/v1/repositories/cargo/main/packages/x/versions/1/yank",
    ] {
        let method = if path.ends_with("gc") {
            Method::POST
        } else {
            Method::PUT
        };
        let r = app.admin(method, path, big.clone()).await;
        assert_eq!(r.status, 413, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "too_large", "{path}");
    }
    let r = app
        .admin(
            Method::GET,
            "/api/v1/repositories/generic/%FF%FE/packages",
            "",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "invalid");
    app.finish().await;
}
