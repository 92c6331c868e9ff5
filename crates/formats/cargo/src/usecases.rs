//! What the cargo registry does, without HTTP: publish a version (name clash, ownership, one
//! version per semver precedence, the `.crate` checked, the index line rendered once), yank
//! and un-yank, change owners. Handlers read requests into these and shape their answers.

use wharf_core::auth::Principal;
use wharf_core::blob::StagedBlob;
use wharf_core::catalog::listing;
use wharf_core::model::{Package, PropertyOwner, Repository, Version};
use wharf_core::names::{FileName, PackageName, VersionName};
use wharf_core::time::Timestamp;
use wharf_core::usecases::{PropertyTarget, PublishFile, PublishMode, publish_file};
use wharf_core::{Error, Result};
use wharf_server::AppState;

use crate::index::{CHANGED, DESCRIPTION, IndexLine, LINE, OWNERS, PublishMetadata};
use crate::{names, owners, publish};

/// A version to publish: its metadata and its staged `.crate`, by `principal`, into the
/// hosted `target`; `base` is the URL the index line's dependencies are resolved against.
pub(crate) struct NewCrate<'a> {
    pub principal: &'a Principal,
    pub target: &'a Repository,
    pub meta: PublishMetadata,
    pub staged: StagedBlob,
    pub base: &'a str,
}

fn already_uploaded(name: &str, version: &str) -> Error {
    Error::conflict(format!(
        "crate version `{name}@{version}` is already uploaded"
    ))
}

/// Publishes a version.
///
/// # Errors
/// [`Error::Invalid`] for a bad name, version, dependency or `.crate`; [`Error::Conflict`] for a
/// clashing name or a version already there (by semver precedence, or deleted with other
/// content); [`Error::Forbidden`] for a caller who does not own the crate.
pub(crate) async fn publish(state: &AppState, new: NewCrate<'_>) -> Result<()> {
    let NewCrate {
        principal,
        target,
        meta,
        staged,
        base,
    } = new;
    names::validate(&meta.name)?;
    let version = semver::Version::parse(&meta.vers)
        .map_err(|e| Error::invalid(format!("invalid version {:?}: {e}", meta.vers)))?;
    let canonical = names::canonical(&meta.name);
    if let Some(existing) = state
        .store
        .package_by_canonical(target.id, &canonical)
        .await?
    {
        check_existing(state, principal, &existing, &meta.name, &version).await?;
    }
    publish::verify_crate(&state.blobs, &staged, &meta.name, &meta.vers).await?;
    let now = Timestamp::now();
    let line = IndexLine::from_publish(
        &meta,
        staged.digests.sha256.to_string(),
        now.rfc3339_seconds(),
        base,
    )?;
    let owners = serde_json::to_string(&[&principal.user.name])
        .map_err(|e| Error::internal("encoding owners", e))?;
    let mut properties = vec![
        (PropertyTarget::NewPackage, OWNERS.into(), owners),
        (PropertyTarget::Version, LINE.into(), line.render()?),
        (PropertyTarget::Version, CHANGED.into(), now.0.to_string()),
        (
            PropertyTarget::Version,
            DESCRIPTION.into(),
            meta.description.clone().unwrap_or_default(),
        ),
    ];
    properties.extend(listing(
        meta.description.as_deref(),
        meta.keywords.iter().map(String::as_str),
    ));
    publish_file(
        state.store.as_ref(),
        &state.blobs,
        PublishFile {
            repository: target,
            package: &PackageName::new(meta.name.clone())?,
            canonical: Some(&canonical),
            version: &VersionName::new(meta.vers.clone())?,
            file: &FileName::new(format!("{}-{}.crate", meta.name, meta.vers))?,
            mode: PublishMode::CreateVersion,
            properties,
        },
        staged,
    )
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => already_uploaded(&meta.name, &meta.vers),
        other => other,
    })?;
    Ok(())
}

/// A publish to an existing crate: the same spelling, an owner, and no version of the same
/// semver precedence (`1.0.0+a` and `1.0.0+b` are one version to cargo).
async fn check_existing(
    state: &AppState,
    principal: &Principal,
    existing: &Package,
    name: &str,
    version: &semver::Version,
) -> Result<()> {
    if existing.name != name {
        return Err(Error::conflict(format!(
            "crate `{name}` conflicts with the existing crate `{}`",
            existing.name
        )));
    }
    owners::ensure_owner(state, principal, existing).await?;
    let base = version.to_string();
    let base = base.split('+').next().unwrap_or_default();
    for v in state.store.versions_with_prefix(existing.id, base).await? {
        if semver::Version::parse(&v.version).is_ok_and(|old| old.cmp_precedence(version).is_eq()) {
            return Err(already_uploaded(name, &v.version));
        }
    }
    Ok(())
}

