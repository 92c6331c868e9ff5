//! The package image uploader driven with curl as its README shows (and with the zip sent as
//! a form field), against the real binary: skopeo inspects the image it made, umoci unpacks its
//! layer path by path and mode by mode, and it is deleted by tag and by digest.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use serde_json::{Value, json};
use wharf_test_support::WharfProcess;

use crate::oci_clients::{raw_digest, skopeo, tool, umoci};
use crate::{bin, curl};

/// A package zip: nested directories, an executable, a symlink and an entry made on FAT.
fn package_zip() -> Vec<u8> {
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let unix = SimpleFileOptions::default().system(zip::System::Unix);
    zip.add_directory("app/", unix.unix_permissions(0o755))
        .unwrap();
    zip.add_directory("app/bin/", unix.unix_permissions(0o755))
        .unwrap();
    zip.start_file("app/bin/run", unix.unix_permissions(0o755))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho hi\n").unwrap();
    zip.start_file("app/config.yml", unix.unix_permissions(0o640))
        .unwrap();
    zip.write_all(b"port: 8080\n").unwrap();
    zip.add_symlink("app/current", "bin/run", unix.unix_permissions(0o777))
        .unwrap();
    let fat = SimpleFileOptions::default().system(zip::System::Dos);
    zip.start_file("app/fat.txt", fat).unwrap();
    zip.write_all(b"made on FAT").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A spawned Wharf whose uploader reads zips from `zips`, and an admin token.
struct Uploader {
    wharf: WharfProcess,
    host: String,
    auth: String,
}

impl Uploader {
    /// `POST /image-uploader/packages` with curl `args` (the body): the answer.
    fn post(&self, args: &[&str]) -> Value {
        let url = format!("{}/image-uploader/packages", self.wharf.base_url);
        let mut all = vec!["-sS", "-X", "POST", "-H", &self.auth];
        all.extend_from_slice(args);
        all.push(&url);
        let out = curl(&all);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
    }

    /// `DELETE /image-uploader/images` of `reference`: body and status.
    fn delete(&self, reference: &str) -> String {
        let body = json!({"image_reference": reference}).to_string();
        let url = format!("{}/image-uploader/images", self.wharf.base_url);
        let args = [
            "-sS",
            "-X",
            "DELETE",
            "-H",
            &self.auth,
            "-d",
            &body,
            "-w",
            "\n%{http_code}",
            &url,
        ];
        String::from_utf8_lossy(&curl(&args).stdout).into_owned()
    }
}

/// What umoci unpacked, checked path by path and mode by mode.
fn check_unpacked(rootfs: &Path) {
    let mode = |p: &str| {
        std::fs::symlink_metadata(rootfs.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    let run = std::fs::read_to_string(rootfs.join("app/bin/run")).unwrap();
    assert_eq!(run, "#!/bin/sh\necho hi\n");
    assert_eq!(mode("app/bin/run"), 0o755);
    assert_eq!(mode("app/config.yml"), 0o640);
    assert_eq!(mode("app/bin"), 0o755);
    assert_eq!(mode("app/fat.txt"), 0o777);
    let link = std::fs::read_link(rootfs.join("app/current")).unwrap();
    assert_eq!(link, Path::new("bin/run"));
}

#[test]
fn the_image_uploader_makes_an_image_skopeo_and_umoci_read() {
    let dir = tempfile::tempdir().unwrap();
    let zips = dir.path().join("zips");
    std::fs::create_dir_all(&zips).unwrap();
    let zip = zips.join("app.zip");
    std::fs::write(&zip, package_zip()).unwrap();
    let env = [("WHARF_IMAGE_UPLOADER__ZIP_ROOT", zips.to_str().unwrap())];
    let wharf = WharfProcess::start(bin(), &dir.path().join("data"), &[], &env);
    let token = wharf.admin_token("admin");
    let host = wharf.base_url.trim_start_matches("http://").to_owned();
    let uploader = Uploader {
        wharf,
        host: host.clone(),
        auth: format!("Authorization: Bearer {token}"),
    };
    let body = json!({"package_zip_path": zip, "package_guid": "9d1c-guid",
                      "registry_base_path": format!("{host}/main/packages")});
    let answer = uploader.post(&["-d", &body.to_string()]);
    let hex = answer["hash"]["hex"].as_str().unwrap().to_owned();
    let image = format!("docker://{host}/main/packages/9d1c-guid:latest");
    let creds = format!("admin:{token}");
    let flags = ["--creds", creds.as_str(), "--tls-verify=false"];
    let config = skopeo(&["inspect", "--config", flags[0], flags[1], flags[2], &image]);
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 1);
    assert_eq!(raw_digest(&image, &flags), format!("sha256:{hex}"));

    let layout = format!("{}:x", dir.path().join("layout").display());
    skopeo(&[
        "copy",
        "--src-creds",
        &creds,
        "--src-tls-verify=false",
        &image,
        &format!("oci:{layout}"),
    ]);
    // `raw unpack`: the image has no OS (as the original's), so no runtime bundle.
    let rootfs = dir.path().join("rootfs");
    umoci(&[
        "raw",
        "unpack",
        "--rootless",
        "--image",
        &layout,
        rootfs.to_str().unwrap(),
    ]);
    check_unpacked(&rootfs);

    // Delete by tag: the manifest goes too.
    let answer = uploader.delete(&format!("{}/main/packages/9d1c-guid", uploader.host));
    assert!(answer.ends_with("\n202"), "{answer}");
    assert!(
        answer.contains(&format!("{host}/main/packages/9d1c-guid@sha256:{hex}")),
        "{answer}"
    );
    assert!(
        !tool("skopeo", &["inspect", flags[0], flags[1], flags[2], &image])
            .status
            .success()
    );
    // By digest, after sending the zip itself as a form field.
    let file = format!("package=@{}", zip.display());
    let again = uploader.post(&[
        "-F",
        &file,
        "-F",
        "package_guid=again",
        "-F",
        "registry_base_path=main/packages",
    ]);
    assert_eq!(
        again["hash"]["hex"],
        json!(hex),
        "the same zip makes the same image"
    );
    let answer = uploader.delete(&format!("{host}/main/packages/again@sha256:{hex}"));
    assert!(answer.ends_with("\n202"), "{answer}");
    let gone = format!("docker://{host}/main/packages/again:latest");
    assert!(
        !tool("skopeo", &["inspect", flags[0], flags[1], flags[2], &gone])
            .status
            .success()
    );
}
