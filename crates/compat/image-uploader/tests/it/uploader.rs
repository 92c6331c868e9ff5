//! The package image uploader (seed 004): a zip with nested directories, an executable, a
//! symlink and a FAT-made entry becomes a single-layer image whose layer is checked entry by
//! entry; zips named by path must lie in `zip_root`; refused zips store nothing; delete by tag
//! and by digest; and a push to another registry (a second Wharf) over its token flow.

use std::io::{Read, Write};

use http::Method;
use serde_json::{Value, json};
use wharf_compat_image_uploader::{ImageUploaderApi, UploaderConfig};
use wharf_core::Secret;
use wharf_test_support::{Served, TestApp};
use zip::write::SimpleFileOptions;

use crate::{digest, listening_registry, send};

/// The zip of the tests: entries in this order.
fn package_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let unix = SimpleFileOptions::default().system(zip::System::Unix);
    zip.add_directory("app/", unix.unix_permissions(0o755))
        .unwrap();
    zip.add_directory("app/bin/", unix.unix_permissions(0o750))
        .unwrap();
    zip.start_file("app/bin/run", unix.unix_permissions(0o755))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho hi\n").unwrap();
    zip.start_file("app/README", unix.unix_permissions(0o644))
        .unwrap();
    zip.write_all(b"read me").unwrap();
    zip.add_symlink("app/current", "bin/run", unix.unix_permissions(0o777))
        .unwrap();
    let fat = SimpleFileOptions::default().system(zip::System::Dos);
    zip.start_file("app/fat.txt", fat).unwrap();
    zip.write_all(b"made on FAT").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A zip with one entry named `name` holding `content`.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

struct Setup {
    app: TestApp,
    root: tempfile::TempDir,
}

async fn setup(max_upload: u64) -> Setup {
    let root = tempfile::tempdir().unwrap();
    let app = crate::builder_with(ImageUploaderApi::new(UploaderConfig {
        zip_root: Some(root.path().to_path_buf()),
        ..UploaderConfig::default()
    }))
    .max_upload(max_upload)
    .build()
    .await;
    Setup { app, root }
}

impl Setup {
    async fn upload(&self, zip: &[u8], guid: &str, base: &str) -> wharf_test_support::TestResponse {
        let path = self.root.path().join(format!("{guid}.zip"));
        std::fs::write(&path, zip).unwrap();
        let body =
            json!({"package_zip_path": path, "package_guid": guid, "registry_base_path": base});
        send(
            &self.app,
            Method::POST,
            "/image-uploader/packages",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }
}

/// Path, type, mode, link and content of every entry of a tar; checks the fixed fields.
fn entries(tar_bytes: &[u8]) -> Vec<(String, u8, u32, Option<String>, String)> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        assert_eq!(header.mtime().unwrap(), 315_532_801);
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        let path = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.to_vec()).unwrap());
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        seen.push((
            path,
            header.entry_type().as_byte(),
            header.mode().unwrap(),
            link,
            content,
        ));
    }
    seen
}

#[tokio::test]
async fn a_zip_becomes_a_single_layer_image() {
    let s = setup(64 << 20).await;
    let r = s.upload(&package_zip(), "0f9a-guid", "main/packages").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let hex = r.json()["hash"]["hex"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["hash"]["algorithm"], "sha256");
    let m = send(
        &s.app,
        Method::GET,
        "/v2/main/packages/0f9a-guid/manifests/latest",
        &[],
        vec![],
    )
    .await;
    assert_eq!(m.status, 200);
    assert_eq!(digest(&m.body), format!("sha256:{hex}"));
    let manifest = m.json();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    let blob = |d: &Value| {
        let d = d.as_str().unwrap().to_owned();
        let app = &s.app;
        async move {
            send(
                app,
                Method::GET,
                &format!("/v2/main/packages/0f9a-guid/blobs/{d}"),
                &[],
                vec![],
            )
            .await
            .body
        }
    };
    let config: Value = serde_json::from_slice(&blob(&manifest["config"]["digest"]).await).unwrap();
    assert_eq!(config["architecture"], "");
    assert_eq!(config["created"], "0001-01-01T00:00:00Z");
    assert_eq!(
        config["history"],
        json!([{"created": "0001-01-01T00:00:00Z"}])
    );
    let layer = blob(&manifest["layers"][0]["digest"]).await;
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(layer.as_ref())
        .read_to_end(&mut tar_bytes)
        .unwrap();
    assert_eq!(config["rootfs"]["diff_ids"], json!([digest(&tar_bytes)]));
    let seen = entries(&tar_bytes);
    let expected = vec![
        ("/app".to_owned(), b'5', 0o755, None, String::new()),
        ("/app/bin".to_owned(), b'5', 0o750, None, String::new()),
        (
            "/app/bin/run".to_owned(),
            b'0',
            0o755,
            None,
            "#!/bin/sh\necho hi\n".to_owned(),
        ),
        (
            "/app/README".to_owned(),
            b'0',
            0o644,
            None,
            "read me".to_owned(),
        ),
        (
            "/app/current".to_owned(),
            b'2',
            0o777,
            Some("bin/run".to_owned()),
            String::new(),
        ),
        (
            "/app/fat.txt".to_owned(),
            b'0',
            0o777,
            None,
            "made on FAT".to_owned(),
        ),
    ];
    assert_eq!(seen, expected);
    s.app.finish().await;
}

