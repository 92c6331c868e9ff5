//! The content-addressed blob store over an OpenDAL [`Operator`].
//!
//! Uploads are staged: streamed to a temporary object while SHA-256 and the other digests the
//! format asks for are computed in the same pass (on two cores), checked against the size limit
//! and the claimed digest, and only then committed to `sha256/ab/cd/<hex>` (on S3 an upload
//! whose digest is declared beforehand is written there directly and completed by the commit,
//! see [`in_place`]). A staged upload that is dropped — error, digest mismatch, client
//! disconnect — removes its temporary object or aborts its upload. Reads stream, with byte
//! ranges. Nothing here ever holds a whole body in memory: on S3 an upload is a multipart
//! upload of [`S3_PART`]-sized parts, three sent at once, on Swift a segmented one, and a
//! download reads 4 MiB ranges, eight at once.

mod budget;
mod commit;
mod config;
mod in_place;
mod keys;
mod objects;
mod parts;
mod s3;
mod stage;
mod swift;
mod transport;

use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use opendal::{ErrorKind, Operator, services};

use budget::{READ_BUDGET, ReadBudget};
use config::default_redirect_ttl;
pub use config::{Backend, StorageConfig};
pub use keys::{TEMP_PREFIX, blob_key, sha256_of_key};
use objects::Objects;
pub use s3::{S3_PART, S3Config};
use s3::{S3_PARTS_IN_FLIGHT, S3_READ_AHEAD, S3_READ_CHUNK};
pub use stage::{StageOptions, StagedBlob};
pub use swift::{AuthVersion, SWIFT_SEGMENT, SwiftConfig};

use crate::digest::Sha256;
use crate::time::Timestamp;
use crate::{Error, Result};

/// How a backend is best read and written: part sizes and transfers in flight.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    /// How uploads are sent, for backends that take them in parts.
    write: Option<Parts>,
    /// Read chunk size.
    read_chunk: usize,
    /// Read chunks in flight.
    read_ahead: usize,
}

/// Uploads in parts: a part's size, and how many are sent at once. An upload holds at most
/// `in_flight + 1` parts in memory.
#[derive(Clone, Copy, Debug)]
pub(super) struct Parts {
    size: usize,
    in_flight: usize,
}

impl Transfer {
    const LOCAL: Self = Self {
        write: None,
        read_chunk: 1 << 20,
        read_ahead: 1,
    };
    const S3: Self = Self {
        write: Some(Parts {
            size: S3_PART,
            in_flight: S3_PARTS_IN_FLIGHT,
        }),
        read_chunk: S3_READ_CHUNK,
        read_ahead: S3_READ_AHEAD,
    };

    /// Swift: large uploads in segments of `segment` bytes, two at once; reads as on S3.
    const fn swift(segment: usize) -> Self {
        Self {
            write: Some(Parts {
                size: segment,
                in_flight: 2,
            }),
            ..Self::S3
        }
    }
}

/// A stored object's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectStat {
    /// Size in bytes.
    pub size: u64,
    /// Last modification, when the backend knows it.
    pub modified: Option<Timestamp>,
}

/// A stream of a blob's bytes.
pub type ByteStream = futures::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// Content-addressed blobs.
#[derive(Clone, Debug)]
pub struct BlobStore {
    op: Operator,
    /// The operator again, with what deleting needs on Swift.
    objects: Objects,
    /// How the backend is best read and written.
    transfer: Transfer,
    /// Ranges read ahead by all downloads at once.
    read_budget: ReadBudget,
    /// How long presigned download URLs stay valid.
    redirect_ttl: std::time::Duration,
    /// The directory of the fs backend (uploads there are written back early).
    local_root: Option<PathBuf>,
}

fn storage_err(context: &str, e: opendal::Error) -> Error {
    Error::internal(format!("storage: {context}"), e)
}

