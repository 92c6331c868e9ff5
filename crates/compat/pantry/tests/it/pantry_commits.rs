use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::Digest as _;
use wharf_core::time::Timestamp;
use wharf_core::usecases::expire_versions;
use wharf_test_support::TestApp;

use crate::{manifest, multipart, tarball};

const MULTIPART: &str = "multipart/form-data; boundary=b0undary";
const SHA: &str = "abc1234def5678";

fn tgz(name: &str, version: &str) -> Vec<u8> {
    tarball(Some(&manifest(name, version)))
}

async fn commit(
    app: &TestApp,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    crate::pantry_post(app, "/pantry/publish/commit", token, content_type, body).await
}

#[tokio::test]
async fn the_real_clients_payload_publishes_commit_packages() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let util = tgz("@acme/util", "1.0.0");
    let app_tgz = tgz("acme-app", "2.0.0");
    // The real client: `metadata` with packages[], one `package:<name>` file each; a listed
    // package without a file is skipped.
    let metadata = json!({"sha": SHA, "repository": "https://github.com/acme/mono",
        "packages": [{"name": "@acme/util", "packageDir": "packages/util"},
                     {"name": "acme-app", "packageDir": "packages/app", "version": "2.0.0-pr.1"},
                     {"name": "acme-missing"}]});
    let (status, body) = commit(
        &app,
        Some(&token),
        MULTIPART,
        multipart(
            &[("metadata", &metadata.to_string())],
            &[
                ("package:@acme/util", &util),
                ("package:acme-app", &app_tgz),
            ],
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    insta::assert_json_snapshot!("commit_published", body);

    let listed = app.get(&format!("/pantry/commits/{SHA}")).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.header("access-control-allow-origin"), Some("*"));
    let mut listed = listed.json();
    for p in listed["packages"].as_array_mut().unwrap() {
        assert!(p["publishedAt"].as_str().unwrap().ends_with('Z'));
        p["publishedAt"] = json!("<time>");
    }
    listed["publishedAt"] = json!("<time>");
    insta::assert_json_snapshot!("commit_listed", listed);
    assert_eq!(
        listed["packages"][0]["checksum"],
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&util)))
    );

    let one = app
        .get(&format!("/pantry/commits/{SHA}/@acme/util"))
        .await
        .json();
    assert_eq!(one["name"], "@acme/util");
    assert_eq!(
        one["version"], "1.0.0",
        "the tarball's version when none is given"
    );
    let encoded = app
        .get(&format!("/pantry/commits/{SHA}/%40acme%2Futil/tarball"))
        .await;
    assert_eq!(encoded.status, 200);
    assert_eq!(encoded.body.as_ref(), util.as_slice());
    assert_eq!(
        encoded.header("content-disposition"),
        Some("attachment; filename=\"acme-util-abc1234.tgz\"")
    );

    app.finish().await;
}

#[tokio::test]
async fn the_readmes_payloads_publish_replace_and_expire_commit_packages() {
    let app = crate::app().await;
    let token = app.admin_token.clone();
    let util = tgz("@acme/util", "1.0.0");
    // The README's multipart: `sha`, `repository` and `package:<name>` fields.
    let readme_sha = "0123456789abcdef0123456789abcdef01234567";
    let (status, body) = commit(
        &app,
        Some(&token),
        MULTIPART,
        multipart(
            &[
                ("sha", readme_sha),
                ("repository", "https://github.com/org/repo"),
            ],
            &[("package:my-package", &tgz("my-package", "0.1.0"))],
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["message"],
        "Published 1 package(s) from commit 0123456"
    );
    let tarball = app
        .get(&format!("/pantry/commits/{readme_sha}/my-package/tarball"))
        .await;
    assert_eq!(tarball.status, 200);

    // The README's JSON, then the code's JSON with packages[]; publishing a name of a commit
    // again replaces it.
    let json_sha = "feedbeef";
    let (status, body) = commit(
        &app,
        Some(&token),
        "application/json",
        json!({"sha": json_sha, "name": "my-package", "tarball": STANDARD.encode(tgz("my-package", "0.2.0")),
               "repository": "https://github.com/org/repo"})
        .to_string()
        .into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let newer = tgz("my-package", "0.3.0");
    let (status, body) = commit(
        &app,
        Some(&token),
        "application/json",
        json!({"sha": json_sha, "packages": [
            {"tarball": STANDARD.encode(&newer), "name": "my-package", "packageDir": "pkg"},
            {"name": "@acme/util", "tarball": STANDARD.encode(&util)}]})
        .to_string()
        .into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["packages"].as_array().unwrap().len(), 2);
    let replaced = app
        .get(&format!("/pantry/commits/{json_sha}/my-package/tarball"))
        .await;
    assert_eq!(replaced.body.as_ref(), newer.as_slice());
    let listed = app.get(&format!("/pantry/commits/{json_sha}")).await.json();
    assert_eq!(listed["packages"].as_array().unwrap().len(), 2);
    assert_eq!(listed["packages"][0]["packageDir"], "pkg");
    assert_eq!(listed["packages"][0]["version"], "0.3.0");

    // The repository of commit packages keeps them 90 days; the retention removes them.
    let repo = app.get("/api/v1/repositories/generic/commits").await.json();
    assert_eq!(repo["retention_days"], 90);
    let store = app.state.store.as_ref();
    let soon = Timestamp::now().plus(Duration::from_hours(24 * 89));
    assert_eq!(expire_versions(store, soon).await.unwrap(), 0);
    let later = Timestamp::now().plus(Duration::from_hours(24 * 91));
    assert_eq!(expire_versions(store, later).await.unwrap(), 3);
    let gone = app.get(&format!("/pantry/commits/{json_sha}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.json(),
        json!({"error": "No packages found for this commit"})
    );
    app.finish().await;
}

/// A refused commit publish: what is sent and what must come back.
struct Refusal<'a> {
    token: Option<&'a str>,
    content_type: &'a str,
    body: Vec<u8>,
    status: u16,
    error: &'a str,
}

/// Sends each refusal and checks its answer, and that nothing was stored.
async fn assert_refused(app: &TestApp, cases: Vec<Refusal<'_>>) {
    for case in cases {
        let (got, answer) = commit(app, case.token, case.content_type, case.body).await;
        assert_eq!(got, case.status, "{answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(case.error),
            "{message:?} lacks {:?}",
            case.error
        );
        assert_eq!(
            app.state.store.blob_totals().await.unwrap().0,
            0,
            "stored after {answer}"
        );
    }
    let listed = app.get(&format!("/pantry/commits/{SHA}")).await;
    assert_eq!(listed.status, 404);
}

fn refusal<'a>(
    token: &'a str,
    content_type: &'a str,
    body: Vec<u8>,
    status: u16,
    error: &'a str,
) -> Refusal<'a> {
    Refusal {
        token: Some(token),
        content_type,
        body,
        status,
        error,
    }
}

