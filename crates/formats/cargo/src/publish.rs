//! Reading a `cargo publish` body — a little-endian `u32` length, the metadata JSON, another
//! length, the `.crate` — streaming the `.crate` into a staged blob, and checking that it is a
//! gzip tar holding `{name}-{vers}/Cargo.toml` for the same name and version.

use futures::TryStreamExt;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};
use wharf_core::archive::{TarLimits, read_from_tar_gz};
use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::index::PublishMetadata;

/// The largest metadata document accepted.
const MAX_METADATA: u32 = 4 << 20;
/// What reading the manifest out of a `.crate` may cost.
const LIMITS: TarLimits = TarLimits {
    max_unpacked: 512 << 20,
    max_file: 4 << 20,
};

/// A publish body, read and staged.
pub(crate) struct PublishBody {
    pub meta: PublishMetadata,
    pub staged: StagedBlob,
}

fn truncated(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::invalid(format!(
                "the publish body is truncated: it ends inside the {what}"
            ))
        } else {
            Error::BodyRead(e.to_string())
        }
    }
}

async fn read_len(reader: &mut (impl AsyncRead + Unpin), what: &str) -> Result<u32> {
    reader.read_u32_le().await.map_err(truncated(what))
}

/// Reads and stages a publish body; `limit` bounds the `.crate`.
///
/// # Errors
/// [`Error::Invalid`] for a truncated or inconsistent body or metadata that is not JSON,
/// [`Error::TooLarge`] for a `.crate` over `limit`.
pub(crate) async fn read_body(
    state: &AppState,
    body: axum::body::Body,
    limit: u64,
) -> Result<PublishBody> {
    let stream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let mut reader = StreamReader::new(stream);
    let json_len = read_len(&mut reader, "metadata length").await?;
    if json_len > MAX_METADATA {
        return Err(Error::invalid(format!(
            "the publish metadata declares {json_len} bytes; at most {MAX_METADATA} are accepted"
        )));
    }
    let mut json = vec![0u8; json_len as usize];
    reader
        .read_exact(&mut json)
        .await
        .map_err(truncated("metadata"))?;
    let meta: PublishMetadata = serde_json::from_slice(&json)
        .map_err(|e| Error::invalid(format!("the publish metadata is not valid JSON: {e}")))?;
    let crate_len = u64::from(read_len(&mut reader, ".crate length").await?);
    if crate_len > limit {
        return Err(Error::TooLarge { limit });
    }
    let mut crate_bytes = ReaderStream::new((&mut reader).take(crate_len));
    let staged = state
        .stage_upload(
            &mut crate_bytes,
            &StageOptions {
                max_size: Some(crate_len),
                expected_sha256: None,
                digests: wharf_core::digest::DigestSet::SHA256,
            },
        )
        .await?;
    if staged.size != crate_len {
        return Err(Error::invalid(format!(
            "the publish body is truncated: it declares a {crate_len}-byte .crate but holds {} bytes",
            staged.size
        )));
    }
    let mut extra = [0u8; 1];
    if reader
        .read(&mut extra)
        .await
        .map_err(|e| Error::BodyRead(e.to_string()))?
        > 0
    {
        return Err(Error::invalid(
            "the publish body has bytes after the declared .crate",
        ));
    }
    Ok(PublishBody { meta, staged })
}

#[derive(Deserialize)]
struct Manifest {
    package: ManifestPackage,
}

#[derive(Deserialize)]
struct ManifestPackage {
    name: String,
    version: String,
}

/// Checks the `.crate`: a gzip tar with `{name}-{vers}/Cargo.toml` naming the same crate and
/// version as the metadata.
///
/// # Errors
/// [`Error::Invalid`] saying what is wrong.
pub(crate) async fn verify_crate(
    blobs: &BlobStore,
    staged: &StagedBlob,
    name: &str,
    vers: &str,
) -> Result<()> {
    let reader = SyncIoBridge::new(StreamReader::new(blobs.read_staged(staged).await?));
    let wanted = format!("{name}-{vers}/Cargo.toml");
    let path = wanted.clone();
    let found =
        tokio::task::spawn_blocking(move || read_from_tar_gz(reader, LIMITS, |p| p == path))
            .await
            .map_err(|e| Error::internal("reading the .crate", e))?
            .map_err(|e| match e {
                Error::Invalid(m) => Error::invalid(format!("the .crate is not valid: {m}")),
                other => other,
            })?;
    let content = found.ok_or_else(|| Error::invalid(format!("the .crate has no {wanted}")))?;
    let text = String::from_utf8(content)
        .map_err(|_| Error::invalid(format!("{wanted} in the .crate is not UTF-8")))?;
    let manifest: Manifest = toml::from_str(&text)
        .map_err(|e| Error::invalid(format!("{wanted} in the .crate does not parse: {e}")))?;
    if manifest.package.name != name || manifest.package.version != vers {
        return Err(Error::invalid(format!(
            "the .crate is {} {} but the metadata says {name} {vers}",
            manifest.package.name, manifest.package.version
        )));
    }
    Ok(())
}
