//! Push: monolithic (`POST ?digest=`, and `POST` then `PUT`), chunked (`PATCH` with
//! `Content-Range`, 416 out of order), streamed (`PATCH` without `Content-Range`), status,
//! cancel, mount; sessions live in the database, so a new app on the same state continues.

use http::Method;
use insta::assert_snapshot;
use wharf_test_support::TestApp;

use crate::{code, digest, push_blob, send};

const NAME: &str = "main/team/app";

async fn open_session(app: &TestApp) -> String {
    let r = send(
        app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.header("range"), Some("0-0"));
    let location = r.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("/v2/{NAME}/blobs/uploads/")));
    assert_eq!(r.header("docker-upload-uuid"), location.rsplit('/').next());
    location
}

async fn get_blob(app: &TestApp, d: &str) -> Vec<u8> {
    let r = send(
        app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("docker-content-digest"), Some(d));
    r.body.to_vec()
}

#[tokio::test]
async fn a_monolithic_push_is_one_post() {
    let app = crate::app().await;
    let d = push_blob(&app, NAME, b"hello layer").await;
    assert_eq!(get_blob(&app, &d).await, b"hello layer");
    let head = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("11"));
    app.finish().await;
}

#[tokio::test]
async fn post_then_put_pushes_a_blob() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    let d = digest(b"whole body");
    let r = send(
        &app,
        Method::PUT,
        &format!("{location}?digest={d}"),
        &[],
        b"whole body".to_vec(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{NAME}/blobs/{d}")
    );
    assert_eq!(get_blob(&app, &d).await, b"whole body");
    // The session is gone once finished.
    let again = send(&app, Method::GET, &location, &[], vec![]).await;
    assert_eq!(again.status, 404);
    assert_eq!(code(&again), "BLOB_UPLOAD_UNKNOWN");
    app.finish().await;
}

#[tokio::test]
async fn chunks_append_in_order_and_out_of_order_is_416() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    let first = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "0-4"), ("content-length", "5")],
        b"chunk".to_vec(),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.text());
    assert_eq!(first.header("range"), Some("0-4"));
    // A chunk that does not start where the upload stands.
    let skipped = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "9-12")],
        b"lost".to_vec(),
    )
    .await;
    assert_eq!(skipped.status, 416);
    assert_eq!(code(&skipped), "BLOB_UPLOAD_INVALID");
    assert_eq!(skipped.header("range"), Some("0-4"));
    let replay = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "0-4")],
        b"chunk".to_vec(),
    )
    .await;
    assert_eq!(replay.status, 416);
    let second = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "5-10")],
        b"-two-!".to_vec(),
    )
    .await;
    assert_eq!(second.status, 202);
    assert_eq!(second.header("range"), Some("0-10"));
    let status = send(&app, Method::GET, &location, &[], vec![]).await;
    assert_eq!(status.status, 204);
    assert_eq!(status.header("range"), Some("0-10"));
    // The last chunk may come with the closing PUT.
    let d = digest(b"chunk-two-!end");
    let done = send(
        &app,
        Method::PUT,
        &format!("{location}?digest={d}"),
        &[("content-range", "11-13")],
        b"end".to_vec(),
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(get_blob(&app, &d).await, b"chunk-two-!end");
    app.finish().await;
}

#[tokio::test]
async fn a_streamed_patch_needs_no_content_range() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    let body = vec![7u8; 3 << 20];
    let r = send(&app, Method::PATCH, &location, &[], body.clone()).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range").unwrap(), format!("0-{}", body.len() - 1));
    let d = digest(&body);
    let done = send(
        &app,
        Method::PUT,
        &format!("{location}?digest={d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(get_blob(&app, &d).await, body);
    app.finish().await;
}

#[tokio::test]
async fn a_wrong_digest_stores_nothing_and_ends_the_session() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    send(&app, Method::PATCH, &location, &[], b"some bytes".to_vec()).await;
    let wrong = digest(b"other bytes");
    let r = send(
        &app,
        Method::PUT,
        &format!("{location}?digest={wrong}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "DIGEST_INVALID");
    let blob = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{wrong}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(blob.status, 404);
    let right = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{}", digest(b"some bytes")),
        &[],
        vec![],
    )
    .await;
    assert_eq!(right.status, 404);
    assert_eq!(
        send(&app, Method::GET, &location, &[], vec![]).await.status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn cancel_drops_the_session() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    send(&app, Method::PATCH, &location, &[], b"partial".to_vec()).await;
    let r = send(&app, Method::DELETE, &location, &[], vec![]).await;
    assert_eq!(r.status, 204);
    let r = send(&app, Method::PATCH, &location, &[], b"more".to_vec()).await;
    assert_eq!(r.status, 404);
    assert_snapshot!(r.text(), @r#"{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","detail":null,"message":"no such upload session"}]}"#);
    app.finish().await;
}

#[tokio::test]
async fn a_session_belongs_to_its_image() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    let id = location.rsplit('/').next().unwrap();
    let other = format!("/v2/main/other/blobs/uploads/{id}");
    let r = send(&app, Method::PATCH, &other, &[], b"sneaky".to_vec()).await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "BLOB_UPLOAD_UNKNOWN");
    app.finish().await;
}

#[tokio::test]
async fn a_mount_links_a_blob_from_another_image() {
    let app = crate::app().await;
    let d = push_blob(&app, "main/base/os", b"shared base layer").await;
    let r = send(
        &app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/?mount={d}&from=main/base/os"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{NAME}/blobs/{d}")
    );
    assert_eq!(get_blob(&app, &d).await, b"shared base layer");
    // A blob the source does not hold: the client is sent on to a regular upload.
    let missing = digest(b"nowhere");
    let r = send(
        &app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/?mount={missing}&from=main/base/os"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202);
    assert!(r.header("location").unwrap().contains("/blobs/uploads/"));
    app.finish().await;
}

#[tokio::test]
async fn a_chunk_longer_or_shorter_than_its_range_is_not_kept() {
    let app = crate::app().await;
    let location = open_session(&app).await;
    let long = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "0-3")],
        b"too long".to_vec(),
    )
    .await;
    assert_eq!(long.status, 416);
    assert_eq!(code(&long), "BLOB_UPLOAD_INVALID");
    let short = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "0-99")],
        b"short".to_vec(),
    )
    .await;
    assert_eq!(short.status, 416);
    let status = send(&app, Method::GET, &location, &[], vec![]).await;
    assert_eq!(status.header("range"), Some("0-0"), "nothing was appended");
    let exact = send(
        &app,
        Method::PATCH,
        &location,
        &[("content-range", "0-4")],
        b"exact".to_vec(),
    )
    .await;
    assert_eq!(exact.status, 202);
    let d = digest(b"exact");
    let done = send(
        &app,
        Method::PUT,
        &format!("{location}?digest={d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(done.status, 201);
    app.finish().await;
}
