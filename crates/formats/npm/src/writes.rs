//! The writes of the npm protocol: `npm publish`, the packument updates `npm deprecate` and
//! `npm unpublish pkg@version` send, `npm unpublish pkg --force`, and `npm dist-tag`.
//! Each goes to the hosted repository (a group's first hosted member).

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};
use wharf_core::blob::StagedBlob;
use wharf_core::catalog::listing;
use wharf_core::model::{Package, PropertyOwner, Repository, Scope};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::time::Timestamp;
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::body::check_content_length;

use wharf_server::protocol::Call;

use crate::handlers::package_in;
use crate::manifest::{
    ABBREV, FULL, Fragments, MODIFIED, README, SUMMARY, TAG_PREFIX, TIME, fragments,
};
use crate::names;
use crate::publish::{PublishBody, read_body, verify_tarball};
use crate::streamed::MAX_DOCUMENT;

fn ok() -> Response {
    Json(json!({"ok": true})).into_response()
}

fn already_published(name: &str, version: &str) -> Error {
    Error::Forbidden(format!(
        "cannot publish over the previously published version {name}@{version}"
    ))
}

/// `PUT /{name}`: publishes the one version of the body with its tarball.
pub(crate) async fn publish(
    call: &Call<'_>,
    headers: &HeaderMap,
    name: &str,
    body: Body,
) -> Result<Response> {
    let principal = call.require(Scope::Write)?;
    let target = wharf_server::groups::hosted_target(call.state, call.repo()?).await?;
    names::validate(name)?;
    let limit = call.state.upload_limit(&target);
    check_content_length(headers, limit / 3 * 4 + MAX_DOCUMENT)?;
    let PublishBody {
        mut doc,
        attachment,
    } = read_body(call.state, body, limit).await?;
    let Some((attached, staged)) = attachment else {
        return crate::updates::apply_update(call, name, &doc, false).await;
    };
    let (version, manifest) = the_version(&mut doc, name)?;
    if !attached.ends_with(&format!("-{version}.tgz")) {
        return Err(Error::invalid(format!(
            "the attachment {attached} is not the tarball of {name}@{version}"
        )));
    }
    store_version(
        call.state,
        &target,
        NewVersion {
            name,
            version: &version,
            manifest: Some(manifest),
            staged,
            publisher: &principal.user.name,
            tags: tags_for(&doc, &version)?,
        },
    )
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => already_published(name, &version),
        other => other,
    })?;
    Ok((StatusCode::CREATED, Json(json!({"ok": true, "id": name}))).into_response())
}

/// A version to store.
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// The version's manifest as the client sent it (`None`: the tarball's `package.json`).
    pub manifest: Option<Map<String, Value>>,
    pub staged: StagedBlob,
    pub publisher: &'a str,
    /// The dist-tags to point at it.
    pub tags: Vec<String>,
}

/// Stores a new version with its tarball (checked to be the version's), its manifest
/// members and dist-tags, in one publish.
///
/// # Errors
/// [`Error::Conflict`] when the version exists, [`Error::Invalid`] for a tarball that is not
/// the version's.
pub async fn store_version(
    state: &AppState,
    target: &Repository,
    new: NewVersion<'_>,
) -> Result<()> {
    let NewVersion {
        name,
        version,
        manifest,
        staged,
        publisher,
        tags,
    } = new;
    if let Some(existing) = state.store.package(target.id, name).await?
        && state.store.version(existing.id, version).await?.is_some()
    {
        return Err(Error::conflict(format!("{name}@{version} exists")));
    }
    let package_json = verify_tarball(&state.blobs, &staged, name, Some(version)).await?;
    let manifest = manifest.unwrap_or(package_json);
    let file = names::tarball(name, version);
    let now = Timestamp::now();
    let stored = fragments(
        manifest,
        &crate::manifest::Published {
            name,
            version,
            file: &file,
            digests: &staged.digests,
            publisher,
            at: now,
        },
    )?;
    publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: target,
            package: &PackageName::new(name)?,
            canonical: None,
            version: &VersionName::new(version)?,
            file: &FileName::new(&file)?,
            mode: PublishMode::CreateVersion,
            properties: properties(tags, version, stored, now),
        },
        staged,
    )
    .await?;
    Ok(())
}

/// The one version a publish carries, checked against the URL's name.
fn the_version(doc: &mut Map<String, Value>, name: &str) -> Result<(String, Map<String, Value>)> {
    if let Some(sent) = doc.get("name").and_then(Value::as_str)
        && sent != name
    {
        return Err(Error::invalid(format!(
            "the packument names {sent} but was sent to {name}"
        )));
    }
    let Some(Value::Object(versions)) = doc.remove("versions") else {
        return Err(Error::invalid("the publish has no `versions` object"));
    };
    let [(version, manifest)] = <[_; 1]>::try_from(versions.into_iter().collect::<Vec<_>>())
        .map_err(|v| {
            Error::invalid(format!(
                "a publish carries exactly one version; this one has {}",
                v.len()
            ))
        })?;
    let Value::Object(manifest) = manifest else {
        return Err(Error::invalid("the version's manifest is not an object"));
    };
    semver::Version::parse(&version)
        .map_err(|e| Error::invalid(format!("invalid version {version:?}: {e}")))?;
    if manifest.get("version").and_then(Value::as_str) != Some(version.as_str())
        || manifest.get("name").and_then(Value::as_str) != Some(name)
    {
        return Err(Error::invalid(format!(
            "the manifest of {version} must name {name} and version {version}"
        )));
    }
    Ok((version, manifest))
}

