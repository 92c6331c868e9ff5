//! The single-layer image of seed 004, as go-containerregistry's `mutate.AppendLayers` on
//! `empty.Image` makes it: a Docker schema 2 manifest, a config whose only content is the
//! layer's diff ID and one empty history entry (zero times, empty architecture and OS), and
//! the layer ([`crate::layer`]). [`store`] writes it into this Wharf.

use std::path::PathBuf;

use bytes::Bytes;
use serde::Serialize;
use wharf_core::Result;
use wharf_core::blob::{StageOptions, StagedBlob};
use wharf_core::digest::Sha256;
use wharf_core::model::Repository;
use wharf_core::usecases::PropertyTarget;
use wharf_server::AppState;

use wharf_format_oci::usecases::{
    DOCKER_MANIFEST, Name, TAG, digest_name, parse_manifest, store_blob, store_manifest,
};

use crate::layer;

const CONFIG_TYPE: &str = "application/vnd.docker.container.image.v1+json";
const LAYER_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Go's zero `time.Time`, as `v1.Time` writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Serialize)]
struct Descriptor<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    size: u64,
    digest: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: Descriptor<'a>,
    layers: [Descriptor<'a>; 1],
}

/// A built image, its layer staged.
pub(crate) struct Built {
    pub layer: StagedBlob,
    pub config: Bytes,
    pub manifest: Bytes,
}

/// The config of an image with one layer whose uncompressed tar hashes to `diff_id`, in Go's
/// field order.
pub(crate) fn config(diff_id: &Sha256) -> Bytes {
    Bytes::from(format!(
        r#"{{"architecture":"","created":"{ZERO_TIME}","history":[{{"created":"{ZERO_TIME}"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
        digest_name(diff_id)
    ))
}

/// The image around a built layer.
pub(crate) fn assemble(layer: layer::Layer) -> Result<Built> {
    let config = config(&layer.diff_id);
    let manifest = Manifest {
        schema_version: 2,
        media_type: DOCKER_MANIFEST,
        config: Descriptor {
            media_type: CONFIG_TYPE,
            size: config.len() as u64,
            digest: digest_name(&Sha256::of(&config)),
        },
        layers: [Descriptor {
            media_type: LAYER_TYPE,
            size: layer.staged.size,
            digest: digest_name(&layer.staged.digests.sha256),
        }],
    };
    let manifest = serde_json::to_vec(&manifest)
        .map_err(|e| wharf_core::Error::internal("encoding the manifest", e))?;
    Ok(Built {
        layer: layer.staged,
        config,
        manifest: Bytes::from(manifest),
    })
}

/// Builds the image of the zip at `zip` (unpacked at most the repository's upload limit).
pub(crate) async fn build(state: &AppState, repo: &Repository, zip: PathBuf) -> Result<Built> {
    assemble(layer::build(&state.blobs, zip, state.upload_limit(repo)).await?)
}

/// Stores a built image in this Wharf as `name:latest`: the manifest digest's hex.
pub(crate) async fn store(
    state: &AppState,
    repo: &Repository,
    name: &Name,
    built: Built,
) -> Result<String> {
    let sha = Sha256::of(&built.manifest);
    let config = state
        .blobs
        .stage(
            futures::stream::iter([Ok::<_, std::io::Error>(built.config)]),
            &StageOptions {
                digests: wharf_core::digest::DigestSet::SHA256,
                ..StageOptions::default()
            },
        )
        .await?;
    store_blob(state, repo, name, config).await?;
    store_blob(state, repo, name, built.layer).await?;
    // The manifest is our own; failing to read it back is a fault, not bad input.
    let manifest = parse_manifest(&built.manifest, Some(DOCKER_MANIFEST))
        .map_err(|e| wharf_core::Error::internal_msg(e.to_string()))?;
    let tag = vec![(
        PropertyTarget::Package,
        format!("{TAG}latest"),
        digest_name(&sha),
    )];
    store_manifest(state, repo, name, &manifest, built.manifest, true, tag).await?;
    Ok(sha.hex().to_owned())
}
