//! Changes to a published npm package made by sending its packument back: `npm deprecate`
//! and `npm unpublish pkg@version` (the `-rev` update), planned first and written in one
//! transaction; and the repair of dist-tags after versions were deleted elsewhere, so that no
//! tag names a version that is gone.

use axum::Json;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use wharf_core::model::{Package, PropertyOwner, Repository};
use wharf_core::time::Timestamp;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::protocol::Call;

use crate::manifest::{ABBREV, FULL, MODIFIED, TAG_PREFIX, deprecated, parse_member};
use crate::writes::target_package;
use crate::{names, packument};

/// The largest packument update (`npm deprecate`, `npm unpublish pkg@version`) accepted.
const MAX_UPDATE: usize = 256 << 20;
/// The longest deprecation message kept.
const MAX_DEPRECATION: usize = 4096;

fn ok() -> Response {
    Json(json!({"ok": true})).into_response()
}

/// `PUT /{name}/-rev/{rev}`: the client's edited packument (see [`apply_update`]).
pub(crate) async fn update(call: &Call<'_>, name: &str, body: Body) -> Result<Response> {
    let bytes = axum::body::to_bytes(body, MAX_UPDATE)
        .await
        .map_err(|e| Error::invalid(format!("the packument could not be read: {e}")))?;
    let doc: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(format!("the packument is not valid JSON: {e}")))?;
    apply_update(call, name, &doc, true).await
}

/// What an edited packument changes, planned before anything is written.
#[derive(Default)]
struct Plan {
    /// Versions to delete.
    removed: Vec<i64>,
    /// New `(version id, full, abbreviated)` manifest members (a changed `deprecated`).
    members: Vec<(i64, String, String)>,
    /// The versions that stay.
    kept: Vec<String>,
    /// Dist-tags to remove.
    untagged: Vec<String>,
    /// Dist-tags to point at a version.
    tagged: Vec<(String, String)>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.removed.is_empty()
            && self.members.is_empty()
            && self.untagged.is_empty()
            && self.tagged.is_empty()
    }
}

/// Applies an edited packument, all of it or nothing, in one transaction: a changed
/// `deprecated` is applied (`npm deprecate`, which sends it without `-rev`) and its dist-tags
/// are set; with `removals` (the `-rev` form `npm unpublish pkg@version` uses), versions and
/// dist-tags it no longer lists go. Dist-tags never name a version that is gone: such a tag is
/// removed, and `latest` moves to the highest version left. An update cannot remove every
/// version (npm unpublishes a whole package with `DELETE`).
pub(crate) async fn apply_update(
    call: &Call<'_>,
    name: &str,
    doc: &Map<String, Value>,
    removals: bool,
) -> Result<Response> {
    let no_tarball = || Error::invalid("a publish needs the version's tarball in _attachments");
    let (target, package) = match target_package(call, name).await {
        Err(Error::NotFound(_)) if !removals => return Err(no_tarball()),
        other => other?,
    };
    let Some(Value::Object(sent)) = doc.get("versions") else {
        return Err(Error::invalid("the packument has no `versions` object"));
    };
    let store = &call.state.store;
    let stored = store.list_versions(package.id).await?;
    if !removals && sent.keys().any(|v| !stored.iter().any(|s| &s.version == v)) {
        return Err(no_tarball());
    }
    let mut plan = Plan::default();
    for version in stored {
        let Some(manifest) = sent.get(&version.version) else {
            if removals {
                plan.removed.push(version.id);
            } else {
                plan.kept.push(version.version.clone());
            }
            continue;
        };
        plan.kept.push(version.version.clone());
        if let Some(member) =
            deprecation(call.state, version.id, &version.version, manifest).await?
        {
            plan.members.push(member);
        }
    }
    if plan.kept.is_empty() {
        return Err(Error::invalid(format!(
            "an update cannot remove every version of {name}: unpublish the package instead (npm unpublish {name} --force)"
        )));
    }
    let sent_tags = match doc.get("dist-tags") {
        Some(Value::Object(tags)) => Some(tags),
        _ => None,
    };
    plan_tags(call.state, &package, sent_tags, removals, &mut plan).await?;
    if plan.is_empty() {
        return Ok(ok());
    }
    commit(call.state, &target, &package, plan).await?;
    Ok(ok())
}

