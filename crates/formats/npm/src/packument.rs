//! Packuments assembled from stored fragments (see [`crate::manifest`]): the abbreviated form
//! npm, pnpm and yarn install from, and the full form `npm view`, `npm deprecate` and
//! `npm unpublish` read. A few queries whatever the number of versions, then string joins.

use serde_json::{Map, Value, json};
use wharf_core::Result;
use wharf_core::model::{Package, PropertyOwner};
use wharf_core::time::Timestamp;
use wharf_server::AppState;

use crate::manifest::{
    ABBREV, CHANGED, FULL, MODIFIED, README, SUMMARY, TAG_PREFIX, TIME, with_base,
};

/// A package's package-level state: dist-tags, when they last changed, its summary.
pub(crate) struct Head {
    pub tags: Map<String, Value>,
    pub modified: Timestamp,
    pub summary: Map<String, Value>,
}

/// Reads a package's dist-tags and summary.
///
/// # Errors
/// A store failure.
pub(crate) async fn head(state: &AppState, package: &Package) -> Result<Head> {
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

fn versions_object(lines: Option<String>) -> String {
    format!("{{{}}}", lines.unwrap_or_default().replace('\n', ","))
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
    let (members, changed) = store
        .joined_version_property(package.id, if abbreviated { ABBREV } else { FULL }, CHANGED)
        .await?;
    if members.is_none() {
        return Ok(None);
    }
    let modified = head.modified.max(Timestamp(changed.unwrap_or(0)));
    let tags = Value::Object(head.tags.clone());
    let versions = versions_object(members);
    let text = if abbreviated {
        format!(
            "{{\"name\":{name},\"modified\":{},\"dist-tags\":{tags},\"versions\":{versions}}}",
            Value::from(modified.rfc3339())
        )
    } else {
        let (times, _) = store
            .joined_version_property(package.id, TIME, CHANGED)
            .await?;
        let times = times.unwrap_or_default().replace('\n', ",");
        let readme = latest_readme(state, package, &head).await?;
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
        top.insert("dist-tags".into(), tags);
        top.insert("readme".into(), json!(readme.unwrap_or_default()));
        let top = Value::Object(top).to_string();
        format!(
            "{},\"versions\":{versions},\"time\":{{\"created\":{},\"modified\":{}{}{times}}}}}",
            &top[..top.len() - 1],
            Value::from(package.created_at.rfc3339()),
            Value::from(modified.rfc3339()),
            if times.is_empty() { "" } else { "," },
        )
    };
    Ok(Some(with_base(&text, registry)))
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
