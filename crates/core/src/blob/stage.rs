//! Staging an upload: stream to a temporary object, hashing on two cores while writing.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use opendal::Operator;

use super::keys::temp_key;
use super::storage_err;
use crate::digest::{Digests, HasherA, HasherB, Sha256, finish};
use crate::{Error, Result};

/// Bytes gathered before they are written and hashed together. Bounds memory per upload.
const BATCH: usize = 1 << 20;
/// Below this, hashing inline costs less than handing work to another thread.
const INLINE_HASH: usize = 64 << 10;

/// What an upload must satisfy.
#[derive(Debug, Clone, Default)]
pub struct StageOptions {
    /// Refuse bodies larger than this many bytes.
    pub max_size: Option<u64>,
    /// Refuse content whose SHA-256 differs.
    pub expected_sha256: Option<Sha256>,
}

/// An upload that arrived whole and verified, waiting in a temporary object for
/// [`super::BlobStore::commit`]. Dropping it removes the temporary object.
#[derive(Debug)]
pub struct StagedBlob {
    /// Its digests.
    pub digests: Digests,
    /// Its size.
    pub size: u64,
    temp: TempObject,
}

impl StagedBlob {
    pub(super) fn temp_key(&self) -> &str {
        &self.temp.key
    }

    pub(super) fn committed(mut self) {
        self.temp.armed = false;
    }
}

/// Deletes its object when dropped while armed: the cleanup of every failed upload path,
/// including a client that disconnects and so drops the request future.
#[derive(Debug)]
struct TempObject {
    op: Operator,
    key: String,
    armed: bool,
}

impl Drop for TempObject {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let op = self.op.clone();
        let key = std::mem::take(&mut self.key);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = op.delete(&key).await {
                    tracing::warn!(key, error = %e, "could not remove temporary upload");
                }
            });
        }
    }
}

pub(super) async fn stage<S, E>(
    op: &Operator,
    mut body: S,
    opts: &StageOptions,
) -> Result<StagedBlob>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let temp = TempObject {
        op: op.clone(),
        key: temp_key(),
        armed: true,
    };
    let mut writer = op
        .writer(&temp.key)
        .await
        .map_err(|e| storage_err("opening upload", e))?;
    let mut hashers = (HasherA::default(), HasherB::default());
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batch_len = 0usize;
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::BodyRead(e.to_string()))?;
        size += chunk.len() as u64;
        if let Some(limit) = opts.max_size
            && size > limit
        {
            return Err(Error::TooLarge { limit });
        }
        batch_len += chunk.len();
        batch.push(chunk);
        if batch_len >= BATCH {
            hashers = write_and_hash(&mut writer, std::mem::take(&mut batch), hashers).await?;
            batch_len = 0;
        }
    }
    if !batch.is_empty() {
        hashers = write_and_hash(&mut writer, batch, hashers).await?;
    }
    writer
        .close()
        .await
        .map_err(|e| storage_err("finishing upload", e))?;
    let digests = finish(hashers.0, hashers.1);
    if let Some(expected) = &opts.expected_sha256
        && *expected != digests.sha256
    {
        return Err(Error::DigestMismatch {
            expected: format!("sha256:{expected}"),
            actual: format!("sha256:{}", digests.sha256),
        });
    }
    Ok(StagedBlob {
        digests,
        size,
        temp,
    })
}

/// Writes one batch while both hasher halves digest it on the blocking pool.
async fn write_and_hash(
    writer: &mut opendal::Writer,
    batch: Vec<Bytes>,
    (mut a, mut b): (HasherA, HasherB),
) -> Result<(HasherA, HasherB)> {
    let len: usize = batch.iter().map(Bytes::len).sum();
    if len < INLINE_HASH {
        for c in &batch {
            a.update(c);
            b.update(c);
        }
        writer
            .write(batch)
            .await
            .map_err(|e| storage_err("writing upload", e))?;
        return Ok((a, b));
    }
    let for_a = batch.clone();
    let for_b = batch.clone();
    let hash_a = tokio::task::spawn_blocking(move || {
        for c in &for_a {
            a.update(c);
        }
        a
    });
    let hash_b = tokio::task::spawn_blocking(move || {
        for c in &for_b {
            b.update(c);
        }
        b
    });
    let (written, a, b) = tokio::join!(writer.write(batch), hash_a, hash_b);
    written.map_err(|e| storage_err("writing upload", e))?;
    let a = a.map_err(|e| Error::internal("hashing upload", e))?;
    let b = b.map_err(|e| Error::internal("hashing upload", e))?;
    Ok((a, b))
}
