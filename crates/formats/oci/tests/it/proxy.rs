//! Proxy repositories of a second Wharf: blobs and manifests fetched once and kept, a tag asked
//! of the upstream at most once per max age (no request at all within it, one `HEAD` after
//! it unless the tag moved), the upstream's Bearer challenge answered with the configured
//! credentials, single flight for concurrent pulls, tampered blobs refused, the cache served
//! while the upstream is down.

use std::time::Duration;

use base64::Engine as _;
use http::Method;
use serde_json::json;
use wharf_server::upstream::UpstreamAuth;
use wharf_test_support::{Seen, Served, TestApp};

use crate::{OCI_MANIFEST, digest, image, listening_registry, put_manifest, send};

const NAME: &str = "main/team/app";

/// An upstream Wharf whose `main` holds `team/app:1.0` and reads need credentials.
async fn upstream() -> (TestApp, Vec<u8>) {
    let upstream = crate::app().await;
    let manifest = image(&upstream, NAME, b"{\"os\":\"linux\"}", &[b"upstream layer"]).await;
    assert_eq!(
        put_manifest(&upstream, NAME, "1.0", OCI_MANIFEST, &manifest)
            .await
            .status,
        201
    );
    let r = upstream
        .admin_json(
            Method::PATCH,
            "/api/v1/repositories/oci/main",
            &json!({"anonymous_read": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    upstream.state.forget_repositories();
    (upstream, manifest)
}

/// A Wharf with the proxy `hub` of `url` (the upstream's `main`), logging in as its admin.
async fn proxy(url: &str, max_age: Duration) -> TestApp {
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:admin-password");
    let app = crate::builder()
        .proxy_max_age(max_age)
        .upstream_auth(vec![UpstreamAuth {
            format: "oci".into(),
            name: "hub".into(),
            authorization: format!("Basic {basic}"),
            token_service: None,
        }])
        .build()
        .await;
    let r = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "hub", "format": "oci", "kind": "proxy", "upstream": format!("{url}/main")}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    app
}

/// The requests the upstream answered on `/v2/main/…` (not the token endpoint), by method.
fn registry_requests(seen: &Seen) -> Vec<(String, String)> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(_, path, status)| path.starts_with("/v2/main/") && *status != 401)
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect()
}

#[tokio::test]
async fn a_proxy_fetches_once_and_serves_from_its_cache() {
    let (upstream, manifest) = upstream().await;
    let (mut served, seen) = Served::counted(upstream.router.clone()).await;
    let app = proxy(&served.url, Duration::from_mins(10)).await;
    let m = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(m.status, 200, "{}", m.text());
    assert_eq!(m.body.to_vec(), manifest);
    assert_eq!(
        m.header("docker-content-digest"),
        Some(digest(&manifest).as_str())
    );
    // The upstream challenged, and its token endpoint was asked with the credentials.
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|(_, p, s)| p == "/v2/token" && *s == 200)
    );
    let layer = digest(b"upstream layer");
    let head = send(
        &app,
        Method::HEAD,
        &format!("/v2/hub/team/app/blobs/{layer}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("14"));
    let blob = send(
        &app,
        Method::GET,
        &format!("/v2/hub/team/app/blobs/{layer}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(blob.status, 200, "{}", blob.text());
    assert_eq!(blob.body.as_ref(), b"upstream layer");
    let before = registry_requests(&seen).len();
    // Within the max age, a second pull asks the upstream nothing.
    for path in [
        "/v2/hub/team/app/manifests/1.0".to_owned(),
        format!("/v2/hub/team/app/blobs/{layer}"),
        format!("/v2/hub/team/app/manifests/{}", digest(&manifest)),
    ] {
        let r = send(&app, Method::GET, &path, &[], vec![]).await;
        assert_eq!(r.status, 200, "{path}");
    }
    assert_eq!(registry_requests(&seen).len(), before);
    // And with the upstream gone, everything cached is still served.
    served.stop();
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/hub/team/app/blobs/{layer}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.body.as_ref(), b"upstream layer");
    let missing = send(
        &app,
        Method::GET,
        &format!("/v2/hub/team/app/blobs/{}", digest(b"never")),
        &[],
        vec![],
    )
    .await;
    assert_eq!(missing.status, 502);
    let push = send(
        &app,
        Method::POST,
        "/v2/hub/team/app/blobs/uploads/",
        &[],
        vec![],
    )
    .await;
    assert_eq!(push.status, 403);
    app.finish().await;
}

#[tokio::test]
async fn a_stale_tag_costs_one_head_and_a_moved_tag_is_followed() {
    let (upstream, first) = upstream().await;
    let (mut served, seen) = Served::counted(upstream.router.clone()).await;
    let app = proxy(&served.url, Duration::ZERO).await;
    let r = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.body.to_vec(), first);
    let before = registry_requests(&seen).len();
    let again = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(again.body.to_vec(), first);
    let asked: Vec<String> = registry_requests(&seen)[before..]
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    assert_eq!(asked, ["HEAD"]);
    let second = image(
        &upstream,
        NAME,
        b"{\"os\":\"linux\",\"v\":2}",
        &[b"new layer"],
    )
    .await;
    assert_eq!(
        put_manifest(&upstream, NAME, "1.0", OCI_MANIFEST, &second)
            .await
            .status,
        201
    );
    let moved = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(moved.body.to_vec(), second);
    // The upstream down: the last digest seen is served.
    served.stop();
    let stale = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body.to_vec(), second);
    let unknown = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/2.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(unknown.status, 502);
    app.finish().await;
}