/// Yanks (or un-yanks) a version of a crate `principal` owns.
///
/// # Errors
/// [`Error::NotFound`] for a missing version, [`Error::Forbidden`] for a caller who does not
/// own the crate.
pub(crate) async fn yank(
    state: &AppState,
    principal: &Principal,
    package: &Package,
    version: &str,
    yanked: bool,
) -> Result<()> {
    owners::ensure_owner(state, principal, package).await?;
    let v = state
        .store
        .version(package.id, version)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!("crate `{}` has no version {version}", package.name))
        })?;
    set_yanked(state, &v, yanked).await
}

/// Rewrites a version's index line with `yanked` (which bumps the crate's revision, so every
/// instance serves the new index file).
///
/// # Errors
/// A store failure, or a version without an index line.
pub(crate) async fn set_yanked(state: &AppState, version: &Version, yanked: bool) -> Result<()> {
    let owner = PropertyOwner::Version(version.id);
    let stored = state
        .store
        .properties(owner)
        .await?
        .into_iter()
        .find_map(|(k, value)| (k == LINE).then_some(value))
        .ok_or_else(|| Error::internal_msg("version without an index line"))?;
    let mut line: IndexLine =
        serde_json::from_str(&stored).map_err(|e| Error::internal("stored index line", e))?;
    line.yanked = yanked;
    state
        .store
        .set_property(owner, LINE, &line.render()?)
        .await?;
    state
        .store
        .set_property(owner, CHANGED, &Timestamp::now().0.to_string())
        .await
}

#[cfg(test)]
mod tests {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use wharf_core::blob::StageOptions;
    use wharf_core::model::Scope;
    use wharf_test_support::TestApp;

    use super::*;

    fn crate_bytes(name: &str, vers: &str) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"{vers}\"\n");
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{name}-{vers}/Cargo.toml"),
                manifest.as_bytes(),
            )
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    }

    async fn new_crate<'a>(
        app: &TestApp,
        principal: &'a Principal,
        target: &'a Repository,
        vers: &str,
    ) -> NewCrate<'a> {
        let bytes = crate_bytes("demo", vers);
        let staged = app
            .state
            .blobs
            .stage(
                futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]),
                &StageOptions::default(),
            )
            .await
            .unwrap();
        let meta =
            serde_json::from_value(serde_json::json!({"name": "demo", "vers": vers})).unwrap();
        NewCrate {
            principal,
            target,
            meta,
            staged,
            base: "http://registry.test",
        }
    }

    async fn principal(app: &TestApp, name: &str) -> Principal {
        let token = app.token(name, Scope::Write, Scope::Write, None).await;
        let headers = http::HeaderMap::from_iter([(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        )]);
        wharf_server::auth::authenticate(&app.state, &headers)
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn versions_owners_and_yanks_follow_cargos_rules() {
        let app = TestApp::builder().format(crate::CargoFormat).build().await;
        let target = app.state.repository("cargo", "main").await.unwrap();
        let (alice, bob) = (principal(&app, "alice").await, principal(&app, "bob").await);
        publish(&app.state, new_crate(&app, &alice, &target, "1.0.0").await)
            .await
            .unwrap();
        let same = publish(
            &app.state,
            new_crate(&app, &alice, &target, "1.0.0+build").await,
        )
        .await;
        assert!(matches!(same, Err(Error::Conflict(_))), "{same:?}");
        let not_owner = publish(&app.state, new_crate(&app, &bob, &target, "1.1.0").await).await;
        assert!(
            matches!(not_owner, Err(Error::Forbidden(_))),
            "{not_owner:?}"
        );
        let package = app
            .state
            .store
            .package(target.id, "demo")
            .await
            .unwrap()
            .unwrap();
        let refused = yank(&app.state, &bob, &package, "1.0.0", true).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))));
        yank(&app.state, &alice, &package, "1.0.0", true)
            .await
            .unwrap();
        let version = app
            .state
            .store
            .version(package.id, "1.0.0")
            .await
            .unwrap()
            .unwrap();
        let line: IndexLine = serde_json::from_str(
            &app.state
                .store
                .properties(PropertyOwner::Version(version.id))
                .await
                .unwrap()
                .into_iter()
                .find_map(|(k, v)| (k == LINE).then_some(v))
                .unwrap(),
        )
        .unwrap();
        assert!(line.yanked);
        owners::change(&app.state, &alice, &package, &["bob".into()], true)
            .await
            .unwrap();
        publish(&app.state, new_crate(&app, &bob, &target, "1.1.0").await)
            .await
            .unwrap();
        app.finish().await;
    }
}