/// The dist-tags a publish body points at `version` (`latest` when none does), each a valid
/// tag name.
fn tags_for(doc: &Map<String, Value>, version: &str) -> Result<Vec<String>> {
    let mut tags: Vec<String> = doc
        .get("dist-tags")
        .and_then(Value::as_object)
        .map(|t| {
            t.iter()
                .filter(|(_, v)| v.as_str() == Some(version))
                .map(|(tag, _)| tag.clone())
                .collect()
        })
        .unwrap_or_default();
    for tag in &tags {
        names::validate_tag(tag)?;
    }
    if tags.is_empty() {
        tags.push("latest".into());
    }
    Ok(tags)
}

/// What a publish stores: the version's fragments, its dist-tags, and the package's summary
/// when `latest` moves.
fn properties(
    tags: Vec<String>,
    version: &str,
    stored: Fragments,
    now: Timestamp,
) -> Vec<(PropertyTarget, String, String)> {
    let mut properties = vec![
        (PropertyTarget::Version, FULL.to_owned(), stored.full),
        (PropertyTarget::Version, ABBREV.to_owned(), stored.abbrev),
        (PropertyTarget::Version, TIME.to_owned(), stored.time),
        (
            PropertyTarget::Package,
            MODIFIED.to_owned(),
            now.0.to_string(),
        ),
    ];
    if let Some(readme) = stored.readme {
        properties.push((PropertyTarget::Version, README.to_owned(), readme));
    }
    if tags.iter().any(|t| t == "latest") {
        let summary: Value = serde_json::from_str(&stored.summary).unwrap_or_default();
        let keywords = summary["keywords"].as_array().cloned().unwrap_or_default();
        properties.extend(listing(
            summary["description"].as_str(),
            keywords.iter().filter_map(Value::as_str),
        ));
        properties.push((PropertyTarget::Package, SUMMARY.to_owned(), stored.summary));
    }
    for tag in tags {
        properties.push((
            PropertyTarget::Package,
            format!("{TAG_PREFIX}{tag}"),
            version.to_owned(),
        ));
    }
    properties
}

/// The package a write goes to, with the repository it lives in.
pub(crate) async fn target_package(call: &Call<'_>, name: &str) -> Result<(Repository, Package)> {
    call.require(Scope::Write)?;
    let target = wharf_server::groups::hosted_target(call.state, call.repo()?).await?;
    let package = package_in(call.state, &target, name).await?;
    Ok((target, package))
}

/// `DELETE /{name}/-rev/{rev}`: `npm unpublish pkg --force` removes every version.
pub(crate) async fn unpublish(call: &Call<'_>, name: &str) -> Result<Response> {
    let (target, package) = target_package(call, name).await?;
    call.state.remove_package(&target, package.id).await?;
    Ok(ok())
}

/// `DELETE /{name}/-/{file}/-rev/{rev}`: the tarball of a version being unpublished (the
/// packument update before it has usually removed it already).
pub(crate) async fn delete_tarball(call: &Call<'_>, name: &str, file: &str) -> Result<Response> {
    call.require(Scope::Write)?;
    let target = wharf_server::groups::hosted_target(call.state, call.repo()?).await?;
    if let Some(version) = names::version_of_tarball(name, file)
        && let Some(entry) = call
            .state
            .store
            .file(target.id, name, version, file)
            .await?
    {
        call.state.remove_file(&target, name, entry.id).await?;
    }
    Ok(ok())
}

/// `PUT|DELETE /-/package/{name}/dist-tags/{tag}`: `npm dist-tag add|rm`. The body of a PUT
/// is the version as a JSON string.
pub(crate) async fn dist_tag(
    call: &Call<'_>,
    name: &str,
    tag: &str,
    set: bool,
    body: Body,
) -> Result<Response> {
    names::validate_tag(tag)?;
    let (_, package) = target_package(call, name).await?;
    let owner = PropertyOwner::Package(package.id);
    let key = format!("{TAG_PREFIX}{tag}");
    let store = &call.state.store;
    if set {
        let bytes = axum::body::to_bytes(body, 4096)
            .await
            .map_err(|e| Error::invalid(format!("the dist-tag body could not be read: {e}")))?;
        let version: String = serde_json::from_slice(&bytes).map_err(|_| {
            Error::invalid("the body of a dist-tag request is the version as a JSON string")
        })?;
        store
            .version(package.id, &version)
            .await?
            .ok_or_else(|| Error::not_found(format!("version not found: {name}@{version}")))?;
        store.set_property(owner, &key, &version).await?;
    } else {
        if tag == "latest" {
            return Err(Error::invalid("the latest tag cannot be removed"));
        }
        if !store.delete_property(owner, &key).await? {
            return Err(Error::not_found(format!("{name} has no dist-tag {tag}")));
        }
    }
    store
        .set_property(owner, MODIFIED, &Timestamp::now().0.to_string())
        .await?;
    Ok(ok())
}
