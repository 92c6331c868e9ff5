//! Staging an upload: stream to a temporary object, hashing on two cores while writing.

use std::path::PathBuf;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::Parts;
use super::in_place::InPlace;
use super::objects::Objects;
use super::storage_err;
use crate::digest::{DigestSet, Digests, HasherA, HasherB, Sha256, finish, hashers};
use crate::{Error, Result};

/// Bytes gathered before they are written and hashed together. Bounds memory per upload.
const BATCH: usize = 1 << 20;
/// Below this, hashing inline costs less than handing work to other threads.
const INLINE_HASH: usize = 64 << 10;

/// What an upload must satisfy.
#[derive(Debug, Clone, Default)]
pub struct StageOptions {
    /// Refuse bodies larger than this many bytes.
    pub max_size: Option<u64>,
    /// Refuse content whose SHA-256 differs.
    pub expected_sha256: Option<Sha256>,
    /// The digests to compute besides SHA-256: those the format serves.
    pub digests: DigestSet,
}

/// An upload that arrived whole and verified, waiting for [`super::BlobStore::commit`] in a
/// temporary object, or (when its SHA-256 was declared, on S3) in an upload to its content
/// address left open. Dropping it removes the temporary object or aborts the open upload.
#[derive(Debug)]
pub struct StagedBlob {
    /// Its digests.
    pub digests: Digests,
    /// Its size.
    pub size: u64,
    pub(super) held: Held,
}

/// Where a staged upload's bytes wait for the commit.
#[derive(Debug)]
pub(super) enum Held {
    /// A temporary object, which the commit moves or copies to the content address.
    Temp(TempObject),
    /// An upload to the content address itself, which the commit completes.
    InPlace(InPlace),
}

impl StagedBlob {
    /// Keeps the object beyond this value (a part of a resumable upload): its key. `None`
    /// for an upload written in place (parts never are).
    pub(super) fn keep(self) -> Option<String> {
        match self.held {
            Held::Temp(mut temp) => {
                temp.armed = false;
                Some(std::mem::take(&mut temp.key))
            }
            Held::InPlace(_) => None,
        }
    }

    /// An object already in storage, with known digests, taken over as a staged blob.
    pub(super) fn adopt(objects: &Objects, key: String, digests: Digests, size: u64) -> Self {
        Self {
            digests,
            size,
            held: Held::Temp(TempObject {
                objects: objects.clone(),
                key,
                armed: true,
            }),
        }
    }
}

/// Deletes its object when dropped while armed: the cleanup of every failed upload path,
/// including a client that disconnects and so drops the request future.
#[derive(Debug)]
pub(super) struct TempObject {
    objects: Objects,
    key: String,
    armed: bool,
}

impl TempObject {
    pub(super) fn key(&self) -> &str {
        &self.key
    }

    /// The object became the blob (or was deleted): nothing is left to remove.
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempObject {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let objects = self.objects.clone();
        let key = std::mem::take(&mut self.key);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = objects.delete(&key).await {
                    tracing::warn!(key, error = %e, "could not remove temporary upload");
                }
            });
        }
    }
}

/// Stages `body` at `key`; `local` is the file behind `key` when the backend is the local
/// filesystem (see [`Writeback`]).
pub(super) async fn stage<S, E>(
    objects: &Objects,
    key: String,
    parts: Option<Parts>,
    local: Option<PathBuf>,
    mut body: S,
    opts: &StageOptions,
) -> Result<StagedBlob>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let temp = TempObject {
        objects: objects.clone(),
        key,
        armed: true,
    };
    let op = objects.operator();
    let mut writer = writer(op, &temp.key, parts)
        .await
        .map_err(|e| storage_err("opening upload", e))?;
    let mut writeback = Writeback {
        path: local,
        since: 0,
        running: None,
    };
    let written = match receive(&mut writer, &mut body, opts, &mut writeback).await {
        Ok(written) => written,
        Err(e) => {
            // A multipart upload left open keeps its parts (and their cost) on S3. Backends
            // without multipart uploads (fs) cannot abort; the temporary object's guard
            // removes what they wrote.
            if let Err(abort) = writer.abort().await
                && abort.kind() != opendal::ErrorKind::Unsupported
            {
                tracing::warn!(error = %abort, "could not abort an interrupted upload");
            }
            return Err(e);
        }
    };
    let (digests, size) = written;
    writeback.finish().await;
    writer
        .close()
        .await
        .map_err(|e| storage_err("finishing upload", e))?;
    let staged = StagedBlob {
        digests,
        size,
        held: Held::Temp(temp),
    };
    check(&staged, opts)?;
    Ok(staged)
}

/// A writer of the object at `key`, in `parts` where the backend takes uploads in parts.
pub(super) async fn writer(
    op: &opendal::Operator,
    key: &str,
    parts: Option<Parts>,
) -> opendal::Result<opendal::Writer> {
    match parts {
        Some(parts) => {
            op.writer_with(key)
                .chunk(parts.size)
                .concurrent(parts.in_flight)
                .await
        }
        None => op.writer(key).await,
    }
}

/// Whether a staged blob meets `opts` (a staged blob that does not is dropped by the caller).
pub(super) fn check(staged: &StagedBlob, opts: &StageOptions) -> Result<()> {
    if let Some(limit) = opts.max_size
        && staged.size > limit
    {
        return Err(Error::TooLarge { limit });
    }
    if let Some(expected) = &opts.expected_sha256
        && *expected != staged.digests.sha256
    {
        return Err(Error::DigestMismatch {
            expected: format!("sha256:{expected}"),
            actual: format!("sha256:{}", staged.digests.sha256),
        });
    }
    Ok(())
}

