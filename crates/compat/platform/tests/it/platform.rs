use std::time::Duration;

use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_compat_platform::{PlatformApi, PlatformConfig};
use wharf_test_support::TestApp;

use crate::assert_wire;

async fn put(app: &TestApp, file: &str, body: &str) -> u16 {
    let r = app
        .admin(
            Method::PUT,
            &format!("/platform/packages/{file}"),
            body.to_owned(),
        )
        .await;
    assert!(
        r.body.is_empty() || r.status != 200,
        "200 answers have an empty body"
    );
    r.status.as_u16()
}

#[tokio::test]
async fn list_groups_by_name_newest_first_with_recency() {
    let app = crate::app().await;
    for file in [
        "spark-batch-example-app-1.0.23.tar.gz",
        "spark-batch-example-app-1.0.9.tar.gz",
        "spark-batch-example-app-1.10.0.tar.gz",
        "other-2-0.1.0.tar.gz",
    ] {
        assert_eq!(put(&app, file, file).await, 200);
    }
    app.admin(
        Method::PUT,
        "/generic/main/misc/1/readme.txt",
        "not a platform package",
    )
    .await;
    let one = app.get("/platform/packages").await;
    assert_eq!(one.status, 200);
    assert_wire!(one.json());
    let all = app.get("/platform/packages?recency=10").await;
    assert_wire!(all.json());
    let none = app.get("/platform/packages?recency=0").await;
    assert_eq!(none.json()[0]["latest_versions"], serde_json::json!([]));
    let but_oldest = app.get("/platform/packages?recency=-1").await;
    assert_eq!(
        but_oldest.json()[1]["latest_versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let bad = app.get("/platform/packages?recency=many").await;
    assert_eq!(
        (bad.status.as_u16(), bad.text().as_str()),
        (400, "recency must be an integer, found \"many\"\n")
    );
    app.finish().await;
}

#[tokio::test]
async fn get_put_delete_answer_like_the_original() {
    let app = crate::app().await;
    assert_eq!(put(&app, "my-package-1.0.0.tar.gz", "v1").await, 200);
    let got = app.get("/platform/packages/my-package-1.0.0.tar.gz").await;
    assert_eq!((got.status.as_u16(), got.text().as_str()), (200, "v1"));
    assert_eq!(got.header("content-type"), Some("application/x-tar"));
    assert_eq!(
        put(&app, "my-package-1.0.0.tar.gz", "v1 again").await,
        200,
        "PUT overwrites"
    );
    assert_eq!(
        app.get("/platform/packages/my-package-1.0.0.tar.gz")
            .await
            .text(),
        "v1 again"
    );
    let generic = app
        .get("/generic/main/my-package/1.0.0/my-package-1.0.0.tar.gz")
        .await;
    assert_eq!(
        generic.text(),
        "v1 again",
        "platform files live in the generic repository"
    );
    let deleted = app
        .admin(
            Method::DELETE,
            "/platform/packages/my-package-1.0.0.tar.gz",
            "",
        )
        .await;
    assert_eq!((deleted.status.as_u16(), deleted.body.len()), (200, 0));
    let missing = app.get("/platform/packages/my-package-1.0.0.tar.gz").await;
    assert_eq!(
        (missing.status.as_u16(), missing.text().as_str()),
        (404, "404 not found")
    );
    let again = app
        .admin(
            Method::DELETE,
            "/platform/packages/my-package-1.0.0.tar.gz",
            "",
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.text().as_str()),
        (404, "404 not found")
    );
    assert_eq!(app.get("/platform/packages/garbage").await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn bad_file_names_are_400_with_the_reason() {
    let app = crate::app().await;
    for (file, message) in [
        (
            "pkg-1.0.0.zip",
            "sorry. the archive must end with a tar.gz extension \n",
        ),
        (
            "pkg.tar.gz",
            "package name must be of the form name-version e.g. name-0.1.2 but found pkg\n",
        ),
        (
            "pkg-1.0.tar.gz",
            "package version must be a three part major.minor.patch e.g. name-1.2.3 but found pkg-1.0\n",
        ),
    ] {
        let r = app
            .admin(Method::PUT, &format!("/platform/packages/{file}"), "x")
            .await;
        assert_eq!(
            (r.status.as_u16(), r.text().as_str()),
            (400, message),
            "{file}"
        );
    }
    assert_eq!(
        app.state.store.blob_totals().await.unwrap(),
        (0, 0),
        "nothing stored"
    );
    app.finish().await;
}

#[tokio::test]
async fn writes_need_a_token() {
    let app = crate::app().await;
    let r = app
        .request(Method::PUT, "/platform/packages/a-1.0.0.tar.gz", &[], "x")
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    let r = app
        .request(Method::DELETE, "/platform/packages/a-1.0.0.tar.gz", &[], "")
        .await;
    assert_eq!(r.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn compat_root_serves_the_api_at_packages() {
    let app = crate::builder().compat_root("platform").build().await;
    let r = app
        .admin(Method::PUT, "/packages/app-0.0.1.tar.gz", "bytes")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/packages/app-0.0.1.tar.gz").await.text(), "bytes");
    assert_eq!(app.get("/packages").await.json()[0]["name"], "app");
    let plain = crate::app().await;
    assert_eq!(
        plain.get("/packages").await.status,
        404,
        "not mounted without compat.root"
    );
    app.finish().await;
    plain.finish().await;
}

#[tokio::test]
async fn package_callback_is_posted_after_put_and_delete() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let received = tokio::spawn(async move {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        bodies
                            .push(serde_json::from_str::<serde_json::Value>(&body[..len]).unwrap());
                        break;
                    }
                }
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        }
        bodies
    });
    let app = crate::builder_with(PlatformApi::new(PlatformConfig {
        repository: "main".into(),
        package_callback: Some(url),
    }))
    .build()
    .await;
    assert_eq!(put(&app, "app-1.2.3.tar.gz", "x").await, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.admin(Method::DELETE, "/platform/packages/app-1.2.3.tar.gz", "")
        .await;
    let bodies = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bodies[0]["data"][0]["id"], "app-1.2.3");
    assert_eq!(bodies[0]["data"][0]["state"], "CREATED");
    assert_eq!(bodies[1]["data"][0]["state"], "NOTCREATED");
    assert!(bodies[1]["timestamp"].as_i64().unwrap() > 0);
    app.finish().await;
}
