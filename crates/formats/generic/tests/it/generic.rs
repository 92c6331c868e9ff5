use http::Method;
use wharf_core::model::Scope;

use crate::assert_wire;

const FILE: &str = "/generic/main/app/1.0.0/app.tar.gz";

#[tokio::test]
async fn upload_then_download_with_digests_and_headers() {
    let app = crate::app().await;
    let put = app.admin(Method::PUT, FILE, "hello world").await;
    assert_eq!(put.status, 201);
    assert_wire!(put.json());
    let get = app.get(FILE).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.text(), "hello world");
    assert_eq!(
        get.header("etag"),
        Some("\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"")
    );
    assert_eq!(get.header("content-length"), Some("11"));
    assert_eq!(get.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        get.header("content-disposition"),
        Some("attachment; filename=\"app.tar.gz\"")
    );
    assert!(get.header("last-modified").is_some());
    let head = app.request(Method::HEAD, FILE, &[], "").await;
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
    assert_eq!(head.header("content-length"), Some("11"));
    app.finish().await;
}

#[tokio::test]
async fn ranges_and_conditional_requests() {
    let app = crate::app().await;
    app.admin(Method::PUT, FILE, "0123456789").await;
    let part = app
        .request(Method::GET, FILE, &[("range", "bytes=2-5")], "")
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.text(), "2345");
    assert_eq!(part.header("content-range"), Some("bytes 2-5/10"));
    let suffix = app
        .request(Method::GET, FILE, &[("range", "bytes=-3")], "")
        .await;
    assert_eq!(
        (suffix.status.as_u16(), suffix.text().as_str()),
        (206, "789")
    );
    let bad = app
        .request(Method::GET, FILE, &[("range", "bytes=20-30")], "")
        .await;
    assert_eq!(bad.status, 416);
    assert_eq!(bad.header("content-range"), Some("bytes */10"));
    let etag = app.get(FILE).await.header("etag").unwrap().to_owned();
    let cached = app
        .request(Method::GET, FILE, &[("if-none-match", &etag)], "")
        .await;
    assert_eq!((cached.status.as_u16(), cached.body.len()), (304, 0));
    let stale = app
        .request(
            Method::GET,
            FILE,
            &[("range", "bytes=0-0"), ("if-range", "\"other\"")],
            "",
        )
        .await;
    assert_eq!(
        (stale.status.as_u16(), stale.text().as_str()),
        (200, "0123456789")
    );
    let modified = app
        .get(FILE)
        .await
        .header("last-modified")
        .unwrap()
        .to_owned();
    let since = app
        .request(Method::GET, FILE, &[("if-modified-since", &modified)], "")
        .await;
    assert_eq!(since.status, 304);
    app.finish().await;
}

#[tokio::test]
async fn second_upload_of_a_file_is_conflict_unless_overwrite_is_allowed() {
    let app = crate::app().await;
    assert_eq!(app.admin(Method::PUT, FILE, "one").await.status, 201);
    let again = app.admin(Method::PUT, FILE, "two").await;
    assert_eq!(again.status, 409);
    assert_wire!(again.json());
    let patch = app
        .admin_json(
            Method::PATCH,
            "/api/v1/repositories/generic/main",
            &serde_json::json!({"allow_overwrite": true}),
        )
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(app.admin(Method::PUT, FILE, "two").await.status, 201);
    assert_eq!(app.get(FILE).await.text(), "two");
    let other = app
        .admin(Method::PUT, "/generic/main/app/1.0.0/second.bin", "x")
        .await;
    assert_eq!(
        other.status, 201,
        "a second file joins the existing version"
    );
    app.finish().await;
}

#[tokio::test]
async fn deletes_of_files_and_versions() {
    let app = crate::app().await;
    app.admin(Method::PUT, FILE, "a").await;
    app.admin(Method::PUT, "/generic/main/app/1.0.0/b.bin", "b")
        .await;
    assert_eq!(app.admin(Method::DELETE, FILE, "").await.status, 204);
    assert_eq!(app.get(FILE).await.status, 404);
    assert_eq!(app.admin(Method::DELETE, FILE, "").await.status, 404);
    assert_eq!(
        app.admin(Method::DELETE, "/generic/main/app/1.0.0", "")
            .await
            .status,
        204
    );
    assert_eq!(app.get("/generic/main/app/1.0.0/b.bin").await.status, 404);
    let missing = app
        .admin(Method::DELETE, "/generic/main/app/1.0.0", "")
        .await;
    assert_eq!(missing.status, 404);
    assert_wire!(missing.json());
    app.finish().await;
}