/// Streams `body` to `writer` while hashing it: its digests and size.
pub(super) async fn receive<S, E>(
    writer: &mut opendal::Writer,
    body: &mut S,
    opts: &StageOptions,
    writeback: &mut Writeback,
) -> Result<(Digests, u64)>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let mut hashing = Hashing::new(opts.digests);
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
            hashing.feed(std::mem::take(&mut batch), size).await?;
            write(writer, hashing.take_pending()).await?;
            writeback.wrote(batch_len as u64);
            batch_len = 0;
        }
    }
    if !batch.is_empty() {
        hashing.feed(batch, size).await?;
        write(writer, hashing.take_pending()).await?;
    }
    Ok((hashing.finish().await?, size))
}

async fn write(writer: &mut opendal::Writer, pending: Vec<Bytes>) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    writer
        .write(pending)
        .await
        .map_err(|e| storage_err("writing upload", e))
}

/// Bytes written between two early write-backs of a local file.
const WRITEBACK: u64 = 64 << 20;

/// Makes the kernel write a local upload's data to disk while the upload goes on: every
/// [`WRITEBACK`] bytes, one `fdatasync` on the file runs on the blocking pool (never two at
/// once), so the fsync that ends the upload finds little left. Without it a machine with
/// plenty of memory keeps a whole large upload dirty and flushes all of it at the end, after
/// the last byte arrived.
pub(super) struct Writeback {
    path: Option<PathBuf>,
    since: u64,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Writeback {
    /// No early write-back (the object is not a local file).
    pub(super) const NONE: Self = Self {
        path: None,
        since: 0,
        running: None,
    };

    fn wrote(&mut self, bytes: u64) {
        let Some(path) = &self.path else {
            return;
        };
        self.since += bytes;
        if self.since < WRITEBACK || self.running.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        self.since = 0;
        let path = path.clone();
        self.running = Some(tokio::task::spawn_blocking(move || {
            // Any descriptor of the file flushes its pages; a failure here only leaves more
            // for the final fsync, which reports errors.
            if let Ok(file) = std::fs::File::open(&path) {
                let _ = file.sync_data();
            }
        }));
    }

    async fn finish(self) {
        if let Some(running) = self.running {
            let _ = running.await;
        }
    }
}

/// Where the digests are computed. Small bodies are hashed inline; once a body passes
/// [`INLINE_HASH`], each hasher half moves to a thread of its own, fed through a bounded
/// channel, so receiving, writing and hashing overlap while memory stays bounded.
/// When SHA-256 alone (or with SHA-1) is asked for, the second half is absent.
enum Hashing {
    Inline {
        hashers: Box<(HasherA, Option<HasherB>)>,
        pending: Vec<Bytes>,
    },
    Threaded {
        a: Feed<HasherA>,
        b: Option<Feed<HasherB>>,
        pending: Vec<Bytes>,
    },
}

impl Hashing {
    fn new(digests: DigestSet) -> Self {
        Self::Inline {
            hashers: Box::new(hashers(digests)),
            pending: Vec::new(),
        }
    }

    /// Hashes a batch (inline while the body is small) and queues it for writing; `total`
    /// is the body's size so far.
    async fn feed(&mut self, batch: Vec<Bytes>, total: u64) -> Result<()> {
        if let Self::Inline { hashers, pending } = self {
            if total < INLINE_HASH as u64 {
                for c in &batch {
                    hashers.0.update(c);
                    if let Some(b) = &mut hashers.1 {
                        b.update(c);
                    }
                }
                pending.extend(batch);
                return Ok(());
            }
            let idle = crate::digest::hashers(DigestSet::SHA256);
            let (a, b) = std::mem::replace(&mut **hashers, idle);
            *self = Self::Threaded {
                a: Feed::start(a, HasherA::update),
                b: b.map(|b| Feed::start(b, HasherB::update)),
                pending: std::mem::take(pending),
            };
        }
        if let Self::Threaded { a, b, pending } = self {
            a.send(batch.clone()).await?;
            if let Some(b) = b {
                b.send(batch.clone()).await?;
            }
            pending.extend(batch);
        }
        Ok(())
    }

    fn take_pending(&mut self) -> Vec<Bytes> {
        match self {
            Self::Inline { pending, .. } | Self::Threaded { pending, .. } => {
                std::mem::take(pending)
            }
        }
    }

    async fn finish(self) -> Result<Digests> {
        match self {
            Self::Inline { hashers, .. } => Ok(finish(hashers.0, hashers.1)),
            Self::Threaded { a, b, .. } => {
                let b = match b {
                    Some(b) => Some(b.finish().await?),
                    None => None,
                };
                Ok(finish(a.finish().await?, b))
            }
        }
    }
}

/// Batches queued per hasher: bounds what an upload buffers to a few batches.
const IN_FLIGHT: usize = 4;

/// A hasher running on the blocking pool, and the channel that feeds it.
struct Feed<H> {
    tx: tokio::sync::mpsc::Sender<Vec<Bytes>>,
    done: tokio::task::JoinHandle<H>,
}

impl<H: Send + 'static> Feed<H> {
    fn start(mut hasher: H, update: fn(&mut H, &[u8])) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(IN_FLIGHT);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(batch) = rx.blocking_recv() {
                for chunk in &batch {
                    update(&mut hasher, chunk);
                }
            }
            hasher
        });
        Self { tx, done }
    }

    async fn send(&self, batch: Vec<Bytes>) -> Result<()> {
        self.tx
            .send(batch)
            .await
            .map_err(|_| Error::internal_msg("hashing thread stopped"))
    }

    async fn finish(self) -> Result<H> {
        drop(self.tx);
        self.done
            .await
            .map_err(|e| Error::internal("hashing upload", e))
    }
}
