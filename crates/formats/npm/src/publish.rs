//! Reading an `npm publish` body — a packument whose `_attachments` carry the tarball in
//! base64 — as a stream: the JSON is read token by token (struson) on a blocking thread, the
//! attachment's data is decoded as it arrives and staged as a blob, never held whole; then
//! the tarball is checked to be a gzip tar whose `package/package.json` has the published
//! name and version.

use std::io::Read;

use base64::engine::general_purpose::STANDARD;
use base64::read::DecoderReader;
use bytes::Bytes;
use futures::TryStreamExt;
use serde_json::{Map, Value};
use struson::reader::{JsonReader, JsonStreamReader};
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use wharf_core::archive::{TarLimits, read_from_tar_gz};
use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::{Error, Result};
use wharf_server::metrics::{UploadInFlight, bytes_stored};

/// What the JSON around the tarball may weigh (manifest, readme).
pub(crate) const MAX_DOCUMENT: u64 = 16 << 20;

/// What reading `package/package.json` out of a tarball may cost.
const LIMITS: TarLimits = TarLimits {
    max_unpacked: 1 << 30,
    max_file: 4 << 20,
};

/// A publish body, read: the packument without `_attachments`, and its one attachment —
/// none when the body is a metadata change (`npm deprecate` sends those to the same URL).
pub(crate) struct PublishBody {
    pub doc: Map<String, Value>,
    pub attachment: Option<(String, StagedBlob)>,
}

/// What the JSON side found.
struct Parsed {
    doc: Map<String, Value>,
    files: Vec<(String, Option<u64>)>,
}

pub(crate) fn bad_json(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("the publish body is not a valid packument: {e}"))
}

/// Reads the packument, sending the first attachment's decoded bytes to `sink`.
fn parse(reader: &mut dyn Read, sink: mpsc::Sender<std::io::Result<Bytes>>) -> Result<Parsed> {
    let mut json = JsonStreamReader::new(reader);
    let mut doc = Map::new();
    let mut files = Vec::new();
    let mut sink = Some(sink);
    json.begin_object().map_err(bad_json)?;
    while json.has_next().map_err(bad_json)? {
        let key = json.next_name_owned().map_err(bad_json)?;
        if key != "_attachments" {
            let value: Value = json.deserialize_next().map_err(bad_json)?;
            doc.insert(key, value);
            continue;
        }
        json.begin_object().map_err(bad_json)?;
        while json.has_next().map_err(bad_json)? {
            let file = json.next_name_owned().map_err(bad_json)?;
            let mut length = None;
            json.begin_object().map_err(bad_json)?;
            while json.has_next().map_err(bad_json)? {
                match json.next_name().map_err(bad_json)? {
                    "data" => {
                        let Some(sink) = sink.take() else {
                            return Err(Error::invalid(
                                "a publish carries exactly one tarball in _attachments; this one has more",
                            ));
                        };
                        let data = json.next_string_reader().map_err(bad_json)?;
                        send_decoded(DecoderReader::new(data, &STANDARD), &sink)?;
                    }
                    "length" => length = json.next_number::<u64>().map_err(bad_json)?.ok(),
                    _ => json.skip_value().map_err(bad_json)?,
                }
            }
            json.end_object().map_err(bad_json)?;
            files.push((file, length));
        }
        json.end_object().map_err(bad_json)?;
    }
    json.end_object().map_err(bad_json)?;
    json.consume_trailing_whitespace().map_err(bad_json)?;
    Ok(Parsed { doc, files })
}

pub(crate) fn send_decoded(
    mut data: impl Read,
    sink: &mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<()> {
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = data.read(&mut buf).map_err(|e| {
            Error::invalid(format!("the attachment's data is not valid base64: {e}"))
        })?;
        if n == 0 {
            return Ok(());
        }
        sink.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
            .map_err(|_| Error::BodyRead("the upload was refused".into()))?;
    }
}