#[tokio::test]
async fn writes_need_a_token_with_write_scope() {
    let app = crate::app().await;
    let anonymous = app.request(Method::PUT, FILE, &[], "x").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Basic realm=\"Wharf\"")
    );
    assert_wire!(anonymous.json());
    let reader = app.token("reader", Scope::Write, Scope::Read, None).await;
    let denied = app.send_as(&reader, Method::PUT, FILE, "x").await;
    assert_eq!(denied.status, 403);
    assert_wire!(denied.json());
    let wrong = app
        .send_as("wharf_not-a-token", Method::GET, FILE, "")
        .await;
    assert_eq!(wrong.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn every_credential_form_clients_send_is_accepted() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let basic = format!("Basic {}", base64_encode(&format!("anyone:{token}")));
    assert_eq!(
        app.request(Method::PUT, FILE, &[("authorization", &basic)], "1")
            .await
            .status,
        201
    );
    let raw = app
        .request(
            Method::PUT,
            "/generic/main/app/1.0.0/raw",
            &[("authorization", &token)],
            "2",
        )
        .await;
    assert_eq!(raw.status, 201, "cargo sends the raw token");
    let password = format!("Basic {}", base64_encode("admin:admin-password"));
    let by_password = app
        .request(
            Method::PUT,
            "/generic/main/app/1.0.0/pw",
            &[("authorization", &password)],
            "3",
        )
        .await;
    assert_eq!(by_password.status, 201);
    let bad_password = format!("Basic {}", base64_encode("admin:nope"));
    assert_eq!(
        app.request(Method::GET, FILE, &[("authorization", &bad_password)], "")
            .await
            .status,
        401
    );
    app.finish().await;
}

#[tokio::test]
async fn repository_limited_tokens_stay_in_their_repository() {
    let app = crate::app().await;
    app.admin_json(
        Method::POST,
        "/api/v1/repositories",
        &serde_json::json!({"name": "other", "format": "generic"}),
    )
    .await;
    let limited = app
        .token("ci", Scope::Write, Scope::Write, Some("generic/other"))
        .await;
    assert_eq!(
        app.send_as(&limited, Method::PUT, "/generic/other/p/1/f", "x")
            .await
            .status,
        201
    );
    assert_eq!(
        app.send_as(&limited, Method::PUT, "/generic/main/p/1/f", "x")
            .await
            .status,
        403
    );
    app.finish().await;
}

