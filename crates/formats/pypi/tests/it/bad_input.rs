use http::Method;
use wharf_test_support::{TestApp, TestResponse};

use crate::{BOUNDARY, form, metadata, upload, upload_wheel, wheel};

fn good_wheel() -> Vec<u8> {
    wheel("pkg", "1.0", Some(&metadata("pkg", "1.0", "")))
}

async fn assert_nothing_stored(app: &TestApp) {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        app.state.store.blob_totals().await.unwrap().0,
        0,
        "a blob was stored"
    );
}

fn reason(r: &TestResponse) -> String {
    r.text()
}

#[tokio::test]
async fn bad_uploads_are_400_with_the_reason_and_store_nothing() {
    let app = crate::app().await;
    let file = "pkg-1.0-py3-none-any.whl";
    let named = [("name", "pkg"), ("version", "1.0")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = named.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            form(file, &good_wheel(), &with(&[("sha256_digest", "00ff")])),
            "digest mismatch",
        ),
        (
            form(
                file,
                &good_wheel(),
                &with(&[("md5_digest", "00ff"), ("sha256_digest", "")]),
            ),
            "digest mismatch",
        ),
        (
            form(file, &good_wheel(), &with(&[("blake2_256_digest", "00ff")])),
            "digest mismatch",
        ),
        (
            form(
                file,
                &good_wheel(),
                &with(&[("sha256_digest", ""), ("md5_digest", "")]),
            ),
            "no sha256_digest or md5_digest",
        ),
        (
            form("other-1.0-py3-none-any.whl", &good_wheel(), &named),
            "does not belong to pkg 1.0",
        ),
        (
            form("pkg-2.0-py3-none-any.whl", &good_wheel(), &named),
            "does not belong to pkg 1.0",
        ),
        (
            form("pkg-1.0.exe", &good_wheel(), &named),
            "invalid distribution file name",
        ),
        (form(file, b"not a zip at all", &named), "not a zip archive"),
        (
            form(file, &wheel("pkg", "1.0", None), &named),
            "no .dist-info/METADATA",
        ),
        (
            form(
                file,
                &wheel("pkg", "1.0", Some("this is not metadata")),
                &named,
            ),
            "does not parse",
        ),
        (
            form(
                file,
                &wheel("pkg", "1.0", Some(&metadata("other", "1.0", ""))),
                &named,
            ),
            "metadata is for other 1.0",
        ),
        (
            form(file, &good_wheel(), &with(&[("filetype", "bdist_egg")])),
            "unknown filetype",
        ),
        (
            form(file, &good_wheel(), &with(&[("filetype", "sdist")])),
            "does not match",
        ),
        (
            form(file, &good_wheel(), &with(&[(":action", "submit")])),
            "unsupported :action",
        ),
        (
            form(file, &good_wheel(), &[("version", "1.0")]),
            "no name field",
        ),
        (
            form("pkg-1.0.tar.gz", b"not gzip", &named),
            "not a valid .tar.gz",
        ),
    ];
    for (body, expected) in cases {
        let r = upload(&app, body).await;
        assert_eq!(r.status, 400, "{expected}: {}", r.text());
        assert!(
            reason(&r).contains(expected),
            "expected {expected:?} in {:?}",
            r.text()
        );
    }
    not_multipart_is_400(&app).await;
    assert_nothing_stored(&app).await;
    app.finish().await;
}

async fn not_multipart_is_400(app: &TestApp) {
    let not_multipart = app
        .request(
            Method::POST,
            "/pypi/main/",
            &[("authorization", &format!("Bearer {}", app.admin_token))],
            "x",
        )
        .await;
    assert_eq!(not_multipart.status, 400);
}

#[tokio::test]
async fn oversized_uploads_are_413() {
    let app = crate::builder().max_upload(100).build().await;
    let r = upload_wheel(&app, "pkg", "1.0", "").await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_nothing_stored(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn uploads_without_a_token_get_a_basic_challenge() {
    let app = crate::app().await;
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = app
        .request(
            Method::POST,
            "/pypi/main/",
            &[("content-type", &content_type)],
            form(
                "pkg-1.0-py3-none-any.whl",
                &good_wheel(),
                &[("name", "pkg"), ("version", "1.0")],
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"Wharf\""));
    app.finish().await;
}

#[tokio::test]
async fn an_existing_file_answers_like_the_public_index() {
    let app = crate::app().await;
    assert_eq!(upload_wheel(&app, "pkg", "1.0", "").await.status, 200);
    let again = upload_wheel(&app, "pkg", "1.0", "").await;
    assert_eq!(again.status, 400);
    assert!(
        again.text().starts_with("File already exists"),
        "{}",
        again.text()
    );
    app.finish().await;
}
