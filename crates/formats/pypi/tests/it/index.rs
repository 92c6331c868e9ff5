use http::Method;

use crate::upload_wheel;

const JSON: &str = "application/vnd.pypi.simple.v1+json";

#[tokio::test]
async fn simple_pages_in_html_and_json_with_pep_658_and_700() {
    let app = crate::app().await;
    assert_eq!(
        upload_wheel(&app, "My.Pkg", "1.0.0", "Requires-Python: >=3.8")
            .await
            .status,
        200
    );
    assert_eq!(
        upload_wheel(&app, "my_pkg", "1.1.0", "").await.status,
        200,
        "another spelling joins the project"
    );
    let json = app
        .request(
            Method::GET,
            "/pypi/main/simple/my-pkg/",
            &[("accept", JSON), ("host", "idx")],
            "",
        )
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-type"), Some(JSON));
    assert_eq!(json.header("vary"), Some("Accept, Accept-Encoding"));
    let mut doc = json.json();
    for f in doc["files"].as_array_mut().unwrap() {
        f["upload-time"] = "[time]".into();
    }
    insta::assert_json_snapshot!(doc);
    let html = app
        .request(
            Method::GET,
            "/pypi/main/simple/my-pkg/",
            &[("host", "idx")],
            "",
        )
        .await;
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = html.text();
    assert!(text.contains("data-requires-python=\"&gt;=3.8\""), "{text}");
    assert!(text.contains("data-core-metadata=\"sha256="), "{text}");
    let by_query = app
        .get("/pypi/main/simple/my-pkg/?format=application/vnd.pypi.simple.v1%2Bjson")
        .await;
    assert_eq!(by_query.header("content-type"), Some(JSON));
    let redirect = app.get("/pypi/main/simple/My.Pkg/").await;
    assert_eq!(redirect.status, 308);
    assert_eq!(
        redirect.header("location"),
        Some("/pypi/main/simple/my-pkg/")
    );
    assert_eq!(app.get("/pypi/main/simple/my-pkg").await.status, 308);
    let bad_accept = app
        .request(
            Method::GET,
            "/pypi/main/simple/my-pkg/",
            &[("accept", "application/x-nothing")],
            "",
        )
        .await;
    assert_eq!(bad_accept.status, 400);
    let index = app
        .request(Method::GET, "/pypi/main/simple/", &[("accept", JSON)], "")
        .await;
    assert_eq!(index.json()["projects"][0]["name"], "My.Pkg");
    assert!(
        app.get("/pypi/main/simple/")
            .await
            .text()
            .contains("<a href=\"my-pkg/\">My.Pkg</a>")
    );
    app.finish().await;
}

#[tokio::test]
async fn files_metadata_and_the_json_api() {
    let app = crate::app().await;
    upload_wheel(&app, "tool", "2.0", "Requires-Dist: other>=1").await;
    let wheel = app
        .get("/pypi/main/files/tool/2.0/tool-2.0-py3-none-any.whl")
        .await;
    assert_eq!(wheel.status, 200);
    let metadata = app
        .get("/pypi/main/files/tool/2.0/tool-2.0-py3-none-any.whl.metadata")
        .await;
    assert!(
        metadata
            .text()
            .starts_with("Metadata-Version: 2.1\nName: tool")
    );
    let page = app
        .request(
            Method::GET,
            "/pypi/main/simple/tool/",
            &[("accept", JSON)],
            "",
        )
        .await
        .json();
    let advertised = page["files"][0]["core-metadata"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        advertised,
        wharf_core::digest::digest_bytes(&metadata.body)
            .sha256
            .to_string()
    );
    let api = app
        .request(
            Method::GET,
            "/pypi/main/pypi/tool/json",
            &[("host", "idx")],
            "",
        )
        .await;
    assert_eq!(api.status, 200);
    let doc = api.json();
    assert_eq!(doc["info"]["version"], "2.0");
    assert_eq!(doc["info"]["requires_dist"][0], "other>=1");
    assert_eq!(doc["releases"]["2.0"][0]["packagetype"], "bdist_wheel");
    let version = app.get("/pypi/main/pypi/tool/2.0/json").await.json();
    assert_eq!(version["urls"][0]["filename"], "tool-2.0-py3-none-any.whl");
    assert_eq!(app.get("/pypi/main/pypi/tool/9.9/json").await.status, 404);
    assert_eq!(app.get("/pypi/main/simple/nothing/").await.status, 404);
    // Wheels are hashed for the digests PyPI serves (SHA-256, MD5) and no others.
    let md5 = wharf_core::digest::digest_bytes(&wheel.body).md5;
    assert_eq!(version["urls"][0]["md5_digest"], md5);
    let files = app
        .get("/api/v1/repositories/pypi/main/packages/tool/versions/2.0")
        .await
        .json();
    let file = &files["files"][0];
    assert_eq!(file["md5"], md5, "{files}");
    assert!(
        file.get("sha1").is_none() && file.get("sha512").is_none(),
        "{files}"
    );
    app.finish().await;
}