#[tokio::test]
async fn the_zip_may_come_in_the_request() {
    let s = setup(64 << 20).await;
    let boundary = "XyZ";
    let zip = package_zip();
    let mut body = Vec::new();
    for (name, value) in [
        ("package_guid", "sent-guid"),
        ("registry_base_path", "main/packages"),
    ] {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.zip\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes());
    body.extend(&zip);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let r = send(
        &s.app,
        Method::POST,
        "/image-uploader/packages",
        &[("content-type", &content_type)],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let m = send(
        &s.app,
        Method::HEAD,
        "/v2/main/packages/sent-guid/manifests/latest",
        &[],
        vec![],
    )
    .await;
    assert_eq!(m.status, 200);
    s.app.finish().await;
}

#[tokio::test]
async fn bad_requests_and_bad_zips_store_nothing() {
    let s = setup(1 << 20).await;
    let post = |body: String| {
        send(
            &s.app,
            Method::POST,
            "/image-uploader/packages",
            &[("content-type", "application/json")],
            body,
        )
    };
    let r = post("{not json".into()).await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (400, "unable to parse request body\n".to_owned())
    );
    let r = post(json!({"package_guid": "x"}).to_string()).await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (422, "missing required parameter\n".to_owned())
    );
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), package_zip()).unwrap();
    let r = post(json!({"package_zip_path": outside.path(), "package_guid": "x", "registry_base_path": "main/p"}).to_string()).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "climbs",
            zip_of(&[("ok.txt", b"fine"), ("../evil", b"x")]),
            422,
            "climbs out",
        ),
        (
            "absolute",
            zip_of(&[("/etc/passwd", b"x")]),
            422,
            "absolute",
        ),
        (
            "bomb",
            zip_of(&[("zeros", &vec![0u8; 3 << 20])]),
            413,
            "over",
        ),
        ("notzip", b"just text".to_vec(), 422, "not a zip"),
    ];
    for (guid, zip, status, says) in cases {
        let r = s.upload(&zip, guid, "main/packages").await;
        assert_eq!(r.status.as_u16(), status, "{guid}: {}", r.text());
        assert!(r.text().contains(says), "{guid}: {}", r.text());
        let tags = send(
            &s.app,
            Method::GET,
            &format!("/v2/main/packages/{guid}/tags/list"),
            &[],
            vec![],
        )
        .await;
        assert_eq!(tags.status, 404, "{guid}: nothing stored");
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.add_symlink(
        "app/escape",
        "../../etc/shadow",
        SimpleFileOptions::default(),
    )
    .unwrap();
    let escaping = zip.finish().unwrap().into_inner();
    let r = s.upload(&escaping, "escape", "main/packages").await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("points outside"), "{}", r.text());
    // Without a token nothing is written, even a good zip.
    let good = s.root.path().join("good.zip");
    std::fs::write(&good, package_zip()).unwrap();
    let body =
        json!({"package_zip_path": good, "package_guid": "anon", "registry_base_path": "main/p"});
    let r = s
        .app
        .request(
            Method::POST,
            "/image-uploader/packages",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text());
    let tags = send(
        &s.app,
        Method::GET,
        "/v2/main/p/anon/tags/list",
        &[],
        vec![],
    )
    .await;
    assert_eq!(tags.status, 404);
    s.app.finish().await;
}