#[tokio::test]
async fn private_repositories_need_a_token_to_read() {
    let app = crate::app().await;
    app.admin(Method::PUT, FILE, "secret").await;
    app.admin_json(
        Method::PATCH,
        "/api/v1/repositories/generic/main",
        &serde_json::json!({"anonymous_read": false}),
    )
    .await;
    assert_eq!(app.get(FILE).await.status, 401);
    let reader = app.token("reader", Scope::Read, Scope::Read, None).await;
    assert_eq!(
        app.send_as(&reader, Method::GET, FILE, "").await.text(),
        "secret"
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_paths_are_400_and_unknown_repositories_404() {
    let app = crate::app().await;
    for path in [
        "/generic/main/app/%2E%2E/f",
        "/generic/main/app/1.0//f",
        "/generic/main/app/1.0/a%00b",
        "/generic/main/app/1.0/a%0Ab",
        "/generic/main/%2E%2E/1.0/f",
        "/generic/main/a%2fb/f",
        "/generic/main/app/1.0/a%2Fb",
        "/generic/main/app%5Cx/1.0/f",
        "/generic/main/app/1.0/a%E2%80%AEb",
    ] {
        let r = app.admin(Method::PUT, path, "x").await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "invalid");
    }
    let repo = app.state.repository("generic", "main").await.unwrap();
    let stored = app
        .state
        .store
        .list_packages(repo.id, None, 10)
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");
    // Other escapes are names like any other.
    let spaced = app
        .admin(Method::PUT, "/generic/main/my%20app/1.0/f", "x")
        .await;
    assert_eq!(spaced.status, 201, "{}", spaced.text());
    assert_eq!(spaced.json()["package"], "my app");
    let unknown = app.admin(Method::PUT, "/generic/nope/app/1.0/f", "x").await;
    assert_eq!(unknown.status, 404);
    assert_wire!(unknown.json());
    assert_eq!(app.get("/generic/main/app/1.0").await.status, 404);
    assert_eq!(app.get("/nothing/here").await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn oversized_bodies_are_413_and_leave_nothing() {
    let app = crate::builder().max_upload(8).build().await;
    let declared = app.admin(Method::PUT, FILE, "123456789").await;
    assert_eq!(declared.status, 413);
    assert_wire!(declared.json());
    let streamed = app
        .admin(
            Method::PUT,
            FILE,
            axum::body::Body::from_stream(futures::stream::iter(vec![
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"12345")),
                Ok(bytes::Bytes::from_static(b"67890")),
            ])),
        )
        .await;
    assert_eq!(streamed.status, 413);
    assert_eq!(app.get(FILE).await.status, 404);
    assert_eq!(app.state.store.blob_totals().await.unwrap(), (0, 0));
    app.finish().await;
}

#[tokio::test]
async fn a_claimed_digest_is_verified() {
    let app = crate::app().await;
    let wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    let r = app
        .request(
            Method::PUT,
            FILE,
            &[
                ("authorization", &format!("Bearer {}", app.admin_token)),
                ("x-checksum-sha256", wrong),
            ],
            "content",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_wire!(r.json());
    let right = "ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73";
    let ok = app
        .admin(Method::PUT, &format!("{FILE}?sha256={right}"), "content")
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    let junk = app
        .admin(Method::PUT, &format!("{FILE}2?sha256=xyz"), "content")
        .await;
    assert_eq!(junk.status, 400);
    app.finish().await;
}

#[tokio::test]
async fn a_client_that_disconnects_mid_upload_leaves_nothing() {
    let app = crate::builder().fs_blobs().build().await;
    let body = futures::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"first part")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ]);
    let r = app
        .admin(Method::PUT, FILE, axum::body::Body::from_stream(body))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "bad_body");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.get(FILE).await.status, 404);
    let tmp = app.blob_dir.path().join("tmp");
    let leftovers = std::fs::read_dir(&tmp).map_or(0, Iterator::count);
    assert_eq!(leftovers, 0, "temporary upload left in {}", tmp.display());
    app.finish().await;
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn whole_file_gets_are_counted_as_downloads() {
    let app = crate::app().await;
    assert_eq!(app.admin(Method::PUT, FILE, "0123456789").await.status, 201);
    assert_eq!(
        app.admin(Method::PUT, "/generic/main/app/2.0.0/app.tar.gz", "x")
            .await
            .status,
        201
    );
    for _ in 0..3 {
        assert_eq!(app.get(FILE).await.status, 200);
    }
    assert_eq!(
        app.get("/generic/main/app/2.0.0/app.tar.gz").await.status,
        200
    );
    let etag = app.get(FILE).await.header("etag").unwrap().to_owned();
    let not_counted = [
        app.request(Method::HEAD, FILE, &[], "").await.status,
        app.request(Method::GET, FILE, &[("range", "bytes=0-3")], "")
            .await
            .status,
        app.request(Method::GET, FILE, &[("if-none-match", &etag)], "")
            .await
            .status,
    ];
    assert_eq!(not_counted.map(|s| s.as_u16()), [200, 206, 304]);
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();
    let r = app
        .get("/api/v1/repositories/generic/main/packages/app/downloads?days=7")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["total"], 5);
    assert_eq!(doc["versions"], serde_json::json!({"1.0.0": 4, "2.0.0": 1}));
    let daily = doc["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    assert_eq!(daily[6]["count"], 5, "today is last");
    assert!(daily[..6].iter().all(|d| d["count"] == 0));
    assert_eq!(
        app.get("/api/v1/repositories/generic/main/packages/none/downloads")
            .await
            .status,
        404
    );
    app.finish().await;
}
