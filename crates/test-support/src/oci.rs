//! OCI fixtures shared by the OCI format's and the image uploader's tests: digests, requests
//! as the admin, and a registry that challenges every request.

use http::Method;
use serde_json::json;
use sha2::Digest as _;

use crate::{Served, TestApp, TestResponse};

/// `sha256:<hex>` of `data`.
pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// A request as `token` with extra headers.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<axum::body::Body>,
) -> TestResponse {
    let auth = format!("Bearer {}", app.admin_token);
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    app.request(method, path, &all, body).await
}

/// Every request a fake registry received: method, path and `Authorization`.
pub type Heard = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Option<String>)>>>;

/// A registry that records every request and answers `401` with a Bearer challenge whose
/// realm is `realm(its own URL)`, or, on `/token`, a token.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn listening_registry(
    realm: impl Fn(&str) -> String + Clone + Send + Sync + 'static,
) -> (Served, Heard) {
    let heard: Heard = std::sync::Arc::default();
    let own = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let (record, url) = (heard.clone(), own.clone());
    let router = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (record, url, realm) = (record.clone(), url.clone(), realm.clone());
        async move {
            let auth = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            record
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((req.method().to_string(), req.uri().path().to_owned(), auth));
            if req.uri().path() == "/token" {
                return axum::response::IntoResponse::into_response(axum::Json(
                    json!({"token": "t"}),
                ));
            }
            let challenge = format!(
                "Bearer realm=\"{}\",service=\"x\"",
                realm(url.get().expect("set once served"))
            );
            axum::response::IntoResponse::into_response((
                http::StatusCode::UNAUTHORIZED,
                [("www-authenticate", challenge)],
                "",
            ))
        }
    });
    let served = Served::start(router).await;
    own.set(served.url.clone()).expect("set once");
    (served, heard)
}