#[tokio::test]
async fn commit_publishes_without_a_token_sha_or_packages_are_refused() {
    let app = crate::app().await;
    let token = app.admin_token.as_str();
    let good = tgz("my-package", "1.0.0");
    let file = [("package:my-package", good.as_slice())];
    let metadata = json!({"sha": SHA, "packages": [{"name": "other"}]}).to_string();
    assert_refused(
        &app,
        vec![
            Refusal {
                token: None,
                ..refusal(
                    token,
                    MULTIPART,
                    multipart(&[("sha", SHA)], &file),
                    401,
                    "Authorization required",
                )
            },
            refusal(
                token,
                "text/plain",
                b"x".to_vec(),
                415,
                "Unsupported content type",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&[], &file),
                400,
                "Missing sha or packages",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&[("sha", SHA)], &[]),
                400,
                "Missing sha or packages",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&[("metadata", &metadata)], &file),
                400,
                "Missing sha or packages in metadata",
            ),
            refusal(
                token,
                "application/json",
                json!({"sha": SHA}).to_string().into_bytes(),
                400,
                "Missing sha or packages",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&[("sha", "NOT-A-SHA")], &file),
                400,
                "invalid sha \"NOT-A-SHA\": give the commit's hash in lower-case hexadecimal",
            ),
        ],
    )
    .await;
    let bad_sha = app.get("/pantry/commits/XYZ").await;
    assert_eq!(bad_sha.json(), json!({"error": "Not found"}));
    let unknown = app.get(&format!("/pantry/commits/{SHA}/nothing")).await;
    assert_eq!(unknown.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn commit_publishes_with_bad_tarballs_or_names_are_refused() {
    let app = crate::builder().max_upload(64 << 10).build().await;
    let token = app.admin_token.as_str();
    let good = tgz("my-package", "1.0.0");
    let big = vec![7u8; 70 << 10];
    let sha = [("sha", SHA)];
    assert_refused(
        &app,
        vec![
            refusal(
                token,
                MULTIPART,
                multipart(&sha, &[("package:my-package", b"not gzip")]),
                400,
                "the tarball is not valid",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(
                    &sha,
                    &[("package:my-package", &good), ("package:other-name", &good)],
                ),
                400,
                "the tarball holds my-package@1.0.0 but the publish is for other-name@1.0.0",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&sha, &[("package:Bad Name", &good)]),
                400,
                "name",
            ),
            refusal(
                token,
                MULTIPART,
                multipart(&sha, &[("package:my-package", &big)]),
                413,
                "",
            ),
            refusal(
                token,
                "application/json",
                b"{\"sha\": \"abc\", \"packages\": [{\"tarball\": \"!!\"}]}".to_vec(),
                400,
                "base64",
            ),
        ],
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn a_refused_commit_publish_creates_nothing() {
    let app = crate::app().await;
    let reader = app
        .token(
            "reader",
            wharf_core::model::Scope::Write,
            wharf_core::model::Scope::Read,
            None,
        )
        .await;
    let other = app
        .token(
            "other",
            wharf_core::model::Scope::Write,
            wharf_core::model::Scope::Write,
            Some("npm/main"),
        )
        .await;
    let body = json!({"sha": SHA, "name": "acme-app", "tarball": STANDARD.encode(tgz("acme-app", "1.0.0"))});
    for token in [&reader, &other] {
        let (status, answer) = commit(
            &app,
            Some(token),
            "application/json",
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 403, "{answer}");
        assert!(
            app.state
                .store
                .repository("generic", "commits")
                .await
                .unwrap()
                .is_none(),
            "the commits repository was created for a refused caller"
        );
    }
    let (status, answer) = commit(
        &app,
        None,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = commit(
        &app,
        Some(&app.admin_token.clone()),
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert!(
        app.state
            .store
            .repository("generic", "commits")
            .await
            .unwrap()
            .is_some()
    );
    app.finish().await;
}
