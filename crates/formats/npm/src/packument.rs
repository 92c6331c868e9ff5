//! Packuments assembled from stored fragments (see [`crate::manifest`]): the abbreviated form
//! npm, pnpm and yarn install from, and the full form `npm view`, `npm deprecate` and
//! `npm unpublish` read. A few queries whatever the number of versions, then string joins.
//! Also the listing of a repository's packages that search and analytics walk.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_core::model::{Package, PropertyOwner};
use wharf_core::time::Timestamp;
use wharf_server::AppState;

use crate::manifest::{ABBREV, BASE, FULL, MODIFIED, README, SUMMARY, TAG_PREFIX, TIME};

/// A package's package-level state: dist-tags, when they last changed, its summary.
pub struct Head {
    pub tags: Map<String, Value>,
    pub modified: Timestamp,
    pub summary: Map<String, Value>,
}

/// Reads a package's dist-tags and summary.
///
/// # Errors
/// A store failure.
pub async fn head(state: &AppState, package: &Package) -> Result<Head> {
    let mut head = Head {
        tags: Map::new(),
        modified: package.created_at,
        summary: Map::new(),
    };
    for (name, value) in state
        .store
        .properties(PropertyOwner::Package(package.id))
        .await?
    {
        if let Some(tag) = name.strip_prefix(TAG_PREFIX) {
            head.tags.insert(tag.to_owned(), Value::String(value));
        } else if name == MODIFIED {
            head.modified = head.modified.max(Timestamp(value.parse().unwrap_or(0)));
        } else if name == SUMMARY
            && let Ok(Value::Object(summary)) = serde_json::from_str(&value)
        {
            head.summary = summary;
        }
    }
    Ok(head)
}

/// Appends stored members (one per line) as the inside of a JSON object, in one pass: lines
/// joined by `,` and the tarball marker replaced by `registry`.
fn push_members(out: &mut String, members: &str, registry: &str) {
    let base = format!("\"{registry}");
    for (i, member) in members.split('\n').enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut rest = member;
        while let Some(at) = rest.find(BASE) {
            out.push_str(&rest[..at]);
            out.push_str(&base);
            rest = &rest[at + BASE.len()..];
        }
        out.push_str(rest);
    }
}

/// Renders a packument; `registry` is the repository's URL (no trailing `/`). `None` when
/// the package has no versions.
///
/// # Errors
/// A store failure.
pub(crate) async fn render(
    state: &AppState,
    package: &Package,
    abbreviated: bool,
    registry: &str,
) -> Result<Option<String>> {
    let head = head(state, package).await?;
    let store = &state.store;
    let name = Value::from(package.name.as_str());
    let wanted: &[&str] = if abbreviated {
        &[ABBREV]
    } else {
        &[FULL, TIME]
    };
    let mut gathered = store
        .gathered_version_properties(package.id, wanted)
        .await?
        .into_iter();
    let Some(members) = gathered.next().flatten() else {
        return Ok(None);
    };
    let times = gathered.next().flatten();
    let modified = Value::from(head.modified.rfc3339());
    let tags = Value::Object(head.tags.clone());
    let mut out = String::with_capacity(members.len() + members.len() / 8 + 4096);
    if abbreviated {
        let _ = write!(
            out,
            "{{\"name\":{name},\"modified\":{modified},\"dist-tags\":{tags},\"versions\":{{"
        );
        push_members(&mut out, &members, registry);
        out.push_str("}}");
        return Ok(Some(out));
    }
    let readme = latest_readme(state, package, &head).await?;
    let top = Value::Object(full_top(package, &head, readme)).to_string();
    out.push_str(&top[..top.len() - 1]);
    out.push_str(",\"versions\":{");
    push_members(&mut out, &members, registry);
    let _ = write!(
        out,
        "}},\"time\":{{\"created\":{},\"modified\":{modified}",
        Value::from(package.created_at.rfc3339())
    );
    if let Some(times) = times.filter(|t| !t.is_empty()) {
        out.push(',');
        push_members(&mut out, &times, registry);
    }
    out.push_str("}}");
    Ok(Some(out))
}

/// The members of a full packument before `versions`: identity, what search shows, dist-tags
/// and the readme of `latest`.
fn full_top(package: &Package, head: &Head, readme: Option<String>) -> Map<String, Value> {
    let name = Value::from(package.name.as_str());
    let mut top = Map::new();
    top.insert("_id".into(), name.clone());
    top.insert(
        "_rev".into(),
        json!(format!("{}-{}", package.revision, package.id)),
    );
    top.insert("name".into(), name);
    for key in ["description", "keywords"] {
        if let Some(value) = head.summary.get(key).filter(|v| !v.is_null()) {
            top.insert(key.into(), value.clone());
        }
    }
    top.insert("dist-tags".into(), Value::Object(head.tags.clone()));
    top.insert("readme".into(), json!(readme.unwrap_or_default()));
    top
}

/// The readme of the version tagged `latest`.
async fn latest_readme(state: &AppState, package: &Package, head: &Head) -> Result<Option<String>> {
    let Some(latest) = head.tags.get("latest").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(version) = state.store.version(package.id, latest).await? else {
        return Ok(None);
    };
    Ok(state
        .store
        .properties(PropertyOwner::Version(version.id))
        .await?
        .into_iter()
        .find_map(|(name, value)| (name == README).then_some(value)))
}
