use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use wharf_test_support::{Served, TestApp};

use crate::{BOUNDARY, form, metadata, upload_wheel, wheel};

const JSON: &str = "application/vnd.pypi.simple.v1+json";

async fn create(app: &TestApp, body: Value) {
    let r = app
        .admin_json(Method::POST, "/api/v1/repositories", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

async fn page(app: &TestApp, path: &str) -> Value {
    let r = app
        .request(Method::GET, path, &[("accept", JSON), ("host", "me")], "")
        .await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

fn filenames(page: &Value) -> Vec<&str> {
    page["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_proxy_rewrites_upstream_pages_and_caches_files_for_ever() {
    let upstream = crate::app().await;
    let r = upload_wheel(&upstream, "up", "1.0", "Requires-Python: >=3.8").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (mut served, seen) = Served::counted(upstream.router.clone()).await;
    let app = crate::builder().proxy_max_age(Duration::ZERO).build().await;
    create(&app, json!({"name": "pypi-proxy", "format": "pypi", "kind": "proxy", "upstream": format!("{}/pypi/main/simple/", served.url)})).await;

    let theirs = page(&upstream, "/pypi/main/simple/up/").await;
    let ours = page(&app, "/pypi/pypi-proxy/simple/up/").await;
    let file = "up-1.0-py3-none-any.whl";
    assert_eq!(filenames(&ours), vec![file]);
    let (t, o) = (&theirs["files"][0], &ours["files"][0]);
    assert_eq!(
        o["url"],
        format!("http://me/pypi/pypi-proxy/files/up/1.0/{file}")
    );
    for field in [
        "hashes",
        "core-metadata",
        "requires-python",
        "size",
        "yanked",
    ] {
        assert_eq!(o[field], t[field], "{field}");
    }
    let html = app.get("/pypi/pypi-proxy/simple/up/").await.text();
    assert!(html.contains("data-requires-python=\"&gt;=3.8\""), "{html}");

    let path = format!("/pypi/pypi-proxy/files/up/1.0/{file}");
    let downloads = (0..8).map(|_| app.get(&path));
    let expected = upstream
        .get(&format!("/pypi/main/files/up/1.0/{file}"))
        .await
        .body;
    for r in futures::future::join_all(downloads).await {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, expected);
    }
    let fetched = |suffix: &str| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(_, p, _)| p.ends_with(suffix))
            .count()
    };
    assert_eq!(
        fetched(".whl"),
        1,
        "concurrent downloads make one upstream request"
    );
    let meta = app
        .get(&format!("/pypi/pypi-proxy/files/up/1.0/{file}.metadata"))
        .await;
    assert_eq!(meta.status, 200);
    assert_eq!(meta.text(), metadata("up", "1.0", "Requires-Python: >=3.8"));
    let api = app.get("/pypi/pypi-proxy/pypi/up/json").await.json();
    assert_eq!(api["info"]["summary"], "up summary");
    assert_eq!(api["info"]["version"], "1.0");
    assert_eq!(
        page(&app, "/pypi/pypi-proxy/simple/").await["projects"],
        json!([{"name": "up"}])
    );
    app.get("/pypi/pypi-proxy/simple/up/").await;
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|(_, p, s)| p.ends_with("/simple/up/") && *s == 304),
        "expired pages are revalidated with their ETag: {:?}",
        seen.lock().unwrap()
    );

    served.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        filenames(&page(&app, "/pypi/pypi-proxy/simple/up/").await),
        vec![file],
        "a stale page is served while the upstream is down"
    );
    let cached = app
        .get(&format!("/pypi/pypi-proxy/files/up/1.0/{file}"))
        .await;
    assert_eq!(cached.status, 200, "cached files need no upstream");
    unknown_projects_fail_and_proxies_are_read_only(&app).await;
    app.finish().await;
    upstream.finish().await;
}

/// With the upstream down, an uncached project is a 502; an upload to a proxy is refused.
async fn unknown_projects_fail_and_proxies_are_read_only(app: &TestApp) {
    let unknown = app.get("/pypi/pypi-proxy/simple/never-seen/").await;
    assert_eq!(unknown.status, 502, "{}", unknown.text());
    let auth = format!("Bearer {}", app.admin_token);
    let content = wheel("x", "1.0", Some(&metadata("x", "1.0", "")));
    let read_only = app
        .request(
            Method::POST,
            "/pypi/pypi-proxy/",
            &[
                ("authorization", &auth),
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
            ],
            form(
                "x-1.0-py3-none-any.whl",
                &content,
                &[("name", "x"), ("version", "1.0")],
            ),
        )
        .await;
    assert_eq!(read_only.status, 400, "{}", read_only.text());
}