impl BlobStore {
    /// Wraps an operator.
    #[must_use]
    pub fn new(op: Operator) -> Self {
        Self {
            objects: Objects::new(op.clone(), None),
            op,
            read_budget: ReadBudget::new(READ_BUDGET),
            transfer: Transfer::LOCAL,
            redirect_ttl: default_redirect_ttl(),
            local_root: None,
        }
    }

    /// An in-memory store, for tests.
    ///
    /// # Panics
    /// Never: the memory service has no settings that can fail.
    #[must_use]
    pub fn memory() -> Self {
        Self::new(Operator::new(services::Memory::default()).expect("memory operator"))
    }

    /// Opens the configured backend; `default_root` is used by `fs` when no root is set.
    ///
    /// # Errors
    /// When the backend cannot be set up (e.g. the directory cannot be created, or the login
    /// to Swift fails).
    pub async fn from_config(
        config: &StorageConfig,
        default_root: &std::path::Path,
    ) -> Result<Self> {
        match config.backend {
            Backend::Memory => Ok(Self::memory()),
            Backend::Fs => {
                let root = config
                    .root
                    .clone()
                    .unwrap_or_else(|| default_root.to_path_buf());
                std::fs::create_dir_all(&root).map_err(|e| {
                    Error::internal(format!("storage: creating {}", root.display()), e)
                })?;
                let root = root.canonicalize().map_err(|e| {
                    Error::internal(format!("storage: resolving {}", root.display()), e)
                })?;
                let builder = services::Fs::default().root(&root.to_string_lossy());
                let op =
                    Operator::new(builder).map_err(|e| storage_err("opening fs backend", e))?;
                Ok(Self {
                    local_root: Some(root),
                    ..Self::new(op)
                })
            }
            Backend::S3 => Self::s3(&config.s3),
            Backend::Swift => Self::swift(&config.swift).await,
        }
        .map(|store| Self {
            redirect_ttl: config.redirect_ttl,
            ..store
        })
    }

    /// Opens an S3 bucket.
    ///
    /// # Errors
    /// [`Error::Invalid`] without a bucket; a storage error when the settings are refused.
    pub fn s3(config: &S3Config) -> Result<Self> {
        Ok(Self {
            transfer: Transfer::S3,
            ..Self::new(s3::operator(config)?)
        })
    }

    /// Logs in to Swift and opens its container.
    ///
    /// # Errors
    /// [`Error::Invalid`] for incomplete settings; a storage error when the login fails.
    pub async fn swift(config: &SwiftConfig) -> Result<Self> {
        let (op, swift) = swift::open(config).await?;
        Ok(Self {
            objects: Objects::new(op.clone(), Some(swift)),
            transfer: Transfer::swift(config.segment()),
            ..Self::new(op)
        })
    }

    /// A presigned URL a client can download the blob from directly, valid for
    /// `storage.redirect_ttl`; `None` on backends that cannot sign one (fs, memory).
    ///
    /// # Errors
    /// A storage error while signing.
    pub async fn presigned_url(&self, sha256: &Sha256) -> Result<Option<String>> {
        if !self.op.info().capability().presign_read {
            return Ok(None);
        }
        let signed = self
            .op
            .presign_read(&blob_key(sha256), self.redirect_ttl)
            .await
            .map_err(|e| storage_err("signing a download URL", e))?;
        Ok(Some(signed.uri().to_string()))
    }

