//! JSON bodies that carry tarballs as base64 strings (`npm publish`, Pantry's JSON publishes):
//! the JSON is read token by token (struson) on a blocking thread, and each base64 string the
//! parser hands over is decoded as it arrives into a staged blob, one after the other — never
//! held whole. Everything outside those strings counts against [`MAX_DOCUMENT`] as it is
//! read, so a body cannot pass a huge manifest or readme off as tarball bytes.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::STANDARD;
use base64::read::DecoderReader;
use bytes::Bytes;
use futures::TryStreamExt;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::{Error, Result};
use wharf_server::AppState;

/// What the JSON around the tarballs may weigh (manifest, readme).
pub(crate) const MAX_DOCUMENT: u64 = 16 << 20;

type Chunks = mpsc::Receiver<std::io::Result<Bytes>>;

/// Where a parser sends the base64 strings it finds; each becomes the next staged blob.
pub struct Sinks {
    next: mpsc::Sender<Chunks>,
    sent: usize,
    max: usize,
    budget: Arc<Budget>,
}

/// Bytes of the body read so far, and how many of them were base64 strings.
#[derive(Default)]
struct Budget {
    read: AtomicU64,
    base64: AtomicU64,
}

impl Budget {
    /// Bytes of the document around the tarballs.
    fn document(&self) -> u64 {
        self.read
            .load(Ordering::Relaxed)
            .saturating_sub(self.base64.load(Ordering::Relaxed))
    }
}

/// The body, failing once the document around the tarballs passes [`MAX_DOCUMENT`] (the
/// parser reads ahead a little, which the limit's size makes irrelevant).
struct Counted<R> {
    inner: R,
    budget: Arc<Budget>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.read.fetch_add(n as u64, Ordering::Relaxed);
        if self.budget.document() > MAX_DOCUMENT {
            return Err(std::io::Error::other("the document is too large"));
        }
        Ok(n)
    }
}

/// A base64 string being read, counted as tarball bytes.
struct Base64Counted<'a, R> {
    inner: R,
    budget: &'a Budget,
}

impl<R: Read> Read for Base64Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.base64.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Sinks {
    /// How many strings were staged so far.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Decodes the base64 string `data` into the next staged blob; returns its index.
    ///
    /// # Errors
    /// [`Error::Invalid`] for bad base64 or one string too many, [`Error::BodyRead`] when
    /// the staging side refused the bytes (its own error says why).
    pub fn stage_base64(&mut self, data: impl Read) -> Result<usize> {
        if self.sent == self.max {
            return Err(Error::invalid(format!(
                "the body carries more than {} tarballs",
                self.max
            )));
        }
        let (sink, chunks) = mpsc::channel(4);
        self.next
            .blocking_send(chunks)
            .map_err(|_| Error::BodyRead("the upload was refused".into()))?;
        let counted = Base64Counted {
            inner: data,
            budget: &self.budget,
        };
        let mut data = DecoderReader::new(counted, &STANDARD);
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = data.read(&mut buf).map_err(|e| {
                Error::invalid(format!("a tarball's data is not valid base64: {e}"))
            })?;
            if n == 0 {
                break;
            }
            sink.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                .map_err(|_| Error::BodyRead("the upload was refused".into()))?;
        }
        self.sent += 1;
        Ok(self.sent - 1)
    }
}

/// Runs `parse` over the counted body: a parse that failed once the JSON around the blobs
/// passed [`MAX_DOCUMENT`], or the body its whole `cap`, is reported as too large.
fn parse_capped<R, T, P>(
    mut capped: Counted<std::io::Take<R>>,
    mut sinks: Sinks,
    cap: u64,
    parse: P,
) -> Result<T>
where
    R: Read,
    P: FnOnce(&mut dyn Read, &mut Sinks) -> Result<T>,
{
    let parsed = parse(&mut capped, &mut sinks);
    if parsed.is_err() && capped.budget.document() > MAX_DOCUMENT {
        return Err(Error::TooLarge {
            limit: MAX_DOCUMENT,
        });
    }
    if parsed.is_err() && capped.inner.limit() == 0 {
        return Err(Error::TooLarge { limit: cap });
    }
    parsed
}

/// Reads a JSON body with `parse` on a blocking thread while every base64 string it hands to
/// its [`Sinks`] (at most `max_blobs`) is decoded into a staged blob, in order; `limit`
/// bounds each decoded blob, and the JSON around them [`MAX_DOCUMENT`].
///
/// # Errors
/// What `parse` fails with, [`Error::TooLarge`] past the limits.
pub async fn stream_json<T, P>(
    state: &AppState,
    body: axum::body::Body,
    limit: u64,
    max_blobs: usize,
    parse: P,
) -> Result<(T, Vec<StagedBlob>)>
where
    T: Send + 'static,
    P: FnOnce(&mut dyn Read, &mut Sinks) -> Result<T> + Send + 'static,
{
    let blob_count = u64::try_from(max_blobs).unwrap_or(u64::MAX);
    let cap = (limit / 3 * 4).saturating_mul(blob_count) + MAX_DOCUMENT;
    let stream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let (next, mut strings) = mpsc::channel::<Chunks>(1);
    let budget = Arc::new(Budget::default());
    let sinks = Sinks {
        next,
        sent: 0,
        max: max_blobs,
        budget: budget.clone(),
    };
    let json = tokio::task::spawn_blocking(move || {
        let capped = Counted {
            inner: reader.take(cap),
            budget,
        };
        parse_capped(capped, sinks, cap, parse)
    });
    let options = StageOptions {
        max_size: Some(limit),
        expected_sha256: None,
        digests: crate::DIGESTS,
    };
    // The receivers are owned by the staging future, so that a refused upload drops them and
    // the parsing thread stops sending.
    let options = &options;
    let staging = async move {
        let mut staged = Vec::new();
        while let Some(chunks) = strings.recv().await {
            let decoded = Box::pin(futures::stream::unfold(chunks, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            }));
            staged.push(state.stage_upload(decoded, options).await?);
        }
        Ok::<_, Error>(staged)
    };
    let (parsed, staged) = tokio::join!(json, staging);
    let parsed = parsed.map_err(|e| Error::internal("reading the request body", e))?;
    match (parsed, staged) {
        (Ok(parsed), Ok(staged)) => Ok((parsed, staged)),
        (Err(Error::BodyRead(_)) | Ok(_), Err(e)) | (Err(e), _) => Err(e),
    }
}
