//! Core metadata (the `METADATA` of a wheel, the `PKG-INFO` of an sdist): read out of the
//! uploaded archive without unpacking it, and parsed from its email-header form.

use std::io::Read;

use futures::TryStreamExt;
use tokio::io::AsyncWriteExt;
use wharf_core::archive::{TarLimits, read_from_tar_gz};
use wharf_core::blob::{BlobStore, StagedBlob};
use wharf_core::{Error, Result};

use crate::names::{FileKind, normalize, same_version};

/// The largest metadata file read.
const MAX_METADATA: u64 = 4 << 20;

/// The fields of core metadata Wharf uses, and the file itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    /// The metadata file as uploaded (served for PEP 658).
    pub raw: String,
    /// `Name`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Keywords`, split at commas.
    pub keywords: Vec<String>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// `Requires-Dist`, each.
    pub requires_dist: Vec<String>,
    /// `License`.
    pub license: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Home-page`.
    pub home_page: Option<String>,
}

/// Parses the header part of a metadata file.
///
/// # Errors
/// [`Error::Invalid`] when it has no `Name` or `Version`.
pub fn parse(raw: &str) -> Result<CoreMetadata> {
    let mut meta = CoreMetadata {
        raw: raw.to_owned(),
        ..CoreMetadata::default()
    };
    let mut last: Option<(String, String)> = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in raw.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = last.as_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some(done) = last.take() {
            headers.push(done);
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| Error::invalid(format!("the metadata does not parse: {line:?}")))?;
        last = Some((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    headers.extend(last);
    for (key, value) in headers {
        match key.as_str() {
            "name" => meta.name = value,
            "version" => meta.version = value,
            "summary" => meta.summary = Some(value),
            "keywords" => {
                meta.keywords = value
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "requires-python" => meta.requires_python = Some(value),
            "requires-dist" => meta.requires_dist.push(value),
            "license" => meta.license = Some(value),
            "author" => meta.author = Some(value),
            "home-page" => meta.home_page = Some(value),
            _ => {}
        }
    }
    if meta.name.is_empty() || meta.version.is_empty() {
        return Err(Error::invalid(
            "the metadata does not parse: it has no Name or no Version",
        ));
    }
    Ok(meta)
}

/// Reads and checks the core metadata of a staged distribution: a wheel must be a zip with
/// `*.dist-info/METADATA`; an sdist's `PKG-INFO` is read when present. The metadata must name
/// the same project and version as the upload.
///
/// # Errors
/// [`Error::Invalid`] saying what is wrong.
pub async fn read(
    blobs: &BlobStore,
    staged: &StagedBlob,
    kind: FileKind,
    project: &str,
    version: &str,
) -> Result<Option<CoreMetadata>> {
    let raw = match kind {
        FileKind::Wheel => Some(wheel_metadata(blobs, staged).await?),
        FileKind::Sdist => sdist_metadata(blobs, staged).await?,
    };
    let Some(raw) = raw else {
        return Ok(None);
    };
    let meta = parse(&raw)?;
    if normalize(&meta.name) != project || !same_version(&meta.version, version) {
        return Err(Error::invalid(format!(
            "the file's metadata is for {} {}, not {project} {version}",
            meta.name, meta.version
        )));
    }
    Ok(Some(meta))
}

async fn wheel_metadata(blobs: &BlobStore, staged: &StagedBlob) -> Result<String> {
    // A zip's directory is at its end: copy the upload to a local temporary file to seek in.
    let file = tempfile::tempfile().map_err(|e| Error::internal("temporary file", e))?;
    let mut local = tokio::fs::File::from_std(file);
    let mut stream = blobs.read_staged(staged).await?;
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| Error::internal("reading the upload", e))?
    {
        local
            .write_all(&chunk)
            .await
            .map_err(|e| Error::internal("temporary file", e))?;
    }
    let file = local.into_std().await;
    tokio::task::spawn_blocking(move || {
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| Error::invalid(format!("the wheel is not a zip archive: {e}")))?;
        let index = (0..zip.len())
            .find(|&i| {
                zip.name_for_index(i).is_some_and(|n| {
                    n.is_ok_and(|n| {
                        n.split('/').count() == 2
                            && n.ends_with("/METADATA")
                            && n.split('/')
                                .next()
                                .is_some_and(|d| d.ends_with(".dist-info"))
                    })
                })
            })
            .ok_or_else(|| Error::invalid("the wheel has no .dist-info/METADATA"))?;
        let entry = zip
            .by_index(index)
            .map_err(|e| Error::invalid(format!("the wheel is not a valid zip: {e}")))?;
        if entry.size() > MAX_METADATA {
            return Err(Error::invalid("the wheel's METADATA is too large"));
        }
        let mut text = String::new();
        entry
            .take(MAX_METADATA)
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid(format!("the wheel's METADATA is not UTF-8 text: {e}")))?;
        Ok(text)
    })
    .await
    .map_err(|e| Error::internal("reading the wheel", e))?
}

async fn sdist_metadata(blobs: &BlobStore, staged: &StagedBlob) -> Result<Option<String>> {
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(
        blobs.read_staged(staged).await?,
    ));
    let limits = TarLimits {
        max_unpacked: 1 << 30,
        max_file: MAX_METADATA,
    };
    let found = tokio::task::spawn_blocking(move || {
        read_from_tar_gz(reader, limits, |p| {
            p.split('/').count() == 2 && p.ends_with("/PKG-INFO")
        })
    })
    .await
    .map_err(|e| Error::internal("reading the sdist", e))?;
    match found {
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::invalid("the sdist's PKG-INFO is not UTF-8")),
        Ok(None) => Ok(None),
        Err(Error::Invalid(m)) => Err(Error::invalid(format!(
            "the sdist is not a valid .tar.gz: {m}"
        ))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_continuations_and_repeats() {
        let raw = "Metadata-Version: 2.1\nName: My-Pkg\nVersion: 1.0\nSummary: A thing\nRequires-Dist: a>=1\nRequires-Dist: b; extra == 'x'\nRequires-Python: >=3.8\nLicense: MIT\n  and more\n\nLong description: with colon\n";
        let m = parse(raw).unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("My-Pkg", "1.0"));
        assert_eq!(m.requires_dist, vec!["a>=1", "b; extra == 'x'"]);
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(m.license.as_deref(), Some("MIT\nand more"));
        assert!(parse("Summary: no name\n").is_err());
        assert!(parse("garbage line without colon\n").is_err());
    }
}
