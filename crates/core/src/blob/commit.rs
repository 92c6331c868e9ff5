//! The write side of the store: staging an upload (in a temporary object, or in place when
//! its digest is declared on a backend that cannot rename) and committing it to its content
//! address, and reading a staged upload back before that.

use std::path::PathBuf;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use opendal::ErrorKind;

use super::keys::{blob_key, temp_key};
use super::s3::S3_COPY_LIMIT;
use super::stage::{self, Held, StageOptions, StagedBlob};
use super::{BlobStore, ByteStream, in_place, storage_err};
use crate::{Error, Result};

impl BlobStore {
    /// Streams `body` into a temporary object, or, when `options` declares the SHA-256 and the
    /// backend cannot rename, into an upload to the content address left open for the commit;
    /// see [`StagedBlob`].
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::DigestMismatch`], [`Error::BodyRead`] or a storage error;
    /// in every case the temporary object is removed or the open upload aborted.
    pub async fn stage<S, E>(&self, body: S, options: &StageOptions) -> Result<StagedBlob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        if let Some(expected) = &options.expected_sha256
            && self.writes_in_place()
        {
            let key = blob_key(expected);
            return in_place::stage(&self.op, &key, self.transfer.write, body, options).await;
        }
        self.stage_at(temp_key(), body, options).await
    }

    /// Stages `body` in a new object at `key` (a temporary object, or an upload part).
    pub(super) async fn stage_at<S, E>(
        &self,
        key: String,
        body: S,
        options: &StageOptions,
    ) -> Result<StagedBlob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let local = self.local_path(&key);
        stage::stage(
            &self.objects,
            key,
            self.transfer.write,
            local,
            body,
            options,
        )
        .await
    }

    /// Whether uploads of a declared digest go straight to their content address (see
    /// [`in_place`]): on backends that cannot rename, where a temporary object costs a copy.
    /// Swift's commit moves no data already.
    pub(super) fn writes_in_place(&self) -> bool {
        self.objects.swift().is_none() && !self.op.info().capability().rename
    }

    /// The file behind `key` on the fs backend.
    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key))
    }

    /// Moves a staged blob to its content address (or completes its upload there). When an
    /// object is already there (the same content was stored before) the staged copy is simply
    /// dropped.
    ///
    /// # Errors
    /// A storage error; the temporary object is removed anyway.
    pub async fn commit(&self, staged: StagedBlob) -> Result<()> {
        let key = blob_key(&staged.digests.sha256);
        let present = self
            .stat_key(&key)
            .await?
            .is_some_and(|stat| stat.size == staged.size);
        let temp = match staged.held {
            Held::InPlace(upload) if present => {
                upload.abort().await;
                return Ok(());
            }
            Held::InPlace(upload) => {
                return upload
                    .complete()
                    .await
                    .map_err(|e| storage_err("committing blob", e));
            }
            Held::Temp(temp) if present => {
                self.drop_temp(temp).await;
                return Ok(());
            }
            Held::Temp(temp) => temp,
        };
        let from = temp.key().to_owned();
        let capability = self.op.info().capability();
        let moved = if let Some(swift) = self.objects.swift() {
            swift.commit(&from, &key).await
        } else if capability.rename {
            self.op.rename(&from, &key).await.map(|()| true)
        } else if capability.copy && staged.size <= S3_COPY_LIMIT {
            self.op.copy(&from, &key).await.map(|_| false)
        } else {
            self.stream_copy(&from, &key).await.map(|()| false)
        };
        if moved.map_err(|e| storage_err("committing blob", e))? {
            temp.disarm();
        } else {
            self.drop_temp(temp).await;
        }
        Ok(())
    }

    /// Removes a staged upload's temporary object now, rather than in the background.
    async fn drop_temp(&self, temp: stage::TempObject) {
        if let Err(e) = self.objects.delete(temp.key()).await {
            tracing::warn!(error = %e, "could not remove temporary upload");
        }
        temp.disarm();
    }

    /// Copies an object by streaming it, for backends without copy or rename.
    async fn stream_copy(&self, from: &str, to: &str) -> opendal::Result<()> {
        let mut chunks = self.op.reader(from).await?.into_bytes_stream(..).await?;
        let mut writer = stage::writer(&self.op, to, self.transfer.write).await?;
        while let Some(chunk) = chunks.next().await {
            writer
                .write(
                    chunk.map_err(|e| opendal::Error::new(ErrorKind::Unexpected, e.to_string()))?,
                )
                .await?;
        }
        writer.close().await?;
        Ok(())
    }

    /// Streams a staged upload back (for formats that inspect what was sent, such as the
    /// manifest inside a package archive) before it is committed.
    ///
    /// # Errors
    /// A storage error. An upload written in place (a declared digest, on S3) cannot be read
    /// before its commit.
    pub async fn read_staged(&self, staged: &StagedBlob) -> Result<ByteStream> {
        let Held::Temp(temp) = &staged.held else {
            return Err(Error::internal_msg(
                "an upload written in place cannot be read before its commit",
            ));
        };
        self.stream_key(temp.key(), ..)
            .await
            .map_err(|e| storage_err("reading staged upload", e))
    }
}
