//! Bad input gets the spec's error code and a 4xx, and stores nothing: manifests naming
//! missing blobs, unknown media types, malformed JSON, wrong digests and algorithms, names
//! breaking the grammar, chunks past the size limit.

use http::Method;
use insta::assert_snapshot;
use serde_json::json;
use wharf_test_support::TestApp;

use crate::{OCI_MANIFEST, code, descriptor, digest, image, push_blob, put_manifest, send};

const NAME: &str = "main/team/app";

async fn assert_no_manifests(app: &TestApp) {
    let tags = send(
        app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list"),
        &[],
        vec![],
    )
    .await;
    assert!(
        tags.status == 404 || tags.json()["tags"] == json!([]),
        "{}",
        tags.text()
    );
}

#[tokio::test]
async fn a_manifest_naming_a_missing_blob_is_refused() {
    let app = crate::app().await;
    push_blob(&app, NAME, b"{}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", b"{}"),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b"never pushed")],
    }))
    .unwrap();
    let r = put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &manifest).await;
    assert_eq!(r.status, 400);
    assert_snapshot!(r.text(), @r#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","detail":null,"message":"the manifest references blob sha256:318de017a845687221ece7813c25d086e19496d5860d2b1c3cb910bb386b3a6d, which is not in main/team/app"}]}"#);
    assert_no_manifests(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn malformed_and_unknown_manifests_are_invalid() {
    let app = crate::app().await;
    let good = image(&app, NAME, b"{}", &[b"layer"]).await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), OCI_MANIFEST),
        (
            good.clone(),
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        ),
        (
            good.clone(),
            "application/vnd.docker.distribution.manifest.v2+json",
        ),
        (br#"{"schemaVersion":1,"name":"x"}"#.to_vec(), OCI_MANIFEST),
        (
            serde_json::to_vec(
                &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}),
            )
            .unwrap(),
            OCI_MANIFEST,
        ),
    ];
    for (body, media_type) in cases {
        let r = put_manifest(&app, NAME, "1.0", media_type, &body).await;
        assert_eq!(r.status, 400, "{media_type}: {}", r.text());
        assert_eq!(code(&r), "MANIFEST_INVALID", "{}", r.text());
    }
    // A layer whose size disagrees with the blob.
    let mut wrong_size: serde_json::Value = serde_json::from_slice(&good).unwrap();
    wrong_size["layers"][0]["size"] = json!(999);
    let r = put_manifest(
        &app,
        NAME,
        "1.0",
        OCI_MANIFEST,
        &serde_json::to_vec(&wrong_size).unwrap(),
    )
    .await;
    assert_eq!(code(&r), "MANIFEST_INVALID");
    assert_no_manifests(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn digests_must_match_and_be_sha256() {
    let app = crate::app().await;
    let good = image(&app, NAME, b"{}", &[b"layer"]).await;
    let other = digest(b"something else");
    let r = put_manifest(&app, NAME, &other, OCI_MANIFEST, &good).await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "DIGEST_INVALID");
    let sha512 = format!("sha512:{}", "a".repeat(128));
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{sha512}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(code(&r), "UNSUPPORTED");
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/sha256:xyz"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "DIGEST_INVALID");
    let r = send(
        &app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/?digest={other}"),
        &[],
        b"not that".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "DIGEST_INVALID");
    let r = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{other}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 404);
    assert_no_manifests(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn names_must_follow_the_grammar() {
    let app = crate::app().await;
    for path in [
        "/v2/main/Team/blobs/uploads/",
        "/v2/main/a..b/blobs/uploads/",
        "/v2/main/blobs/uploads/",
        "/v2/main/-x/tags/list",
    ] {
        let r = send(&app, Method::POST, path, &[], vec![]).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert_eq!(code(&r), "NAME_INVALID", "{path}");
    }
    let r = send(&app, Method::GET, "/v2/nowhere/app/tags/list", &[], vec![]).await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "NAME_UNKNOWN");
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/-bad"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 400);
    app.finish().await;
}

#[tokio::test]
async fn uploads_past_the_limit_are_refused() {
    let app = crate::builder().max_upload(1024).build().await;
    let r = send(
        &app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/?digest={}", digest(&[1u8; 2048])),
        &[],
        vec![1u8; 2048],
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(code(&r), "SIZE_INVALID");
    let session = send(
        &app,
        Method::POST,
        &format!("/v2/{NAME}/blobs/uploads/"),
        &[],
        vec![],
    )
    .await;
    let location = session.header("location").unwrap().to_owned();
    let first = send(&app, Method::PATCH, &location, &[], vec![2u8; 1000]).await;
    assert_eq!(first.status, 202);
    let over = send(&app, Method::PATCH, &location, &[], vec![2u8; 100]).await;
    assert_eq!(over.status, 413);
    assert_eq!(code(&over), "SIZE_INVALID");
    let status = send(&app, Method::GET, &location, &[], vec![]).await;
    assert_eq!(status.header("range"), Some("0-999"));
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{}", digest(&[1u8; 2048])),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 404);
    app.finish().await;
}
