//! Reading and checking a pushed manifest ("Pushing Manifests" of the distribution spec, the
//! image-spec's manifest and index, and Docker's schema 2 manifest and manifest list): which
//! kind it is (`Content-Type`, else its `mediaType`, else its shape), that it is well formed,
//! and what it references.

use serde::Deserialize;
use serde_json::{Map, Value};
use wharf_core::digest::Sha256;

use crate::error::{Code, OciError};
use crate::request::parse_digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The manifest media types Wharf stores.
const KNOWN: [&str; 4] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    annotations: Option<Map<String, Value>>,
}

/// Something a manifest references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub digest: Sha256,
    pub size: u64,
    /// A child manifest of an index (rather than a blob).
    pub manifest: bool,
}

/// A checked manifest.
#[derive(Debug)]
pub struct Manifest {
    pub(crate) media_type: &'static str,
    /// What the referrers API lists it as: `artifactType`, else the config's media type.
    pub(crate) artifact_type: Option<String>,
    pub(crate) subject: Option<Sha256>,
    pub(crate) annotations: Option<Map<String, Value>>,
    /// Blobs and child manifests it needs, each once (foreign layers with `urls` excluded).
    pub(crate) references: Vec<Reference>,
}

fn invalid(message: impl Into<String>) -> OciError {
    OciError::new(Code::ManifestInvalid, message)
}

fn known(media_type: &str) -> Option<&'static str> {
    KNOWN.iter().copied().find(|k| *k == media_type)
}

/// Reads `body`, sent with `content_type`.
pub(crate) fn parse(body: &[u8], content_type: Option<&str>) -> Result<Manifest, OciError> {
    let doc: RawDocument = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the manifest is not valid JSON for its kind: {e}")))?;
    if doc.schema_version != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let media_type = media_type(&doc, content_type)?;
    let mut references = References::default();
    let artifact_type = if matches!(media_type, OCI_INDEX | DOCKER_LIST) {
        if doc.config.is_some() || doc.layers.is_some() {
            return Err(invalid("an index has manifests, not config or layers"));
        }
        let manifests = doc
            .manifests
            .as_ref()
            .ok_or_else(|| invalid("an index needs manifests"))?;
        for m in manifests {
            references.push(m, true)?;
        }
        doc.artifact_type.clone()
    } else {
        if doc.manifests.is_some() {
            return Err(invalid(
                "an image manifest has config and layers, not manifests",
            ));
        }
        let config = doc
            .config
            .as_ref()
            .ok_or_else(|| invalid("an image manifest needs a config"))?;
        let layers = doc
            .layers
            .as_ref()
            .ok_or_else(|| invalid("an image manifest needs layers"))?;
        references.push(config, false)?;
        for layer in layers {
            references.push(layer, false)?;
        }
        doc.artifact_type
            .clone()
            .or_else(|| config.media_type.clone())
    };
    let subject = doc.subject.as_ref().map(descriptor_digest).transpose()?;
    Ok(Manifest {
        media_type,
        artifact_type,
        subject,
        annotations: doc.annotations,
        references: references.0,
    })
}

/// The manifest's kind: the `Content-Type` it was sent with (generic JSON types aside), else
/// its `mediaType`, else its shape; the two must agree when both are given.
fn media_type(doc: &RawDocument, content_type: Option<&str>) -> Result<&'static str, OciError> {
    let declared = content_type
        .map(|c| c.split(';').next().unwrap_or_default().trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    match (declared, doc.media_type.as_deref()) {
        (Some(c), Some(m)) if c != m => Err(invalid(format!(
            "Content-Type {c} differs from the manifest's mediaType {m}"
        ))),
        (Some(c), _) | (None, Some(c)) => {
            known(c).ok_or_else(|| invalid(format!("manifest media type {c} is not supported")))
        }
        (None, None) if doc.manifests.is_some() => Ok(OCI_INDEX),
        (None, None) => Ok(OCI_MANIFEST),
    }
}

/// What a manifest references, each digest once; foreign layers (with `urls`) are left out.
#[derive(Default)]
struct References(Vec<Reference>);

impl References {
    fn push(&mut self, d: &RawDescriptor, manifest: bool) -> Result<(), OciError> {
        let digest = descriptor_digest(d)?;
        if d.urls.is_empty() && !self.0.iter().any(|r| r.digest == digest) {
            self.0.push(Reference {
                digest,
                size: d.size,
                manifest,
            });
        }
        Ok(())
    }
}

fn descriptor_digest(d: &RawDescriptor) -> Result<Sha256, OciError> {
    parse_digest(&d.digest).map_err(|e| invalid(format!("descriptor digest: {}", e.message)))
}

/// Whether a client sending `accept` takes `media_type`: yes without `Accept`, with a
/// wildcard, or when it is listed.
pub(crate) fn acceptable(accept: &[&str], media_type: &str) -> bool {
    accept.is_empty()
        || accept.iter().any(|a| {
            let a = a.split(';').next().unwrap_or_default().trim();
            a == media_type || a == "*/*" || a == "application/*" || a == "application/json"
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn image(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D1}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{D2}","size":5}},{{"mediaType":"x","digest":"{D1}","size":2}}]{extra}}}"#
        )
    }

    #[test]
    fn an_image_manifest_names_its_config_and_layers_once() {
        let m = parse(image("").as_bytes(), Some(OCI_MANIFEST)).unwrap();
        assert_eq!(m.media_type, OCI_MANIFEST);
        assert_eq!(m.references.len(), 2);
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        let with_subject = image(&format!(
            r#","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":1}}"#
        ));
        let m = parse(with_subject.as_bytes(), None).unwrap();
        assert_eq!(m.subject.unwrap().hex(), &D2[7..]);
    }

    #[test]
    fn bad_manifests_are_refused() {
        let cases = [
            ("{", None),
            (r#"{"schemaVersion":1}"#, None),
            (&image("")[..], Some(DOCKER_MANIFEST)),
            (&image("")[..], Some("application/vnd.example+json")),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#,
                None,
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#,
                None,
            ),
        ];
        for (body, content_type) in cases {
            let e = parse(body.as_bytes(), content_type).unwrap_err();
            assert_eq!(e.code, Code::ManifestInvalid, "{body}");
        }
        let bad_digest = image("").replace(D2, "sha256:zz");
        assert_eq!(
            parse(bad_digest.as_bytes(), None).unwrap_err().code,
            Code::ManifestInvalid
        );
    }

    #[test]
    fn accept_lists_are_honoured() {
        assert!(acceptable(&[], OCI_MANIFEST));
        assert!(acceptable(&[DOCKER_MANIFEST, OCI_MANIFEST], OCI_MANIFEST));
        assert!(acceptable(&["*/*"], OCI_INDEX));
        assert!(!acceptable(&[DOCKER_MANIFEST], OCI_MANIFEST));
    }
}
