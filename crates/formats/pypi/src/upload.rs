//! The upload API twine and `uv publish` speak: a multipart form with `:action=file_upload`,
//! the release's metadata fields, the digests, and the file as `content`. The file streams
//! into a staged blob; nothing is published until every check passed.

use std::collections::HashMap;

use axum::extract::Multipart;
use blake2::Digest as _;
use futures::TryStreamExt as _;
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::catalog::listing;
use wharf_core::model::Repository;
use wharf_core::usecases::PropertyTarget;
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::metadata::{self, CoreMetadata};
use crate::names::{DistFile, FileKind, normalize, parse_filename, same_version, validate_project};
use crate::pages::{FILETYPE, METADATA, METADATA_SHA256, PYVERSION, REQUIRES_PYTHON};

type Blake2b256 = blake2::Blake2b<blake2::digest::consts::U32>;

/// The largest form field other than the file.
const MAX_FIELD: usize = 1 << 20;

/// A checked upload, staged and ready to publish.
pub(crate) struct Upload {
    pub name: String,
    pub version: String,
    pub filename: String,
    pub dist: DistFile,
    pub staged: StagedBlob,
    pub metadata: Option<CoreMetadata>,
    pub pyversion: String,
    pub requires_python: Option<String>,
}

impl Upload {
    /// The properties the file is published with: its type, the `pyversion` it was built
    /// for, `Requires-Python`, and its core metadata with that metadata's SHA-256 (PEP 658);
    /// the project's description and keywords for lists and search.
    pub(crate) fn properties(&self) -> Vec<(PropertyTarget, String, String)> {
        let mut properties = vec![
            (
                PropertyTarget::File,
                FILETYPE.to_owned(),
                self.dist.kind.filetype().to_owned(),
            ),
            (
                PropertyTarget::File,
                PYVERSION.to_owned(),
                self.pyversion.clone(),
            ),
        ];
        if let Some(rp) = &self.requires_python {
            properties.push((PropertyTarget::File, REQUIRES_PYTHON.to_owned(), rp.clone()));
        }
        if let Some(meta) = &self.metadata {
            properties.push((PropertyTarget::File, METADATA.to_owned(), meta.raw.clone()));
            properties.push((
                PropertyTarget::File,
                METADATA_SHA256.to_owned(),
                hex::encode(sha2::Sha256::digest(meta.raw.as_bytes())),
            ));
            properties.extend(listing(
                meta.summary.as_deref(),
                meta.keywords.iter().map(String::as_str),
            ));
        }
        properties
    }
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> Result<&'a str> {
    fields
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid(format!("the upload has no {name} field")))
}

/// Reads the form, stages the file and runs every check.
///
/// # Errors
/// [`Error::Invalid`] for a form or file that breaks a rule (with the reason twine prints),
/// [`Error::TooLarge`] past the repository's limit, [`Error::DigestMismatch`].
pub(crate) async fn read_upload(
    state: &AppState,
    repo: &Repository,
    form: Multipart,
) -> Result<Upload> {
    let (fields, file) = read_form(state, repo, form).await?;
    let action = field(&fields, ":action")?;
    if action != "file_upload" {
        return Err(Error::invalid(format!("unsupported :action {action:?}")));
    }
    let (filename, staged) =
        file.ok_or_else(|| Error::invalid("the upload has no content file"))?;
    let name = field(&fields, "name")?.to_owned();
    let version = field(&fields, "version")?.to_owned();
    let dist = check_file(&fields, &filename, &name, &version)?;
    check_digests(&fields, &staged)?;
    if let Some(claimed) = fields.get("blake2_256_digest").filter(|v| !v.is_empty()) {
        check_blake2(state, &staged, claimed).await?;
    }
    let metadata =
        metadata::read(&state.blobs, &staged, dist.kind, &dist.project, &version).await?;
    let requires_python = metadata
        .as_ref()
        .and_then(|m| m.requires_python.clone())
        .or_else(|| {
            fields
                .get("requires_python")
                .filter(|v| !v.is_empty())
                .cloned()
        });
    Ok(Upload {
        pyversion: fields.get("pyversion").cloned().unwrap_or_default(),
        name,
        version,
        filename,
        dist,
        staged,
        metadata,
        requires_python,
    })
}

