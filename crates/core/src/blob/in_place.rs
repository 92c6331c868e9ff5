//! Uploads written in place. When the caller declares the SHA-256 before the body arrives
//! (a proxy that knows what it fetches, an OCI `PUT ?digest=`, a generic upload with
//! `X-Checksum-Sha256`), a backend without rename — S3 — is written at the content address
//! itself, and the upload is left open (on S3 a multipart upload whose parts are all sent but
//! which is not completed) until [`super::BlobStore::commit`] completes it. Nothing appears at
//! the content address before the publish has claimed the blob, just as with a temporary
//! object, so the garbage collector's protocol holds; what is saved is the copy from the
//! temporary object to the content address, a second write of every byte on the S3 server.

use bytes::Bytes;
use futures::Stream;

use super::Parts;
use super::stage::{self, Held, StageOptions, StagedBlob, Writeback};
use super::storage_err;
use crate::{Error, Result};

/// An upload to a content address, every byte sent, not yet completed. Dropped without
/// [`InPlace::complete`], it is aborted: nothing is left at the address.
pub(super) struct InPlace {
    writer: Option<opendal::Writer>,
}

impl std::fmt::Debug for InPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InPlace")
            .field("open", &self.writer.is_some())
            .finish()
    }
}

impl InPlace {
    fn writer(&mut self) -> Result<&mut opendal::Writer> {
        self.writer
            .as_mut()
            .ok_or_else(|| Error::internal_msg("the upload was finished already"))
    }

    /// Makes the object appear at its address.
    pub(super) async fn complete(mut self) -> opendal::Result<()> {
        match self.writer.take() {
            Some(mut writer) => writer.close().await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Gives the upload up now (the content is stored already), rather than in the
    /// background.
    pub(super) async fn abort(mut self) {
        if let Some(mut writer) = self.writer.take() {
            abort(&mut writer).await;
        }
    }
}

impl Drop for InPlace {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { abort(&mut writer).await });
        }
    }
}

/// An upload left open costs its parts on S3 until a lifecycle rule clears them.
async fn abort(writer: &mut opendal::Writer) {
    if let Err(e) = writer.abort().await
        && e.kind() != opendal::ErrorKind::Unsupported
    {
        tracing::warn!(error = %e, "could not abort an upload written in place");
    }
}

/// Streams `body` to the content address `key` of `expected`, hashing it, and leaves the
/// upload open for the commit. A body that does not hash to `expected`, passes the size
/// limit or breaks is aborted.
pub(super) async fn stage<S, E>(
    op: &opendal::Operator,
    key: &str,
    parts: Option<Parts>,
    mut body: S,
    opts: &StageOptions,
) -> Result<StagedBlob>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let writer = stage::writer(op, key, parts)
        .await
        .map_err(|e| storage_err("opening upload", e))?;
    // From here a drop (a client that disconnects) aborts the upload.
    let mut upload = InPlace {
        writer: Some(writer),
    };
    let mut no_writeback = Writeback::NONE;
    let received = stage::receive(upload.writer()?, &mut body, opts, &mut no_writeback).await;
    let (digests, size) = match received {
        Ok(received) => received,
        Err(e) => {
            upload.abort().await;
            return Err(e);
        }
    };
    let staged = StagedBlob {
        digests,
        size,
        held: Held::InPlace(upload),
    };
    if let Err(e) = stage::check(&staged, opts) {
        if let Held::InPlace(upload) = staged.held {
            upload.abort().await;
        }
        return Err(e);
    }
    Ok(staged)
}
