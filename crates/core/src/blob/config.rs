//! `[storage]`: which engine holds blobs and its settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{S3Config, SwiftConfig};

/// Which storage engine holds blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A directory on the local filesystem (the default).
    #[default]
    Fs,
    /// Process memory; for tests only.
    Memory,
    /// An S3-compatible object store (`[storage.s3]`).
    S3,
    /// An OpenStack Swift container (`[storage.swift]`).
    Swift,
}

/// Storage settings (`[storage]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The engine.
    #[serde(default)]
    pub backend: Backend,
    /// The directory of the `fs` backend; `<data-dir>/blobs` when unset.
    #[serde(default)]
    pub root: Option<PathBuf>,
    /// The `s3` backend's settings.
    #[serde(default)]
    pub s3: S3Config,
    /// The `swift` backend's settings.
    #[serde(default)]
    pub swift: SwiftConfig,
    /// How long the presigned URLs of redirected downloads stay valid.
    #[serde(default = "default_redirect_ttl", with = "humantime_serde")]
    pub redirect_ttl: std::time::Duration,
}

pub(super) fn default_redirect_ttl() -> std::time::Duration {
    std::time::Duration::from_mins(5)
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            backend: Backend::default(),
            root: None,
            s3: S3Config::default(),
            swift: SwiftConfig::default(),
            redirect_ttl: default_redirect_ttl(),
        }
    }
}
