//! Content discovery: tag lists with `n`/`last` and `Link`, the catalog, and referrers with
//! the `artifactType` filter.

use http::Method;
use insta::assert_snapshot;
use serde_json::json;

use crate::{OCI_MANIFEST, descriptor, digest, image, push_blob, put_manifest, send};

const NAME: &str = "main/team/app";

#[tokio::test]
async fn tags_are_listed_in_pages() {
    let app = crate::app().await;
    let m = image(&app, NAME, b"{}", &[b"layer"]).await;
    for tag in ["b", "a", "c", "1.0", "latest"] {
        assert_eq!(
            put_manifest(&app, NAME, tag, OCI_MANIFEST, &m).await.status,
            201
        );
    }
    let all = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list"),
        &[],
        vec![],
    )
    .await;
    assert_snapshot!(all.text(), @r#"{"name":"main/team/app","tags":["1.0","a","b","c","latest"]}"#);
    let first = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list?n=2"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(first.json()["tags"], json!(["1.0", "a"]));
    assert_eq!(
        first.header("link").unwrap(),
        format!("</v2/{NAME}/tags/list?n=2&last=a>; rel=\"next\"")
    );
    let next = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list?n=2&last=a"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(next.json()["tags"], json!(["b", "c"]));
    let last = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/tags/list?n=2&last=c"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(last.json()["tags"], json!(["latest"]));
    assert!(last.header("link").is_none());
    let unknown = send(&app, Method::GET, "/v2/main/nothing/tags/list", &[], vec![]).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(crate::code(&unknown), "NAME_UNKNOWN");
    app.finish().await;
}

#[tokio::test]
async fn the_catalog_lists_images_as_repository_and_name() {
    let app = crate::app().await;
    for name in ["main/b/app", "main/a", "main/c/d/e"] {
        push_blob(&app, name, b"x").await;
    }
    let all = send(&app, Method::GET, "/v2/_catalog", &[], vec![]).await;
    assert_snapshot!(all.text(), @r#"{"repositories":["main/a","main/b/app","main/c/d/e"]}"#);
    let page = send(
        &app,
        Method::GET,
        "/v2/_catalog?n=1&last=main/a",
        &[],
        vec![],
    )
    .await;
    assert_eq!(page.json()["repositories"], json!(["main/b/app"]));
    assert_eq!(
        page.header("link"),
        Some("</v2/_catalog?n=1&last=main%2Fb%2Fapp>; rel=\"next\"")
    );
    app.finish().await;
}

#[tokio::test]
async fn referrers_list_manifests_whose_subject_is_the_digest() {
    let app = crate::app().await;
    let subject = image(&app, NAME, b"{}", &[b"app layer"]).await;
    put_manifest(&app, NAME, "1.0", OCI_MANIFEST, &subject).await;
    let empty = b"{}".as_slice();
    push_blob(&app, NAME, empty).await;
    let mut referrers = Vec::new();
    for (artifact_type, payload) in [
        ("application/vnd.example.sbom", b"sbom".as_slice()),
        ("application/vnd.example.sig", b"sig"),
    ] {
        push_blob(&app, NAME, payload).await;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
            "config": descriptor("application/vnd.oci.empty.v1+json", empty),
            "layers": [descriptor("application/octet-stream", payload)],
            "subject": descriptor(OCI_MANIFEST, &subject),
            "annotations": {"org.example.kind": artifact_type},
        }))
        .unwrap();
        let r = put_manifest(&app, NAME, &digest(&manifest), OCI_MANIFEST, &manifest).await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.header("oci-subject"), Some(digest(&subject).as_str()));
        referrers.push(manifest);
    }
    let path = format!("/v2/{NAME}/referrers/{}", digest(&subject));
    let all = send(&app, Method::GET, &path, &[], vec![]).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let listed = all.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    let sbom = listed
        .iter()
        .find(|m| m["artifactType"] == "application/vnd.example.sbom")
        .unwrap();
    assert_eq!(sbom["digest"], json!(digest(&referrers[0])));
    assert_eq!(sbom["size"], json!(referrers[0].len()));
    assert_eq!(sbom["mediaType"], json!(OCI_MANIFEST));
    assert_eq!(
        sbom["annotations"]["org.example.kind"],
        json!("application/vnd.example.sbom")
    );
    let filtered = send(
        &app,
        Method::GET,
        &format!("{path}?artifactType=application/vnd.example.sig"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    let listed = filtered.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["digest"], json!(digest(&referrers[1])));
    let none = send(
        &app,
        Method::GET,
        &format!("/v2/{NAME}/referrers/{}", digest(b"nothing")),
        &[],
        vec![],
    )
    .await;
    assert_snapshot!(none.text(), @r#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#);
    app.finish().await;
}