#[tokio::test]
async fn images_are_deleted_by_tag_then_digest() {
    let s = setup(64 << 20).await;
    let hex = s
        .upload(&package_zip(), "gone", "main/packages")
        .await
        .json()["hash"]["hex"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = |reference: &str| {
        send(
            &s.app,
            Method::DELETE,
            "/image-uploader/images",
            &[("content-type", "application/json")],
            json!({"image_reference": reference}).to_string(),
        )
    };
    let r = delete("main/packages/gone").await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"image_reference": format!("main/packages/gone@sha256:{hex}")})
    );
    let m = send(
        &s.app,
        Method::GET,
        &format!("/v2/main/packages/gone/manifests/sha256:{hex}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(m.status, 404);
    // Already gone: taken as deleted.
    let r = delete("main/packages/gone:latest").await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json(),
        json!({"image_reference": "main/packages/gone:latest"})
    );
    // By digest.
    let hex = s
        .upload(&package_zip(), "bydigest", "main/packages")
        .await
        .json()["hash"]["hex"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = delete(&format!("main/packages/bydigest@sha256:{hex}")).await;
    assert_eq!(r.status, 202);
    let tags = send(
        &s.app,
        Method::GET,
        "/v2/main/packages/bydigest/tags/list",
        &[],
        vec![],
    )
    .await;
    assert_eq!(tags.status, 404);
    let r = delete("").await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (422, "missing required parameter\n".to_owned())
    );
    let r = delete("UPPER/Case@md5:1").await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (422, "unable to parse image reference\n".to_owned())
    );
    s.app.finish().await;
}

