//! Pull: manifests by tag and by digest (`GET` and `HEAD`, `Docker-Content-Digest`, the
//! stored media type as `Content-Type`, `Accept` honoured), blobs with ranges, and indexes
//! whose children are manifests of the same image.

use http::Method;
use serde_json::json;

use crate::{OCI_INDEX, OCI_MANIFEST, code, descriptor, digest, image, put_manifest, send};

const NAME: &str = "main/team/app";

#[tokio::test]
async fn a_manifest_is_served_by_tag_and_digest() {
    let app = crate::app().await;
    let manifest = image(
        &app,
        NAME,
        b"{\"architecture\":\"amd64\"}",
        &[b"layer one", b"layer two"],
    )
    .await;
    let d = digest(&manifest);
    let r = put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &manifest).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{NAME}/manifests/{d}")
    );
    for reference in ["1.0", d.as_str()] {
        let get = send(
            &app,
            Method::GET,
            &format!("/v2/{NAME}/manifests/{reference}"),
            &[("accept", OCI_MANIFEST)],
            vec![],
        )
        .await;
        assert_eq!(get.status, 200, "{}", get.text());
        assert_eq!(get.body.to_vec(), manifest);
        assert_eq!(get.header("content-type"), Some(OCI_MANIFEST));
        assert_eq!(get.header("docker-content-digest"), Some(d.as_str()));
        let head = send(
            &app,
            Method::HEAD,
            &format!("/v2/{NAME}/manifests/{reference}"),
            &[],
            vec![],
        )
        .await;
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length").unwrap(),
            manifest.len().to_string()
        );
        assert!(head.body.is_empty());
    }
    // A client that takes only Docker's schema 2 is not handed an OCI manifest.
    let docker_only = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/1.0"),
        &[(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )],
        vec![],
    )
    .await;
    assert_eq!(docker_only.status, 404);
    assert_eq!(code(&docker_only), "MANIFEST_UNKNOWN");
    let missing = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/2.0"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(code(&missing), "MANIFEST_UNKNOWN");
    app.finish().await;
}

#[tokio::test]
async fn blobs_are_served_in_ranges() {
    let app = crate::app().await;
    let d = crate::push_blob(&app, NAME, b"0123456789").await;
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{d}"),
        &[("range", "bytes=2-5")],
        vec![],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), b"2345");
    assert_eq!(r.header("content-range"), Some("bytes 2-5/10"));
    let unknown = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/blobs/{}", digest(b"none")),
        &[],
        vec![],
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(code(&unknown), "BLOB_UNKNOWN");
    // A blob of another image is not this image's.
    let elsewhere = send(
        &app,
        Method::GET,
        &format!("/v2/main/other/blobs/{d}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn an_index_references_manifests_of_the_image() {
    let app = crate::app().await;
    let amd = image(&app, NAME, b"{\"architecture\":\"amd64\"}", &[b"amd layer"]).await;
    let arm = image(&app, NAME, b"{\"architecture\":\"arm64\"}", &[b"arm layer"]).await;
    for m in [&amd, &arm] {
        let r = put_manifest(&app, NAME, &digest(m), OCI_MANIFEST, m).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let mut amd_desc = descriptor(OCI_MANIFEST, &amd);
    amd_desc["platform"] = json!({"architecture": "amd64", "os": "linux"});
    let mut arm_desc = descriptor(OCI_MANIFEST, &arm);
    arm_desc["platform"] = json!({"architecture": "arm64", "os": "linux"});
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd_desc, arm_desc]}),
    )
    .unwrap();
    let r = put_manifest(&app, NAME, "multi", OCI_INDEX, &index).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let get = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/manifests/multi"),
        &[("accept", OCI_INDEX)],
        vec![],
    )
    .await;
    assert_eq!(get.header("content-type"), Some(OCI_INDEX));
    assert_eq!(get.body.to_vec(), index);
    app.finish().await;
}

#[tokio::test]
async fn a_moved_tag_is_served_at_once_and_etags_save_the_body() {
    let app = crate::app().await;
    let first = image(&app, NAME, b"{\"v\":1}", &[b"one"]).await;
    put_manifest(&app, NAME, "latest", OCI_MANIFEST, &first).await;
    let path = format!("/v2/{NAME}/manifests/latest");
    let r = send(&app, Method::GET, &path, &[], vec![]).await;
    assert_eq!(r.body.to_vec(), first);
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", digest(&first)));
    let cached = send(
        &app,
        Method::GET,
        &path,
        &[("if-none-match", &etag)],
        vec![],
    )
    .await;
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    let second = image(&app, NAME, b"{\"v\":2}", &[b"two"]).await;
    put_manifest(&app, NAME, "latest", OCI_MANIFEST, &second).await;
    let moved = send(
        &app,
        Method::GET,
        &path,
        &[("if-none-match", &etag)],
        vec![],
    )
    .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.body.to_vec(), second);
    // Deleted: gone at once too.
    send(
        &app,
        Method::DELETE,
        &format!("/v2/{NAME}/manifests/{}", digest(&second)),
        &[],
        vec![],
    )
    .await;
    let gone = send(&app, Method::GET, &path, &[], vec![]).await;
    assert_eq!(gone.status, 404);
    app.finish().await;
}
