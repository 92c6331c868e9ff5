//! Outbound requests of proxy repositories: credentials go to the upstream's own origin and
//! never follow a redirect to another one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Redirect};
use wharf_core::model::{RepoKind, RepoPolicy, Repository};
use wharf_core::names::RepoName;
use wharf_core::time::Timestamp;
use wharf_server::upstream::{Credentials, Upstream, UpstreamAuth};
use wharf_test_support::Served;

type Heard = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A server recording each request's path and `Authorization`, answering with `answer`.
async fn recording(
    answer: impl Fn(&str) -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (Served, Heard) {
    let heard: Heard = Arc::default();
    let record = heard.clone();
    let router = Router::new().fallback(move |req: Request| {
        let (record, answer) = (record.clone(), answer.clone());
        async move {
            let auth = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            record
                .lock()
                .unwrap()
                .push((req.uri().path().to_owned(), auth));
            answer(req.uri().path())
        }
    });
    (Served::start(router).await, heard)
}

fn proxy(upstream: &str) -> Repository {
    Repository {
        id: 1,
        name: RepoName::new("mirror").unwrap(),
        format: "npm".into(),
        kind: RepoKind::Proxy,
        upstream: Some(upstream.to_owned()),
        members: vec![],
        policy: RepoPolicy::default(),
        created_at: Timestamp(0),
    }
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_origin() {
    let (elsewhere, elsewhere_heard) =
        recording(|_| axum::Json(serde_json::json!({"ok": true})).into_response()).await;
    let target = format!("{}/doc", elsewhere.url);
    let (origin, origin_heard) =
        recording(move |_| Redirect::temporary(&target).into_response()).await;
    let upstream = Upstream::new(
        Duration::from_secs(5),
        &[UpstreamAuth {
            format: "npm".into(),
            name: "mirror".into(),
            authorization: "Bearer upstream-secret".into(),
            token_service: None,
        }],
    );
    let repo = proxy(&format!("{}/", origin.url));
    let doc = upstream
        .get_json(&repo, &format!("{}/doc", origin.url), &[])
        .await
        .unwrap();
    assert_eq!(doc, serde_json::json!({"ok": true}));
    assert_eq!(
        origin_heard.lock().unwrap().clone(),
        vec![("/doc".to_owned(), Some("Bearer upstream-secret".to_owned()))]
    );
    assert_eq!(
        elsewhere_heard.lock().unwrap().clone(),
        vec![("/doc".to_owned(), None)]
    );
    // A document URL on another origin is fetched without them too.
    let _ = upstream
        .get_json(&repo, &format!("{}/other", elsewhere.url), &[])
        .await;
    assert_eq!(elsewhere_heard.lock().unwrap().last().unwrap().1, None);
}

#[test]
fn credentials_are_bound_to_origins() {
    let value = http::HeaderValue::from_static("Basic eDp5");
    let c = Credentials::new(
        value,
        &["https://registry.example/v2/", "https://auth.example"],
    );
    assert!(c.for_url("https://registry.example/token").is_some());
    assert!(c.for_url("https://auth.example/token?x=1").is_some());
    assert!(c.for_url("http://registry.example/token").is_none());
    assert!(c.for_url("https://registry.example:444/token").is_none());
    assert!(c.for_url("https://evil.example/token").is_none());
    assert!(c.for_url("not a url").is_none());
    assert_eq!(format!("{c:?}"), "Credentials(***, 2 origins)");
}