#[tokio::test]
async fn another_registry_is_pushed_to_over_its_token_flow() {
    let registry = crate::app().await;
    let served = Served::start(registry.router.clone()).await;
    let host = served.url.trim_start_matches("http://").to_owned();
    let root = tempfile::tempdir().unwrap();
    let app = crate::builder_with(ImageUploaderApi::new(UploaderConfig {
        zip_root: Some(root.path().to_path_buf()),
        registry_username: Some("admin".into()),
        registry_password: Some(Secret("admin-password".into())),
        allowed_registries: vec![host.clone()],
        ..UploaderConfig::default()
    }))
    .build()
    .await;
    let zip = root.path().join("p.zip");
    std::fs::write(&zip, package_zip()).unwrap();
    let body = json!({"package_zip_path": zip, "package_guid": "remote-guid", "registry_base_path": format!("{host}/main/packages")});
    let r = send(
        &app,
        Method::POST,
        "/image-uploader/packages",
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let hex = r.json()["hash"]["hex"].as_str().unwrap().to_owned();
    let there = send(
        &registry,
        Method::GET,
        "/v2/main/packages/remote-guid/manifests/latest",
        &[],
        vec![],
    )
    .await;
    assert_eq!(there.status, 200);
    assert_eq!(digest(&there.body), format!("sha256:{hex}"));
    // Nothing was stored here.
    let here = send(
        &app,
        Method::GET,
        "/v2/main/packages/remote-guid/manifests/latest",
        &[],
        vec![],
    )
    .await;
    assert_eq!(here.status, 404);
    let r = send(
        &app,
        Method::DELETE,
        "/image-uploader/images",
        &[("content-type", "application/json")],
        json!({"image_reference": format!("{host}/main/packages/remote-guid")}).to_string(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        r.json()["image_reference"],
        format!("{host}/main/packages/remote-guid@sha256:{hex}")
    );
    let gone = send(
        &registry,
        Method::GET,
        "/v2/main/packages/remote-guid/manifests/latest",
        &[],
        vec![],
    )
    .await;
    assert_eq!(gone.status, 404);
    app.finish().await;
}

fn host_of(served: &Served) -> String {
    served.url.trim_start_matches("http://").to_owned()
}

/// The uploader with registry credentials and `allowed` registries.
async fn uploader_with(root: &std::path::Path, allowed: Vec<String>) -> TestApp {
    crate::builder_with(ImageUploaderApi::new(UploaderConfig {
        zip_root: Some(root.to_path_buf()),
        registry_username: Some("svc-user".into()),
        registry_password: Some(Secret("svc-password".into())),
        allowed_registries: allowed,
        ..UploaderConfig::default()
    }))
    .build()
    .await
}

#[tokio::test]
async fn other_registries_are_not_reached_unless_an_admin_allowed_them() {
    let (attacker, heard) = listening_registry(|own| format!("{own}/token")).await;
    let host = host_of(&attacker);
    let root = tempfile::tempdir().unwrap();
    let app = uploader_with(root.path(), vec![]).await;
    let zip = root.path().join("p.zip");
    std::fs::write(&zip, package_zip()).unwrap();
    let reader = app
        .token(
            "reader",
            wharf_core::model::Scope::Read,
            wharf_core::model::Scope::Read,
            None,
        )
        .await;
    let upload = json!({"package_zip_path": zip, "package_guid": "g", "registry_base_path": format!("{host}/x/y")}).to_string();
    let delete = json!({"image_reference": format!("{host}/x/y/z")}).to_string();
    let callers: [(&str, Option<String>, u16); 4] = [
        ("nobody", None, 401),
        ("garbage", Some("Bearer wharf_garbage".into()), 401),
        ("reader", Some(format!("Bearer {reader}")), 403),
        ("admin", Some(format!("Bearer {}", app.admin_token)), 403),
    ];
    for (who, auth, status) in callers {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let r = app
            .request(
                Method::POST,
                "/image-uploader/packages",
                &headers,
                upload.clone(),
            )
            .await;
        assert_eq!(r.status.as_u16(), status, "{who} upload: {}", r.text());
        let r = app
            .request(
                Method::DELETE,
                "/image-uploader/images",
                &headers,
                delete.clone(),
            )
            .await;
        assert_eq!(r.status.as_u16(), status, "{who} delete: {}", r.text());
    }
    assert!(
        heard.lock().unwrap().is_empty(),
        "{:?}",
        heard.lock().unwrap()
    );
    // A read token cannot delete here either.
    let r = app
        .request(
            Method::DELETE,
            "/image-uploader/images",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {reader}")),
            ],
            json!({"image_reference": "main/packages/x"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    app.finish().await;
}

#[tokio::test]
async fn credentials_go_to_no_token_service_a_registry_names_elsewhere() {
    let (elsewhere, elsewhere_heard) = listening_registry(|own| format!("{own}/token")).await;
    let realm = format!("{}/token", elsewhere.url);
    let (registry, heard) = listening_registry(move |_| realm.clone()).await;
    let host = host_of(&registry);
    let root = tempfile::tempdir().unwrap();
    let app = uploader_with(root.path(), vec![host.clone()]).await;
    let zip = root.path().join("p.zip");
    std::fs::write(&zip, package_zip()).unwrap();
    let body = json!({"package_zip_path": zip, "package_guid": "g", "registry_base_path": format!("{host}/x/y")});
    let r = send(
        &app,
        Method::POST,
        "/image-uploader/packages",
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("token service"), "{}", r.text());
    assert!(elsewhere_heard.lock().unwrap().is_empty());
    assert!(
        heard
            .lock()
            .unwrap()
            .iter()
            .all(|(_, _, auth)| auth.is_none())
    );
    let r = send(
        &app,
        Method::DELETE,
        "/image-uploader/images",
        &[("content-type", "application/json")],
        json!({"image_reference": format!("{host}/x/y/z")}).to_string(),
    )
    .await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(elsewhere_heard.lock().unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn unreachable_registries_are_502_and_bad_references_400() {
    let closed = format!("127.0.0.1:{}", wharf_test_support::free_port());
    let root = tempfile::tempdir().unwrap();
    let app = uploader_with(root.path(), vec![closed.clone()]).await;
    let zip = root.path().join("p.zip");
    std::fs::write(&zip, package_zip()).unwrap();
    let post = |base: String| {
        let body =
            json!({"package_zip_path": zip, "package_guid": "g", "registry_base_path": base});
        send(
            &app,
            Method::POST,
            "/image-uploader/packages",
            &[("content-type", "application/json")],
            body.to_string(),
        )
    };
    let r = post(format!("{closed}/x/y")).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains(&closed), "{}", r.text());
    for bad in ["../..", "..", "host:99999/x", "Main/x"] {
        let r = post(bad.into()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let r = send(
        &app,
        Method::DELETE,
        "/image-uploader/images",
        &[("content-type", "application/json")],
        json!({"image_reference": format!("{closed}/x/y/z")}).to_string(),
    )
    .await;
    assert_eq!(r.status, 502, "{}", r.text());
    let r = send(
        &app,
        Method::DELETE,
        "/image-uploader/images",
        &[("content-type", "application/json")],
        json!({"image_reference": "../../x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    app.finish().await;
}
