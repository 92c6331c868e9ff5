//! `POST /publish/commit`: the npm tarballs of one git commit, in every body the original
//! takes (see the reference's section 002):
//! - multipart as the real client sends it: `metadata` = `{"sha","repository","packages":[{"name","packageDir"?,"version"?}]}`
//!   and one file field `package:<name>` per package (packages without one are skipped);
//! - multipart as the README shows it: `sha` and `repository` fields and `package:<name>` files;
//! - JSON `{"sha","repository"?,"packages":[{"name","tarball":"<base64>","packageDir"?,"version"?}]}`,
//!   or the README's `{"sha","name","tarball","repository"?}`.
//!
//! Every tarball streams into a staged blob and must be an npm tarball of the name it is sent
//! as; nothing is stored unless all of them are.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Request, State};
use http::Method;
use serde_json::{Map, Value, json};
use struson::reader::{JsonReader, JsonStreamReader};
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::model::Repository;
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::time::Timestamp;
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_files};
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::commits::{self, RECORD, file_name, valid_sha, version_key};
use crate::publish::{BodyKind, MAX_TARBALL, bad, body_kind, broken_form, publisher, read_field};
use crate::{Mount, PantryError, PantryResult, only};
use wharf_format_npm::usecases::verify_tarball;
use wharf_format_npm::usecases::{Sinks, stream_json};

/// The most packages one commit publish may carry.
const MAX_PACKAGES: usize = 64;

fn bad_json(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("the body is not a valid commit publish: {e}"))
}

/// One package of the request; `tarball` indexes the staged blobs.
#[derive(Default)]
struct Entry {
    name: Option<String>,
    package_dir: Option<String>,
    version: Option<String>,
    tarball: Option<usize>,
}

/// A commit publish, read.
#[derive(Default)]
struct CommitRequest {
    sha: Option<String>,
    repository: Option<String>,
    /// Whether the packages came from a `metadata` field (the answer's wording depends on it).
    from_metadata: bool,
    packages: Vec<Entry>,
}

/// `POST /publish/commit`.
pub(crate) async fn publish_commit(
    State(state): State<AppState>,
    Extension(mount): Extension<Arc<Mount>>,
    request: Request,
) -> PantryResult {
    if let Some(done) = only(request.method(), &Method::POST) {
        return done;
    }
    let caller = publisher(&state, request.headers()).await?;
    let base = state.base_url(request.headers());
    let kind = body_kind(request.headers())?;
    let repo = commits::writable(&state, &mount, &caller).await?;
    let limit = state.upload_limit(&repo).min(MAX_TARBALL);
    let (commit, staged) = match kind {
        BodyKind::Multipart => {
            let form = Multipart::from_request(request, &state)
                .await
                .map_err(|e| bad(&format!("the form could not be read: {e}")))?;
            read_form(&state, form, limit).await?
        }
        BodyKind::Json => {
            stream_json(&state, request.into_body(), limit, MAX_PACKAGES, parse_json).await?
        }
    };
    let missing = if commit.from_metadata {
        "Missing sha or packages in metadata"
    } else {
        "Missing sha or packages"
    };
    let sha = commit.sha.clone().ok_or_else(|| bad(missing))?;
    if !valid_sha(&sha) {
        return Err(bad(&format!(
            "invalid sha {sha:?}: give the commit's hash in lower-case hexadecimal"
        )));
    }
    let ready = checked_packages(&state, commit, staged).await?;
    if ready.is_empty() {
        return Err(bad(missing));
    }
    let names = store_commit(&state, &repo, &sha, ready).await?;
    Ok(commits::published(&base, &mount, &sha, &names))
}

/// A package of a commit, checked: its name, tarball and what is recorded beside it.
type Ready = (String, StagedBlob, Value);