    /// Streams a blob, or the half-open `range` of it.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the object is missing, or a storage error.
    pub async fn read(&self, sha256: &Sha256, range: Range<u64>) -> Result<ByteStream> {
        let mut stream = self
            .stream_key(&blob_key(sha256), range)
            .await
            .map_err(|e| not_found_or(e, "reading blob"))?;
        // Backends report a missing object on the first read; surface it before any header.
        let first = match stream.next().await {
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::not_found("blob content is missing from storage"));
            }
            Some(Err(e)) => return Err(Error::internal("storage: reading blob", e)),
            first => first,
        };
        Ok(futures::stream::iter(first).chain(stream).boxed())
    }

    /// Streams `range` of the object at `key`, reading as many ranges ahead as the budget
    /// gives this download; what it took returns when the stream is dropped.
    async fn stream_key(
        &self,
        key: &str,
        range: impl std::ops::RangeBounds<u64>,
    ) -> opendal::Result<ByteStream> {
        let ahead = self.read_budget.take(self.transfer.read_ahead);
        let reader = self
            .op
            .reader_with(key)
            .chunk(self.transfer.read_chunk)
            .concurrent(ahead.ranges())
            .await?;
        let stream = reader.into_bytes_stream(range).await?;
        Ok(stream
            .map(move |chunk| {
                let _held = &ahead;
                chunk
            })
            .boxed())
    }

    /// Size and modification time of a blob's object, `None` when missing.
    ///
    /// # Errors
    /// A storage error other than not-found.
    pub async fn stat(&self, sha256: &Sha256) -> Result<Option<ObjectStat>> {
        self.stat_key(&blob_key(sha256)).await
    }

    async fn stat_key(&self, key: &str) -> Result<Option<ObjectStat>> {
        match self.op.stat(key).await {
            Ok(meta) => Ok(Some(ObjectStat {
                size: meta.content_length(),
                modified: meta.last_modified().map(|t| {
                    let st: std::time::SystemTime = t.into();
                    Timestamp(
                        st.duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                    )
                }),
            })),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage_err("stat", e)),
        }
    }

    /// Deletes a blob's object; a missing object is not an error.
    ///
    /// # Errors
    /// A storage error.
    pub async fn delete(&self, sha256: &Sha256) -> Result<()> {
        self.objects
            .delete(&blob_key(sha256))
            .await
            .map_err(|e| storage_err("deleting blob", e))
    }

    /// Every blob object's digest (for fsck's orphan list).
    ///
    /// # Errors
    /// A storage error.
    pub async fn list_blobs(&self) -> Result<Vec<Sha256>> {
        let mut lister = self
            .op
            .lister_with(keys::BLOB_PREFIX)
            .recursive(true)
            .await
            .map_err(|e| storage_err("listing blobs", e))?;
        let mut out = Vec::new();
        while let Some(entry) = lister
            .try_next()
            .await
            .map_err(|e| storage_err("listing blobs", e))?
        {
            if let Some(sha) = sha256_of_key(entry.path()) {
                out.push(sha);
            }
        }
        Ok(out)
    }

    /// Removes temporary objects older than `before`: leftovers of a crash mid-upload.
    /// Returns how many were removed.
    ///
    /// # Errors
    /// A storage error.
    pub async fn sweep_temp(&self, before: Timestamp) -> Result<u64> {
        self.sweep_prefix(TEMP_PREFIX, before).await
    }

    async fn sweep_prefix(&self, prefix: &str, before: Timestamp) -> Result<u64> {
        let entries = match self.op.list(prefix).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(storage_err("listing temporary objects", e)),
        };
        let mut removed = 0;
        for entry in entries {
            if entry.path().ends_with('/') {
                continue;
            }
            let old = match self.stat_key(entry.path()).await? {
                Some(ObjectStat {
                    modified: Some(m), ..
                }) => m < before,
                // Without a modification time an object's age is unknown: keep it.
                Some(_) | None => false,
            };
            if old {
                self.objects
                    .delete(entry.path())
                    .await
                    .map_err(|e| storage_err("deleting temporary object", e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Answers when the storage does (for `/readyz`).
    ///
    /// # Errors
    /// A storage error.
    pub async fn ping(&self) -> Result<()> {
        self.op
            .check()
            .await
            .map_err(|e| storage_err("health check", e))
    }
}

fn not_found_or(e: opendal::Error, context: &str) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::not_found("blob content is missing from storage")
    } else {
        storage_err(context, e)
    }
}

#[cfg(test)]
mod in_place_tests;
#[cfg(test)]
mod parts_tests;
#[cfg(test)]
mod tests;
