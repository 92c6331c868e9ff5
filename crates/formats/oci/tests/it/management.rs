//! Content management: deleting tags, manifests and blobs; what a deleted manifest alone
//! referenced is freed by garbage collection, while layers shared with another image stay.

use http::Method;
use serde_json::json;

use crate::{OCI_MANIFEST, code, digest, image, push_blob, put_manifest, send};

const NAME: &str = "main/team/app";

#[tokio::test]
async fn deleting_a_tag_keeps_the_manifest() {
    let app = crate::app().await;
    let m = image(&app, NAME, b"{}", &[b"layer"]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &m).await;
    put_manifest(&app, NAME, "latest", OCI_MANIFEST, &m).await;
    let r = send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/manifests/latest"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202);
    let tags = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(tags.json()["tags"], json!(["1.0"]));
    let by_digest = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/{}", digest(&m)),
        &[],
        vec![],
    )
    .await;
    assert_eq!(by_digest.status, 200);
    let again = send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/manifests/latest"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(code(&again), "MANIFEST_UNKNOWN");
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_manifest_frees_only_what_nothing_else_references() {
    let app = crate::app().await;
    let shared = b"shared base layer".as_slice();
    let only = b"layer of the first image only".as_slice();
    let first = image(&app, NAME, b"{\"n\":1}", &[shared, only]).await;
    let second = image(&app, "main/team/other", b"{\"n\":2}", &[shared]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &first).await;
    put_manifest(&app, "main/team/other", "1.0", OCI_MANIFEST, &second).await;
    let d = digest(&first);
    let r = send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/manifests/{d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let gone = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/1.0"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(gone.status, 404);
    let gone = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/{d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(gone.status, 404);
    let gc = app
        .admin_json(Method::POST, "/api/v1/gc", &json!({"grace": "0s"}))
        .await;
    assert_eq!(gc.status, 200, "{}", gc.text());
    // The first image's own layer, config and manifest went; the shared layer stayed.
    assert_eq!(gc.json()["deleted"], 3);
    let kept = send(
        &app,
        Method::GET,
        &format!("/v2/main/team/other/blobs/{}", digest(shared)),
        &[],
        vec![],
    )
    .await;
    assert_eq!(kept.status, 200);
    assert_eq!(kept.body.as_ref(), shared);
    let other = send(
        &app,
        Method::GET,
        "/v2/main/team/other/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(other.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn an_unreferenced_blob_can_be_deleted_a_referenced_one_not() {
    let app = crate::app().await;
    let loose = push_blob(&app, NAME, b"never referenced").await;
    let r = send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/blobs/{loose}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202);
    let r = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{loose}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 404);
    let m = image(&app, NAME, b"{}", &[b"used layer"]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &m).await;
    let used = digest(b"used layer");
    let r = send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/blobs/{used}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(code(&r), "DENIED");
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{used}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn blobs_no_manifest_took_are_freed_after_the_grace_period() {
    let app = crate::app().await;
    let loose = push_blob(&app, NAME, b"pushed, never referenced").await;
    let m = image(&app, NAME, b"{}", &[b"kept layer"]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &m).await;
    // Within the grace period nothing is unlinked.
    let gc = app.admin_json(Method::POST, "/api/v1/gc", &json!({})).await;
    assert_eq!(gc.json()["upkeep_removed"], 0);
    let gc = app
        .admin_json(Method::POST, "/api/v1/gc", &json!({"grace": "0s"}))
        .await;
    assert_eq!(gc.status, 200, "{}", gc.text());
    assert_eq!(gc.json()["upkeep_removed"], 1);
    assert_eq!(gc.json()["deleted"], 1);
    let r = send(
        &app,
        Method::HEAD,
        &format!("/v2/{NAME}/blobs/{loose}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 404);
    let kept = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{}", digest(b"kept layer")),
        &[],
        vec![],
    )
    .await;
    assert_eq!(kept.status, 200);
    let manifest = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/1.0"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(manifest.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_manifest_through_the_api_removes_its_tags() {
    let app = crate::app().await;
    let one = image(&app, NAME, b"{\"n\":1}", &[b"layer one"]).await;
    let two = image(&app, NAME, b"{\"n\":2}", &[b"layer two"]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &one).await;
    put_manifest(&app, NAME, "latest", OCI_MANIFEST, &one).await;
    put_manifest(&app, NAME, "2.0", OCI_MANIFEST, &two).await;
    let version = format!(
        "/api/v1/repositories/oci/main/packages/team%2Fapp/versions/{}",
        digest(&one)
    );
    let r = app.admin(Method::DELETE, &version, "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    let tags = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(tags.json()["tags"], json!(["2.0"]));
    let gone = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/latest"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(gone.status, 404);
    assert_eq!(code(&gone), "MANIFEST_UNKNOWN");
    app.finish().await;
}
