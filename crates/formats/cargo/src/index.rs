//! Index lines: the JSON document of one version in the sparse index, built once at publish
//! time from cargo's publish metadata and stored with the version, so serving an index file is
//! a concatenation. Yanking rewrites the stored line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wharf_core::{Error, Result};

/// Version property holding the rendered index line.
pub(crate) const LINE: &str = "cargo.index";
/// Version property holding the description, for search.
pub(crate) const DESCRIPTION: &str = "cargo.description";
/// Version property holding when the line last changed (unix ms), for `Last-Modified`.
pub(crate) const CHANGED: &str = "cargo.changed";
/// Package property holding the owners' user names, as a JSON array.
pub(crate) const OWNERS: &str = "cargo.owners";

/// Registries a dependency may come from besides this one.
const CRATES_IO: &[&str] = &[
    "https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The metadata cargo sends with a publish (the fields Wharf reads).
#[derive(Debug, Deserialize)]
pub(crate) struct PublishMetadata {
    pub name: String,
    pub vers: String,
    #[serde(default)]
    pub deps: Vec<PublishDep>,
    #[serde(default)]
    pub features: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub links: Option<String>,
    #[serde(default)]
    pub rust_version: Option<String>,
}

/// A dependency as cargo publishes it.
#[derive(Debug, Deserialize)]
pub(crate) struct PublishDep {
    pub name: String,
    pub version_req: String,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default = "yes")]
    pub default_features: bool,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default = "normal")]
    pub kind: String,
    #[serde(default)]
    pub registry: Option<String>,
    #[serde(default)]
    pub explicit_name_in_toml: Option<String>,
}

fn yes() -> bool {
    true
}

fn normal() -> String {
    "normal".into()
}

/// One line of an index file, in the documented schema.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct IndexLine {
    pub name: String,
    pub vers: String,
    pub deps: Vec<IndexDep>,
    pub cksum: String,
    pub features: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features2: Option<BTreeMap<String, Vec<String>>>,
    pub yanked: bool,
    pub links: Option<String>,
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubtime: Option<String>,
}

/// A dependency in an index line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct IndexDep {
    pub name: String,
    pub req: String,
    pub features: Vec<String>,
    pub optional: bool,
    pub default_features: bool,
    pub target: Option<String>,
    pub kind: String,
    pub registry: Option<String>,
    pub package: Option<String>,
}

/// Whether a dependency's registry is one this registry accepts: itself (unset), crates.io,
/// or another Wharf repository behind `base`.
fn accepted_registry(registry: Option<&str>, base: &str) -> bool {
    registry
        .is_none_or(|r| CRATES_IO.contains(&r) || r.starts_with(&format!("sparse+{base}/cargo/")))
}

impl IndexDep {
    /// The index's form of a dependency of a publish: its names checked, its registry one
    /// this registry accepts (`base` is this server's URL), its kind and requirement valid; a
    /// renamed dependency is listed under its new name with `package` naming the crate.
    fn from_publish(d: &PublishDep, base: &str) -> Result<Self> {
        crate::names::validate(&d.name)
            .and_then(|()| {
                d.explicit_name_in_toml
                    .as_deref()
                    .map_or(Ok(()), crate::names::validate)
            })
            .map_err(|e| Error::invalid(format!("dependency: {e}")))?;
        if !accepted_registry(d.registry.as_deref(), base) {
            return Err(Error::invalid(format!(
                "dependency `{}` comes from the registry {}, which this registry does not accept: publish it here or depend on crates.io",
                d.name,
                d.registry.as_deref().unwrap_or_default()
            )));
        }
        if !matches!(d.kind.as_str(), "normal" | "dev" | "build") {
            return Err(Error::invalid(format!(
                "dependency `{}` has an unknown kind {:?}",
                d.name, d.kind
            )));
        }
        semver::VersionReq::parse(&d.version_req).map_err(|e| {
            Error::invalid(format!(
                "dependency `{}` has an invalid version requirement {:?}: {e}",
                d.name, d.version_req
            ))
        })?;
        let (name, package) = match &d.explicit_name_in_toml {
            Some(renamed) => (renamed.clone(), Some(d.name.clone())),
            None => (d.name.clone(), None),
        };
        Ok(Self {
            name,
            req: d.version_req.clone(),
            features: d.features.clone(),
            optional: d.optional,
            default_features: d.default_features,
            target: d.target.clone(),
            kind: d.kind.clone(),
            registry: d.registry.clone(),
            package,
        })
    }
}