/// The named packages of `commit` with their tarballs, each checked as npm's publish checks
/// one; entries without a name or a tarball are skipped, as the original does.
async fn checked_packages(
    state: &AppState,
    commit: CommitRequest,
    staged: Vec<StagedBlob>,
) -> Result<Vec<Ready>, PantryError> {
    let mut ready = Vec::new();
    let mut staged: Vec<Option<StagedBlob>> = staged.into_iter().map(Some).collect();
    for entry in commit.packages {
        let (Some(name), Some(index)) = (entry.name, entry.tarball) else {
            continue;
        };
        let blob = staged
            .get_mut(index)
            .and_then(Option::take)
            .ok_or_else(|| bad(&format!("package {name} is sent twice")))?;
        wharf_format_npm::usecases::validate_name(&name)?;
        let manifest = verify_tarball(&state.blobs, &blob, &name, None).await?;
        let version = entry.version.or_else(|| {
            manifest
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let record = json!({
            "publishedAt": Timestamp::now().rfc3339(),
            "repository": commit.repository,
            "packageDir": entry.package_dir,
            "version": version,
        });
        ready.push((name, blob, record));
    }
    Ok(ready)
}

/// Stores every package of the commit `sha`, or none: one transaction. The names stored.
async fn store_commit(
    state: &AppState,
    repo: &Repository,
    sha: &str,
    ready: Vec<Ready>,
) -> wharf_core::Result<Vec<String>> {
    let package = PackageName::new(sha)?;
    let mut coordinates = Vec::with_capacity(ready.len());
    for (name, _, _) in &ready {
        coordinates.push((
            VersionName::new(version_key(name))?,
            FileName::new(file_name(name, sha))?,
        ));
    }
    let mut files = Vec::with_capacity(ready.len());
    let mut names = Vec::with_capacity(ready.len());
    for ((name, blob, record), (version, file)) in ready.into_iter().zip(&coordinates) {
        let request = PublishFile {
            repository: repo,
            package: &package,
            canonical: None,
            version,
            file,
            mode: PublishMode::CreateOrAdd,
            properties: vec![(PropertyTarget::File, RECORD.into(), record.to_string())],
        };
        files.push((request, blob));
        names.push(name);
    }
    publish_files(state.store.as_ref(), &state.blobs, files).await?;
    Ok(names)
}

/// A multipart commit publish: `metadata`, `sha`, `repository` and `package:<name>` fields.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
    limit: u64,
) -> Result<(CommitRequest, Vec<StagedBlob>)> {
    let mut commit = CommitRequest::default();
    let mut files: Vec<(String, StagedBlob)> = Vec::new();
    while let Some(mut part) = form.next_field().await.map_err(|e| broken_form(&e))? {
        let field = part.name().unwrap_or_default().to_owned();
        if let Some(name) = field.strip_prefix("package:") {
            if files.len() == MAX_PACKAGES {
                return Err(Error::invalid(format!(
                    "a commit publish carries at most {MAX_PACKAGES} packages"
                )));
            }
            let options = StageOptions {
                max_size: Some(limit),
                expected_sha256: None,
                digests: wharf_format_npm::usecases::DIGESTS,
            };
            files.push((
                name.to_owned(),
                state.stage_upload(&mut part, &options).await?,
            ));
            continue;
        }
        match field.as_str() {
            "metadata" => {
                let metadata: Map<String, Value> = serde_json::from_str(&text_of(&mut part).await?)
                    .map_err(|e| {
                        Error::invalid(format!("the metadata is not a JSON object: {e}"))
                    })?;
                commit.from_metadata = true;
                read_metadata(&mut commit, &metadata);
            }
            "sha" => commit.sha = Some(text_of(&mut part).await?),
            "repository" => commit.repository = Some(text_of(&mut part).await?),
            _ => {}
        }
    }
    if !commit.from_metadata {
        commit.packages = files
            .iter()
            .map(|(name, _)| Entry {
                name: Some(name.clone()),
                ..Entry::default()
            })
            .collect();
    }
    for entry in &mut commit.packages {
        entry.tarball = files
            .iter()
            .position(|(name, _)| Some(name) == entry.name.as_ref());
    }
    Ok((
        commit,
        files.into_iter().map(|(_, staged)| staged).collect(),
    ))
}

/// A text field of the form.
async fn text_of(part: &mut axum::extract::multipart::Field<'_>) -> Result<String> {
    let name = part.name().unwrap_or_default().to_owned();
    String::from_utf8(read_field(part).await?)
        .map_err(|_| Error::invalid(format!("the form field {name} is not UTF-8")))
}

/// The real client's `metadata`: sha, repository, and the packages (tarballs come apart).
fn read_metadata(commit: &mut CommitRequest, metadata: &Map<String, Value>) {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let whole = Value::Object(metadata.clone());
    commit.sha = text(&whole, "sha").or(commit.sha.take());
    commit.repository = text(&whole, "repository").or(commit.repository.take());
    commit.packages = metadata
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| Entry {
            name: text(p, "name"),
            package_dir: text(p, "packageDir"),
            version: text(p, "version"),
            tarball: None,
        })
        .collect();
}