/// Reads a JSON body with `parse` on a blocking thread while the base64 string it sends to
/// its sink is decoded into a staged blob (empty when it sends none); `limit` bounds the
/// decoded bytes, and the JSON around them may add [`MAX_DOCUMENT`].
///
/// # Errors
/// What `parse` fails with, [`Error::TooLarge`] past the limits.
pub(crate) async fn stream_json<T, P>(
    blobs: &BlobStore,
    body: axum::body::Body,
    limit: u64,
    parse: P,
) -> Result<(T, StagedBlob)>
where
    T: Send + 'static,
    P: FnOnce(&mut dyn Read, mpsc::Sender<std::io::Result<Bytes>>) -> Result<T> + Send + 'static,
{
    let cap = limit / 3 * 4 + MAX_DOCUMENT;
    let stream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let (sink, decoded) = mpsc::channel::<std::io::Result<Bytes>>(4);
    let json = tokio::task::spawn_blocking(move || {
        let mut capped = reader.take(cap);
        let parsed = parse(&mut capped, sink);
        if parsed.is_err() && capped.limit() == 0 {
            return Err(Error::TooLarge { limit: cap });
        }
        parsed
    });
    let _in_flight = UploadInFlight::start();
    // Owned by the staging future, so that a refused upload drops the receiver and the
    // parsing thread stops sending.
    let decoded = Box::pin(futures::stream::unfold(decoded, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let options = StageOptions {
        max_size: Some(limit),
        expected_sha256: None,
    };
    let staging = blobs.stage(decoded, &options);
    let (parsed, staged) = tokio::join!(json, staging);
    let parsed = parsed.map_err(|e| Error::internal("reading the publish body", e))?;
    match (parsed, staged) {
        (Ok(parsed), Ok(staged)) => Ok((parsed, staged)),
        (Err(Error::BodyRead(_)) | Ok(_), Err(e)) | (Err(e), _) => Err(e),
    }
}

/// Reads a publish body, staging its tarball; `limit` bounds the tarball.
///
/// # Errors
/// [`Error::Invalid`] for a body that is not a packument or has several attachments,
/// [`Error::TooLarge`] for a tarball over `limit` or a document over [`MAX_DOCUMENT`].
pub(crate) async fn read_body(
    blobs: &BlobStore,
    body: axum::body::Body,
    limit: u64,
) -> Result<PublishBody> {
    let (parsed, staged) = stream_json(blobs, body, limit, parse).await?;
    let (file, length) = match <[_; 1]>::try_from(parsed.files) {
        Ok([file]) => file,
        Err(files) if files.is_empty() => {
            return Ok(PublishBody {
                doc: parsed.doc,
                attachment: None,
            });
        }
        Err(files) => {
            return Err(Error::invalid(format!(
                "a publish carries exactly one tarball in _attachments; this one has {}",
                files.len()
            )));
        }
    };
    if length.is_some_and(|l| l != staged.size) {
        return Err(Error::invalid(format!(
            "the attachment {file} declares {} bytes but holds {}",
            length.unwrap_or_default(),
            staged.size
        )));
    }
    bytes_stored(staged.size);
    Ok(PublishBody {
        doc: parsed.doc,
        attachment: Some((file, staged)),
    })
}

/// Checks the tarball: a gzip tar with `package/package.json` naming `name` and `version`,
/// and returns that `package.json`.
///
/// # Errors
/// [`Error::Invalid`] saying what is wrong.
pub(crate) async fn verify_tarball(
    blobs: &BlobStore,
    staged: &StagedBlob,
    name: &str,
    version: &str,
) -> Result<Map<String, Value>> {
    let reader = SyncIoBridge::new(StreamReader::new(blobs.read_staged(staged).await?));
    let found = tokio::task::spawn_blocking(move || {
        read_from_tar_gz(reader, LIMITS, |p| p == "package/package.json")
    })
    .await
    .map_err(|e| Error::internal("reading the tarball", e))?
    .map_err(|e| match e {
        Error::Invalid(m) => Error::invalid(format!("the tarball is not valid: {m}")),
        other => other,
    })?;
    let content = found.ok_or_else(|| Error::invalid("the tarball has no package/package.json"))?;
    let manifest: Map<String, Value> = serde_json::from_slice(&content).map_err(|e| {
        Error::invalid(format!(
            "package/package.json in the tarball does not parse: {e}"
        ))
    })?;
    let field = |key: &str| {
        manifest
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    if field("name").is_empty() || field("version").is_empty() {
        return Err(Error::invalid(
            "package/package.json in the tarball does not parse: it needs a name and a version",
        ));
    }
    if field("name") != name || field("version") != version {
        return Err(Error::invalid(format!(
            "the tarball holds {}@{} but the publish is for {name}@{version}",
            field("name"),
            field("version")
        )));
    }
    Ok(manifest)
}
