//! The S3 backend: its settings (`[storage.s3]`) and the OpenDAL operator they open, with
//! retries of passing failures. How uploads and downloads are split into parts is in
//! [`super::BlobStore`].

use opendal::{OperationContext, Operator, services};
use serde::{Deserialize, Serialize};

use super::{storage_err, transport};
use crate::{Error, Result};

/// The part size of S3 multipart uploads.
pub const S3_PART: usize = 8 << 20;

/// Parts of one upload sent at once: sending overlaps with receiving and hashing the next
/// part, and an upload holds at most one more part than this in memory.
pub(super) const S3_PARTS_IN_FLIGHT: usize = 3;

/// The size of the ranged reads of a download.
pub(super) const S3_READ_CHUNK: usize = 4 << 20;

/// Ranged reads of one download in flight at most (beyond the first, as the process's read
/// budget allows).
pub(super) const S3_READ_AHEAD: usize = 8;

/// Objects up to this size are committed with a server-side copy on S3 (`CopyObject`'s limit);
/// larger ones are streamed.
pub(super) const S3_COPY_LIMIT: u64 = 5 << 30;

/// `[storage.s3]`: where and how to reach the bucket. Credentials not given here come from
/// the standard AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The service URL (`https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`); AWS's
    /// for the region when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The region (default `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The bucket (required).
    #[serde(default)]
    pub bucket: String,
    /// A key prefix inside the bucket, so that several deployments share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The secret access key (shown as `***`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<crate::Secret>,
    /// Address the bucket as `https://{bucket}.{endpoint}` rather than `{endpoint}/{bucket}`.
    #[serde(default)]
    pub virtual_host_style: bool,
}

/// The operator for `config`'s bucket.
///
/// # Errors
/// [`Error::Invalid`] without a bucket; a storage error when the settings are refused.
pub(super) fn operator(config: &S3Config) -> Result<Operator> {
    if config.bucket.is_empty() {
        return Err(Error::invalid(
            "storage.s3.bucket is required with storage.backend = \"s3\"",
        ));
    }
    let prefix = config.prefix.as_deref().unwrap_or("").trim_matches('/');
    let mut builder = services::S3::default()
        .bucket(&config.bucket)
        .root(&format!("/{prefix}"))
        .region(config.region.as_deref().unwrap_or("us-east-1"));
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(key) = &config.access_key_id {
        builder = builder.access_key_id(key);
    }
    if let Some(secret) = &config.secret_access_key {
        builder = builder.secret_access_key(&secret.0);
    }
    if config.virtual_host_style {
        builder = builder.enable_virtual_host_style();
    }
    Ok(Operator::new(builder)
        .map_err(|e| storage_err("opening s3 backend", e))?
        .with_context(OperationContext::new().with_http_transport(transport::transport()))
        .layer(transport::retries()))
}