#[tokio::test]
async fn a_proxy_refuses_a_file_whose_hash_does_not_match_the_page() {
    let upstream = crate::app().await;
    upload_wheel(&upstream, "up", "1.0", "").await;
    let served = Served::tampering(upstream.router.clone(), |path| {
        std::path::Path::new(path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("whl"))
    })
    .await;
    let app = crate::app().await;
    create(&app, json!({"name": "p", "format": "pypi", "kind": "proxy", "upstream": format!("{}/pypi/main/simple", served.url)})).await;
    let r = app
        .get("/pypi/p/files/up/1.0/up-1.0-py3-none-any.whl")
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "nothing cached"
    );
    app.finish().await;
    upstream.finish().await;
}

#[tokio::test]
async fn a_group_merges_members_with_the_dependency_confusion_guard() {
    let upstream = crate::app().await;
    for name in ["shared", "theirs"] {
        upload_wheel(&upstream, name, "1.0", "").await;
    }
    let served = Served::start(upstream.router.clone()).await;
    for guard in [true, false] {
        let app = crate::builder().confusion_guard(guard).build().await;
        create(&app, json!({"name": "remote", "format": "pypi", "kind": "proxy", "upstream": format!("{}/pypi/main/simple/", served.url)})).await;
        create(&app, json!({"name": "all", "format": "pypi", "kind": "group", "members": ["main", "remote"]})).await;
        let auth = format!("Bearer {}", app.admin_token);
        let content = wheel("shared", "2.0", Some(&metadata("shared", "2.0", "")));
        let to_group = app
            .request(
                Method::POST,
                "/pypi/all/",
                &[
                    ("authorization", &auth),
                    (
                        "content-type",
                        &format!("multipart/form-data; boundary={BOUNDARY}"),
                    ),
                ],
                form(
                    "shared-2.0-py3-none-any.whl",
                    &content,
                    &[("name", "shared"), ("version", "2.0")],
                ),
            )
            .await;
        assert_eq!(
            to_group.status, 200,
            "an upload to a group lands in its hosted member"
        );
        assert_eq!(app.get("/pypi/main/simple/shared/").await.status, 200);

        let shared = page(&app, "/pypi/all/simple/shared/").await;
        let expected = if guard {
            vec!["shared-2.0-py3-none-any.whl"]
        } else {
            vec!["shared-2.0-py3-none-any.whl", "shared-1.0-py3-none-any.whl"]
        };
        assert_eq!(filenames(&shared), expected, "guard={guard}");
        assert!(
            shared["files"][0]["url"]
                .as_str()
                .unwrap()
                .starts_with("http://me/pypi/all/files/"),
            "files are served through the group"
        );
        let theirs = page(&app, "/pypi/all/simple/theirs/").await;
        assert_eq!(filenames(&theirs), vec!["theirs-1.0-py3-none-any.whl"]);
        for path in [
            "/pypi/all/files/theirs/1.0/theirs-1.0-py3-none-any.whl",
            "/pypi/all/files/shared/2.0/shared-2.0-py3-none-any.whl",
            "/pypi/all/files/theirs/1.0/theirs-1.0-py3-none-any.whl.metadata",
        ] {
            assert_eq!(app.get(path).await.status, 200, "{path}");
        }
        let hidden = app
            .get("/pypi/all/files/shared/1.0/shared-1.0-py3-none-any.whl")
            .await
            .status;
        assert_eq!(hidden, if guard { 404 } else { 200 });
        let names: Vec<String> = page(&app, "/pypi/all/simple/").await["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, vec!["shared", "theirs"]);
        app.finish().await;
    }
    upstream.finish().await;
}

#[tokio::test]
async fn a_pypi_proxy_defaults_to_the_public_index() {
    let app = crate::app().await;
    let r = app
        .admin_json(
            Method::POST,
            "/api/v1/repositories",
            &json!({"name": "pypi", "format": "pypi", "kind": "proxy"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["upstream"], "https://pypi.org/simple/");
    app.finish().await;
}