#[tokio::test]
async fn yanks_through_the_management_api_show_in_both_pages() {
    let app = crate::app().await;
    upload_wheel(&app, "tool", "1.0", "").await;
    let path = "/api/v1/repositories/pypi/main/packages/tool/versions/1.0/yank";
    let yank = app
        .admin_json(
            Method::PUT,
            path,
            &serde_json::json!({"reason": "broken <build>"}),
        )
        .await;
    assert_eq!(yank.status, 204, "{}", yank.text());
    let page = app
        .request(
            Method::GET,
            "/pypi/main/simple/tool/",
            &[("accept", JSON)],
            "",
        )
        .await
        .json();
    assert_eq!(page["files"][0]["yanked"], "broken <build>");
    let html = app.get("/pypi/main/simple/tool/").await.text();
    assert!(
        html.contains("data-yanked=\"broken &lt;build&gt;\""),
        "{html}"
    );
    assert_eq!(
        app.get("/pypi/main/pypi/tool/json").await.json()["info"]["yanked_reason"],
        "broken <build>"
    );
    assert_eq!(app.admin(Method::DELETE, path, "").await.status, 204);
    let page = app
        .request(
            Method::GET,
            "/pypi/main/simple/tool/",
            &[("accept", JSON)],
            "",
        )
        .await
        .json();
    assert_eq!(page["files"][0]["yanked"], false);
    assert_eq!(app.request(Method::PUT, path, &[], "").await.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn project_pages_answer_if_none_match_until_the_project_changes() {
    let app = crate::app().await;
    upload_wheel(&app, "cached", "1.0", "").await;
    let first = app.get("/pypi/main/simple/cached/").await;
    let etag = first.header("etag").unwrap().to_owned();
    let again = app
        .request(
            Method::GET,
            "/pypi/main/simple/cached/",
            &[("if-none-match", &etag)],
            "",
        )
        .await;
    assert_eq!(again.status, 304);
    let as_json = app
        .request(
            Method::GET,
            "/pypi/main/simple/cached/",
            &[("if-none-match", &etag), ("accept", JSON)],
            "",
        )
        .await;
    assert_eq!(as_json.status, 200, "each representation has its own tag");
    upload_wheel(&app, "cached", "1.1", "").await;
    let changed = app
        .request(
            Method::GET,
            "/pypi/main/simple/cached/",
            &[("if-none-match", &etag)],
            "",
        )
        .await;
    assert_eq!(changed.status, 200);
    assert!(changed.text().contains("cached-1.1-py3-none-any.whl"));
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    app.finish().await;
}

#[tokio::test]
async fn project_pages_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read as _;
    let app = crate::app().await;
    upload_wheel(&app, "zipped", "1.0", "").await;
    for accept in ["text/html", JSON] {
        let plain = app
            .request(
                Method::GET,
                "/pypi/main/simple/zipped/",
                &[("accept", accept)],
                "",
            )
            .await;
        let packed = app
            .request(
                Method::GET,
                "/pypi/main/simple/zipped/",
                &[("accept", accept), ("accept-encoding", "gzip, deflate")],
                "",
            )
            .await;
        assert_eq!(packed.status, 200);
        assert_eq!(packed.header("content-encoding"), Some("gzip"));
        assert_eq!(packed.header("vary"), Some("Accept, Accept-Encoding"));
        assert_eq!(plain.header("content-encoding"), None);
        assert_ne!(plain.header("etag"), packed.header("etag"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&packed.body[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain.text(), "{accept}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_release_deleted_through_the_api_leaves_the_pages_and_comes_back_only_the_same() {
    let app = crate::app().await;
    for v in ["1.0", "1.1"] {
        assert_eq!(
            crate::upload_wheel(&app, "gone-soon", v, "").await.status,
            200
        );
    }
    let r = app
        .admin(
            Method::DELETE,
            "/api/v1/repositories/pypi/main/packages/gone-soon/versions/1.1",
            "",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let page = app.get("/pypi/main/simple/gone-soon/").await.text();
    assert!(page.contains("gone_soon-1.0-py3-none-any.whl"), "{page}");
    assert!(!page.contains("gone_soon-1.1"), "{page}");
    let json = app.get("/pypi/main/pypi/gone-soon/json").await.json();
    assert_eq!(json["info"]["version"], "1.0");
    // The file name never comes back with other content (PyPI's rule).
    let r = crate::upload_wheel(&app, "gone-soon", "1.1", "Summary: different\n").await;
    assert_eq!(r.status, 400, "{}", r.text());
    app.finish().await;
}

#[tokio::test]
async fn an_upload_lists_the_project_for_search() {
    let app = crate::app().await;
    let r = upload_wheel(&app, "listed", "1.0", "Keywords: web, HTTP tools").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        app.listing("pypi/main", "listed").await,
        ("listed summary".to_owned(), "web http tools".to_owned())
    );
    app.finish().await;
}
