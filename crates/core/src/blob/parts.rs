//! Parts of resumable uploads ([`crate::uploads`]): each request's body is staged under
//! `uploads/` and kept; finishing turns the parts into one staged blob — a single part as it
//! is, several by streaming them through the hashing stage again.

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use super::keys::{UPLOAD_PREFIX, upload_key};
use super::stage::{self, StageOptions, StagedBlob};
use super::{BlobStore, storage_err};
use crate::Result;
use crate::time::Timestamp;
use crate::uploads::UploadPart;

impl BlobStore {
    /// Streams `body` into a new part object, kept after this call for the caller to record.
    ///
    /// # Errors
    /// As [`BlobStore::stage`]; on error nothing is kept.
    pub async fn stage_part<S, E>(&self, body: S, options: &StageOptions) -> Result<UploadPart>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let staged = self.stage_at(upload_key(), body, options).await?;
        let (digests, size) = (staged.digests.clone(), staged.size);
        let key = staged
            .keep()
            .ok_or_else(|| crate::Error::internal_msg("an upload part was written in place"))?;
        Ok(UploadPart { key, size, digests })
    }

    /// The finished upload made of `parts`, as a staged blob to commit: one part is taken as
    /// it is; several are read in order into a new staged object (hashed again, so the
    /// digests are the whole content's). The part objects go when the result is committed
    /// or dropped (one part) or with [`BlobStore::delete_parts`].
    ///
    /// # Errors
    /// [`crate::Error::TooLarge`], [`crate::Error::DigestMismatch`] or a storage error.
    pub async fn join_parts(
        &self,
        mut parts: Vec<UploadPart>,
        options: &StageOptions,
    ) -> Result<StagedBlob> {
        if parts.len() == 1 {
            let part = parts.remove(0);
            let staged = StagedBlob::adopt(&self.objects, part.key, part.digests, part.size);
            stage::check(&staged, options)?;
            return Ok(staged);
        }
        let op = self.op.clone();
        let chunk = self.transfer.read_chunk;
        let keys: Vec<String> = parts.into_iter().map(|p| p.key).collect();
        let body = futures::stream::iter(keys)
            .then(move |key| {
                let op = op.clone();
                async move {
                    let reader = op.reader_with(&key).chunk(chunk).await?;
                    reader
                        .into_bytes_stream(..)
                        .await
                        .map_err(std::io::Error::other)
                }
            })
            .map_err(std::io::Error::other)
            .try_flatten()
            .boxed();
        self.stage(body, options).await
    }

    /// Removes part objects; missing ones are not an error.
    ///
    /// # Errors
    /// A storage error.
    pub async fn delete_parts(&self, keys: &[String]) -> Result<()> {
        for key in keys {
            self.objects
                .delete(key)
                .await
                .map_err(|e| storage_err("deleting an upload part", e))?;
        }
        Ok(())
    }

    /// Removes part objects older than `before` that no session lists any more (a session's
    /// row is expired first, so what is left this old belongs to none). Returns how many.
    ///
    /// # Errors
    /// A storage error.
    pub async fn sweep_parts(&self, before: Timestamp) -> Result<u64> {
        self.sweep_prefix(UPLOAD_PREFIX, before).await
    }
}
