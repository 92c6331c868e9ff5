//! Reading an `npm publish` body — a packument whose `_attachments` carry the tarball in
//! base64 — as a stream (see [`crate::streamed`]); then the tarball is checked to be a gzip
//! tar whose `package/package.json` has the published name and version.

use std::io::Read;

use serde_json::{Map, Value};
use struson::reader::{JsonReader, JsonStreamReader};
use tokio_util::io::{StreamReader, SyncIoBridge};
use wharf_core::archive::{TarLimits, read_from_tar_gz};
use wharf_core::blob::{BlobStore, StagedBlob};
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::streamed::{Sinks, stream_json};

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

pub fn bad_json(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("the publish body is not a valid packument: {e}"))
}

/// Reads the packument, staging the attachment's data.
fn parse(reader: &mut dyn Read, sinks: &mut Sinks) -> Result<Parsed> {
    let mut json = JsonStreamReader::new(reader);
    let mut doc = Map::new();
    let mut files = Vec::new();
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
                        if sinks.sent() > 0 {
                            return Err(Error::invalid(
                                "a publish carries exactly one tarball in _attachments; this one has more",
                            ));
                        }
                        sinks.stage_base64(json.next_string_reader().map_err(bad_json)?)?;
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

/// Reads a publish body, staging its tarball; `limit` bounds the tarball.
///
/// # Errors
/// [`Error::Invalid`] for a body that is not a packument or has several attachments,
/// [`Error::TooLarge`] for a tarball over `limit` or a document over [`MAX_DOCUMENT`].
pub(crate) async fn read_body(
    state: &AppState,
    body: axum::body::Body,
    limit: u64,
) -> Result<PublishBody> {
    let (parsed, staged) = stream_json(state, body, limit, 1, parse).await?;
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
    let staged = staged
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("the attachment has no data"))?;
    if length.is_some_and(|l| l != staged.size) {
        return Err(Error::invalid(format!(
            "the attachment {file} declares {} bytes but holds {}",
            length.unwrap_or_default(),
            staged.size
        )));
    }
    Ok(PublishBody {
        doc: parsed.doc,
        attachment: Some((file, staged)),
    })
}

/// Checks the tarball: a gzip tar with `package/package.json` naming `name` and `version`
/// (any version when `None`), and returns that `package.json`.
///
/// # Errors
/// [`Error::Invalid`] saying what is wrong.
pub async fn verify_tarball(
    blobs: &BlobStore,
    staged: &StagedBlob,
    name: &str,
    version: Option<&str>,
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
    if field("name") != name || version.is_some_and(|v| field("version") != v) {
        return Err(Error::invalid(format!(
            "the tarball holds {}@{} but the publish is for {name}@{}",
            field("name"),
            field("version"),
            version.unwrap_or(field("version"))
        )));
    }
    Ok(manifest)
}