/// The form's text fields (the first of each name) and its `content` file, staged.
async fn read_form(
    state: &AppState,
    repo: &Repository,
    mut form: Multipart,
) -> Result<(HashMap<String, String>, Option<(String, StagedBlob)>)> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        Error::invalid(format!("the upload is not a valid multipart form: {e}"))
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, StagedBlob)> = None;
    while let Some(mut part) = form.next_field().await.map_err(broken)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "content" {
            let filename = part
                .file_name()
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid("the content field has no file name"))?;
            let options = StageOptions {
                max_size: Some(state.upload_limit(repo)),
                expected_sha256: None,
                digests: crate::DIGESTS,
            };
            file = Some((filename, state.stage_upload(&mut part, &options).await?));
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(broken)? {
                if value.len() + chunk.len() > MAX_FIELD {
                    return Err(Error::invalid(format!("the field {name} is too large")));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value)
                .map_err(|_| Error::invalid(format!("the field {name} is not UTF-8")))?;
            fields.entry(name).or_insert(value);
        }
    }
    Ok((fields, file))
}

/// The file's name must be a distribution of `name` `version` of the kind `filetype` says.
fn check_file(
    fields: &HashMap<String, String>,
    filename: &str,
    name: &str,
    version: &str,
) -> Result<DistFile> {
    validate_project(name)?;
    let dist = parse_filename(filename)?;
    if dist.project != normalize(name) || !same_version(&dist.version, version) {
        return Err(Error::invalid(format!(
            "the file {filename} does not belong to {name} {version}"
        )));
    }
    let filetype = field(fields, "filetype")?;
    let kind = match filetype {
        "bdist_wheel" => FileKind::Wheel,
        "sdist" => FileKind::Sdist,
        other => return Err(Error::invalid(format!("unknown filetype {other:?}"))),
    };
    if kind != dist.kind {
        return Err(Error::invalid(format!(
            "filetype {filetype} does not match the file {filename}"
        )));
    }
    Ok(dist)
}

/// The client's BLAKE2b-256 (the digest the public index keys files by) must match: one more
/// streamed read of the staged file.
async fn check_blake2(state: &AppState, staged: &StagedBlob, claimed: &str) -> Result<()> {
    let mut hasher = Blake2b256::new();
    let mut stream = state.blobs.read_staged(staged).await?;
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| Error::internal("reading the upload", e))?
    {
        hasher.update(&chunk);
    }
    let actual = hex::encode(hasher.finalize());
    if !claimed.eq_ignore_ascii_case(&actual) {
        return Err(Error::DigestMismatch {
            expected: format!("blake2_256:{claimed}"),
            actual: format!("blake2_256:{actual}"),
        });
    }
    Ok(())
}

/// The client's SHA-256 and MD5 must match what arrived; at least one must be given.
fn check_digests(fields: &HashMap<String, String>, staged: &StagedBlob) -> Result<()> {
    let sha256 = fields.get("sha256_digest").filter(|v| !v.is_empty());
    let md5 = fields.get("md5_digest").filter(|v| !v.is_empty());
    if sha256.is_none() && md5.is_none() {
        return Err(Error::invalid(
            "the upload has no sha256_digest or md5_digest to check the file against",
        ));
    }
    if let Some(claimed) = sha256
        && !claimed.eq_ignore_ascii_case(staged.digests.sha256.hex())
    {
        return Err(Error::DigestMismatch {
            expected: format!("sha256:{claimed}"),
            actual: format!("sha256:{}", staged.digests.sha256),
        });
    }
    if let Some(claimed) = md5
        && !claimed.eq_ignore_ascii_case(&staged.digests.md5)
    {
        return Err(Error::DigestMismatch {
            expected: format!("md5:{claimed}"),
            actual: format!("md5:{}", staged.digests.md5),
        });
    }
    Ok(())
}