#[tokio::test]
async fn concurrent_pulls_of_a_blob_make_one_upstream_request() {
    let (upstream, _) = upstream().await;
    let (served, seen) = Served::counted(upstream.router.clone()).await;
    let app = proxy(&served.url, Duration::from_mins(10)).await;
    let layer = digest(b"upstream layer");
    let path = format!("/v2/hub/team/app/blobs/{layer}");
    let pulls = (0..6).map(|_| send(&app, Method::GET, &path, &[], vec![]));
    for r in futures::future::join_all(pulls).await {
        assert_eq!(r.status, 200);
        assert_eq!(r.body.as_ref(), b"upstream layer");
    }
    let gets = registry_requests(&seen)
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with(&layer))
        .count();
    assert_eq!(gets, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_tampered_upstream_blob_is_refused_and_not_kept() {
    let (upstream, _) = upstream().await;
    let served = Served::tampering(upstream.router.clone(), |path| path.contains("/blobs/")).await;
    let app = proxy(&served.url, Duration::from_mins(10)).await;
    let layer = digest(b"upstream layer");
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/hub/team/app/blobs/{layer}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 502, "{}", r.text());
    // Nothing was kept: the next pull asks the upstream again (and is refused again).
    let again = send(
        &app,
        Method::GET,
        &format!("/v2/hub/team/app/blobs/{layer}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(again.status, 502);
    app.finish().await;
}

#[tokio::test]
async fn a_proxy_lists_the_upstreams_tags_under_its_own_name() {
    let (upstream, manifest) = upstream().await;
    for tag in ["2.0", "3.0"] {
        assert_eq!(
            put_manifest(&upstream, NAME, tag, OCI_MANIFEST, &manifest)
                .await
                .status,
            201
        );
    }
    let served = Served::start(upstream.router.clone()).await;
    let app = proxy(&served.url, Duration::from_mins(10)).await;
    let first = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/tags/list?n=2",
        &[],
        vec![],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        first.json(),
        json!({"name": "hub/team/app", "tags": ["1.0", "2.0"]})
    );
    assert_eq!(
        first.header("link"),
        Some("</v2/hub/team/app/tags/list?n=2&last=2.0>; rel=\"next\"")
    );
    let next = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/tags/list?n=2&last=2.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(next.json()["tags"], json!(["3.0"]));
    assert!(next.header("link").is_none());
    app.finish().await;
}

/// A proxy of `upstream` whose credentials may also go to `token_service`.
async fn proxy_with_token_service(upstream: &str, token_service: Option<String>) -> TestApp {
    let app = crate::builder()
        .upstream_auth(vec![UpstreamAuth {
            format: "oci".into(),
            name: "hub".into(),
            authorization: "Basic c3ZjOnNlY3JldA==".into(),
            token_service,
        }])
        .build()
        .await;
    let r = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "hub", "format": "oci", "kind": "proxy", "upstream": upstream}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    app
}

#[tokio::test]
async fn proxy_credentials_go_only_to_their_origin_and_configured_token_service() {
    let (service, service_heard) = listening_registry(|own| format!("{own}/token")).await;
    let realm = format!("{}/token", service.url);
    let (registry, _) = listening_registry(move |_| realm.clone()).await;
    let tokens = |heard: &crate::Heard| -> Vec<Option<String>> {
        heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, path, _)| path == "/token")
            .map(|(_, _, auth)| auth.clone())
            .collect()
    };
    // Not configured: the token service elsewhere is asked anonymously.
    let app = proxy_with_token_service(&registry.url, None).await;
    let r = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_ne!(r.status, 200);
    let asked = tokens(&service_heard);
    assert!(!asked.is_empty());
    assert!(asked.iter().all(Option::is_none), "{asked:?}");
    app.finish().await;
    // Configured: it receives them.
    service_heard.lock().unwrap().clear();
    let app = proxy_with_token_service(&registry.url, Some(service.url.clone())).await;
    let _ = send(
        &app,
        Method::GET,
        "/v2/hub/team/app/manifests/1.0",
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        tokens(&service_heard),
        vec![Some("Basic c3ZjOnNlY3JldA==".to_owned())]
    );
    app.finish().await;
}