/// A JSON commit publish, tarballs staged as they stream by.
fn parse_json(reader: &mut dyn std::io::Read, sinks: &mut Sinks) -> Result<CommitRequest> {
    let mut json = JsonStreamReader::new(reader);
    let mut commit = CommitRequest::default();
    let mut single = Entry::default();
    json.begin_object().map_err(bad_json)?;
    while json.has_next().map_err(bad_json)? {
        match json.next_name_owned().map_err(bad_json)?.as_str() {
            "sha" => commit.sha = optional_string(&mut json)?,
            "repository" => commit.repository = optional_string(&mut json)?,
            "packages" => {
                json.begin_array().map_err(bad_json)?;
                while json.has_next().map_err(bad_json)? {
                    let mut entry = Entry::default();
                    json.begin_object().map_err(bad_json)?;
                    while json.has_next().map_err(bad_json)? {
                        read_entry_member(&mut json, &mut entry, sinks)?;
                    }
                    json.end_object().map_err(bad_json)?;
                    commit.packages.push(entry);
                }
                json.end_array().map_err(bad_json)?;
            }
            key => {
                let key = key.to_owned();
                read_named_member(&mut json, &key, &mut single, sinks)?;
            }
        }
    }
    json.end_object().map_err(bad_json)?;
    json.consume_trailing_whitespace().map_err(bad_json)?;
    if single.tarball.is_some() {
        commit.packages.push(single);
    }
    Ok(commit)
}

/// One member of a package object.
fn read_entry_member(
    json: &mut JsonStreamReader<&mut dyn std::io::Read>,
    entry: &mut Entry,
    sinks: &mut Sinks,
) -> Result<()> {
    let key = json.next_name_owned().map_err(bad_json)?;
    read_named_member(json, &key, entry, sinks)
}

/// `name`, `tarball`, `packageDir` or `version` of a package (others are skipped).
fn read_named_member(
    json: &mut JsonStreamReader<&mut dyn std::io::Read>,
    key: &str,
    entry: &mut Entry,
    sinks: &mut Sinks,
) -> Result<()> {
    match key {
        "name" => entry.name = optional_string(json)?,
        "packageDir" => entry.package_dir = optional_string(json)?,
        "version" => entry.version = optional_string(json)?,
        "tarball" => {
            if entry.tarball.is_some() {
                return Err(Error::invalid("a package has two tarballs"));
            }
            entry.tarball = Some(sinks.stage_base64(json.next_string_reader().map_err(bad_json)?)?);
        }
        _ => json.skip_value().map_err(bad_json)?,
    }
    Ok(())
}

/// A string member, or `null`.
fn optional_string(json: &mut JsonStreamReader<&mut dyn std::io::Read>) -> Result<Option<String>> {
    match json.deserialize_next::<Value>().map_err(bad_json)? {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(Error::invalid(format!("expected a string, found {other}"))),
    }
}