impl IndexLine {
    /// Builds the line of a new version. `base` is this server's URL.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a dependency on a registry this one does not accept, or a bad
    /// dependency kind or version requirement.
    pub(crate) fn from_publish(
        meta: &PublishMetadata,
        cksum: String,
        pubtime: String,
        base: &str,
    ) -> Result<Self> {
        let deps = meta
            .deps
            .iter()
            .map(|d| IndexDep::from_publish(d, base))
            .collect::<Result<Vec<_>>>()?;
        for (feature, enables) in &meta.features {
            crate::names::validate_feature(feature)?;
            enables
                .iter()
                .try_for_each(|v| crate::names::validate_feature_value(v))?;
        }
        let (plain, new_syntax): (BTreeMap<_, _>, BTreeMap<_, _>) =
            meta.features.clone().into_iter().partition(|(_, values)| {
                !values
                    .iter()
                    .any(|v| v.starts_with("dep:") || v.contains("?/"))
            });
        Ok(Self {
            name: meta.name.clone(),
            vers: meta.vers.clone(),
            deps,
            cksum,
            features: plain,
            v: if new_syntax.is_empty() { 1 } else { 2 },
            features2: (!new_syntax.is_empty()).then_some(new_syntax),
            yanked: false,
            links: meta.links.clone(),
            rust_version: meta.rust_version.clone(),
            pubtime: Some(pubtime),
        })
    }

    /// The line as stored and served.
    ///
    /// # Errors
    /// Never in practice (the types serialize).
    pub(crate) fn render(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::internal("rendering an index line", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(json: serde_json::Value) -> PublishMetadata {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn renamed_dependencies_and_new_feature_syntax() {
        let m = meta(serde_json::json!({
            "name": "app", "vers": "1.0.0",
            "deps": [
                {"name": "serde", "version_req": "^1", "features": ["derive"], "optional": true,
                 "default_features": false, "target": "cfg(unix)", "kind": "normal",
                 "registry": null, "explicit_name_in_toml": "serde1"},
                {"name": "cc", "version_req": "^1.0", "kind": "build",
                 "registry": "https://github.com/rust-lang/crates.io-index"}
            ],
            "features": {"default": ["std"], "std": [], "ser": ["dep:serde1"], "weak": ["serde1?/std"]},
            "rust_version": "1.70"
        }));
        let line =
            IndexLine::from_publish(&m, "ab".into(), "2026-01-01T00:00:00Z".into(), "http://h")
                .unwrap();
        assert_eq!(line.deps[0].name, "serde1");
        assert_eq!(line.deps[0].package.as_deref(), Some("serde"));
        assert_eq!(line.deps[0].target.as_deref(), Some("cfg(unix)"));
        assert_eq!(line.deps[1].kind, "build");
        assert_eq!(line.v, 2);
        assert_eq!(
            line.features.keys().collect::<Vec<_>>(),
            vec!["default", "std"]
        );
        assert_eq!(line.features2.as_ref().unwrap().len(), 2);
        let rendered = line.render().unwrap();
        assert!(
            rendered
                .starts_with(r#"{"name":"app","vers":"1.0.0","deps":[{"name":"serde1","req":"^1""#),
            "{rendered}"
        );
    }

    #[test]
    fn unknown_registries_are_refused() {
        let m = meta(serde_json::json!({
            "name": "app", "vers": "1.0.0",
            "deps": [{"name": "x", "version_req": "1", "registry": "https://elsewhere.example/index"}]
        }));
        assert!(IndexLine::from_publish(&m, String::new(), String::new(), "http://h").is_err());
        let ours = meta(serde_json::json!({
            "name": "app", "vers": "1.0.0",
            "deps": [{"name": "x", "version_req": "1", "registry": "sparse+http://h/cargo/other/index/"}]
        }));
        assert!(IndexLine::from_publish(&ours, String::new(), String::new(), "http://h").is_ok());
    }
}
