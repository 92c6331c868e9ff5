//! `--platform-config pr-config.json`: the Platform Package Repository's own configuration
//! (seed 001), read as a layer under Wharf's (defaults < this file < `--config` < environment <
//! flags), so that an existing deployment moves over by pointing Wharf at its file. The
//! storage is picked as the original picks it — `SwiftRepository` when present, else
//! `S3Repository`, else `FsRepository` — and its `path` becomes Wharf's key prefix or directory;
//! `config.package_callback` and `config.log_level` carry over, and the Platform API is served
//! at `/packages` (`compat.root = "platform"`). Files the original stored are not imported.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

/// The configuration layer `pr-config.json` at `path` stands for.
///
/// # Errors
/// When the file cannot be read or parsed, or names its storage incompletely.
pub fn layer(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the Platform configuration {}", path.display()))?;
    let original: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let text_at = |pointer: &str| {
        original
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut layer = Map::new();
    if original.get("SwiftRepository").is_some() {
        let mut swift = Map::new();
        for (key, pointer) in [
            ("auth_url", "/SwiftRepository/access/auth_url"),
            ("auth_version", "/SwiftRepository/access/auth_version"),
            ("user", "/SwiftRepository/access/user"),
            ("key", "/SwiftRepository/access/key"),
            ("project", "/SwiftRepository/access/account"),
            ("container", "/SwiftRepository/container/container"),
            ("prefix", "/SwiftRepository/container/path"),
        ] {
            if let Some(value) = text_at(pointer) {
                swift.insert(key.into(), json!(value));
            }
        }
        if !swift.contains_key("container") {
            bail!(
                "{}: SwiftRepository.container.container is empty",
                path.display()
            );
        }
        layer.insert(
            "storage".into(),
            json!({"backend": "swift", "swift": swift}),
        );
    } else if original.get("S3Repository").is_some() {
        let mut s3 = Map::new();
        let bucket = text_at("/S3Repository/container/bucket").with_context(|| {
            format!("{}: S3Repository.container.bucket is empty", path.display())
        })?;
        s3.insert("bucket".into(), json!(bucket));
        for (key, pointer) in [
            ("prefix", "/S3Repository/container/path"),
            ("region", "/S3Repository/access/region"),
            ("access_key_id", "/S3Repository/access/access_key"),
            (
                "secret_access_key",
                "/S3Repository/access/secret_access_key",
            ),
        ] {
            if let Some(value) = text_at(pointer) {
                s3.insert(key.into(), json!(value));
            }
        }
        layer.insert("storage".into(), json!({"backend": "s3", "s3": s3}));
    } else if original.get("FsRepository").is_some() {
        let mut storage = Map::new();
        storage.insert("backend".into(), json!("fs"));
        if let Some(root) = text_at("/FsRepository/location/path") {
            storage.insert("root".into(), json!(root));
        }
        layer.insert("storage".into(), Value::Object(storage));
    }
    if let Some(callback) = text_at("/config/package_callback") {
        layer.insert("platform".into(), json!({"package_callback": callback}));
    }
    if let Some(level) = text_at("/config/log_level") {
        let level = match level.to_ascii_lowercase().as_str() {
            "critical" | "fatal" => "error".to_owned(),
            "warning" => "warn".to_owned(),
            other => other.to_owned(),
        };
        layer.insert("log".into(), json!({"level": level}));
    }
    layer.insert("compat".into(), json!({"root": "platform"}));
    Ok(Value::Object(layer))
}