/// The new manifest members of a version whose `deprecated` the client changed.
async fn deprecation(
    state: &AppState,
    version_id: i64,
    version: &str,
    manifest: &Value,
) -> Result<Option<(i64, String, String)>> {
    let wanted = manifest
        .get("deprecated")
        .and_then(Value::as_str)
        .unwrap_or("");
    if wanted.len() > MAX_DEPRECATION {
        return Err(Error::invalid(format!(
            "the deprecation message of {version} is {} bytes; at most {MAX_DEPRECATION} are kept",
            wanted.len()
        )));
    }
    let Some(member) = state
        .store
        .properties(PropertyOwner::Version(version_id))
        .await?
        .into_iter()
        .find_map(|(n, v)| (n == FULL).then_some(v))
    else {
        return Ok(None);
    };
    let (_, stored) = parse_member(&member)?;
    let current = stored
        .get("deprecated")
        .and_then(Value::as_str)
        .unwrap_or("");
    if current == wanted {
        return Ok(None);
    }
    let (full, abbrev) = deprecated(version, stored, wanted);
    Ok(Some((version_id, full, abbrev)))
}

/// The dist-tags after the update: the sent ones (with `removals`, only those; otherwise on
/// top of the current ones), each naming a version that stays; `latest` always, on the
/// highest version left when its own went.
async fn plan_tags(
    state: &AppState,
    package: &Package,
    sent: Option<&Map<String, Value>>,
    removals: bool,
    plan: &mut Plan,
) -> Result<()> {
    let current = packument::head(state, package).await?.tags;
    let mut wanted: Map<String, Value> = if removals && sent.is_some() {
        Map::new()
    } else {
        current.clone()
    };
    for (tag, version) in sent.into_iter().flatten() {
        names::validate_tag(tag)?;
        wanted.insert(tag.clone(), version.clone());
    }
    wanted.retain(|_, v| v.as_str().is_some_and(|v| plan.kept.iter().any(|k| k == v)));
    if !wanted.contains_key("latest")
        && let Some(highest) = highest(&plan.kept)
    {
        wanted.insert("latest".into(), Value::String(highest));
    }
    plan.untagged = current
        .keys()
        .filter(|t| !wanted.contains_key(*t))
        .cloned()
        .collect();
    plan.tagged = wanted
        .into_iter()
        .filter(|(t, v)| current.get(t) != Some(v))
        .filter_map(|(t, v)| v.as_str().map(|v| (t, v.to_owned())))
        .collect();
    Ok(())
}

/// The highest of `versions` by semver precedence, releases before pre-releases.
fn highest(versions: &[String]) -> Option<String> {
    versions
        .iter()
        .filter_map(|v| {
            semver::Version::parse(v)
                .ok()
                .map(|p| (p.pre.is_empty(), p, v))
        })
        .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)))
        .map(|(_, _, v)| v.clone())
}

/// Writes a plan in one transaction.
async fn commit(
    state: &AppState,
    target: &Repository,
    package: &Package,
    plan: Plan,
) -> Result<()> {
    let tombstone = state.keeps_tombstones(target);
    let owner = PropertyOwner::Package(package.id);
    let mut tx = state.store.begin_publish().await?;
    for id in plan.removed {
        tx.delete_version(id, tombstone).await?;
    }
    for (id, full, abbrev) in plan.members {
        tx.set_property(PropertyOwner::Version(id), FULL, &full)
            .await?;
        tx.set_property(PropertyOwner::Version(id), ABBREV, &abbrev)
            .await?;
    }
    for tag in plan.untagged {
        tx.delete_property(owner, &format!("{TAG_PREFIX}{tag}"))
            .await?;
    }
    for (tag, version) in plan.tagged {
        tx.set_property(owner, &format!("{TAG_PREFIX}{tag}"), &version)
            .await?;
    }
    tx.set_property(owner, MODIFIED, &Timestamp::now().0.to_string())
        .await?;
    tx.touch_package(package.id).await?;
    tx.commit().await
}

/// Drops the dist-tags of `package` (in the hosted `target`) that name versions no longer
/// there, and moves `latest` to the highest version left when its own went.
///
/// # Errors
/// A store failure.
pub(crate) async fn repair_tags(
    state: &AppState,
    target: &Repository,
    package: &Package,
) -> Result<()> {
    let kept = state
        .store
        .list_versions(package.id)
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
    let mut plan = Plan {
        kept,
        ..Plan::default()
    };
    plan_tags(state, package, None, false, &mut plan).await?;
    if plan.is_empty() {
        return Ok(());
    }
    commit(state, target, package, plan).await
}
