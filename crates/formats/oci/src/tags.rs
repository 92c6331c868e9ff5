//! Content discovery: "Listing Tags" (`GET /v2/{name}/tags/list` with `n`, `last` and a
//! `Link` to the next page) and "Listing Referrers" (`GET /v2/{name}/referrers/{digest}`, an
//! image index of the manifests whose `subject` is that digest, `artifactType` filter).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde::Deserialize;
use serde_json::{Value, json};
use wharf_core::digest::Sha256;

use crate::document::OCI_INDEX;
use crate::error::{Code, OciError};
use wharf_server::protocol::Call;

use crate::handlers::{Oci, Page, open};
use crate::images::{ANNOTATIONS, ARTIFACT_TYPE, MEDIA_TYPE, SIZE, SUBJECT, digest_name, package};
use crate::request::Name;

/// `GET /v2/{name}/tags/list`.
pub(crate) async fn list(oci: &Oci, call: &Call<'_>, name: &Name) -> Result<Response, OciError> {
    let page = Page::parse(call.query())?;
    let repo = open(call, name, false).await?;
    if repo.kind == wharf_core::model::RepoKind::Proxy {
        return crate::proxy::tags(oci, call, &repo, name).await;
    }
    let package = package(call.state, &repo, &name.image, Code::NameUnknown).await?;
    let all: Vec<String> = crate::images::tags(call.state, &package)
        .await?
        .into_iter()
        .map(|(tag, _)| tag)
        .collect();
    let path = format!("/v2/{}/tags/list", name.full());
    let (tags, link) = page.cut(&all, &path);
    let mut response = Json(json!({"name": name.full(), "tags": tags})).into_response();
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferrersQuery {
    artifact_type: Option<String>,
}

/// `GET /v2/{name}/referrers/{digest}`: always `200` with an index, empty when nothing
/// refers to the digest (or the image does not exist yet).
pub(crate) async fn referrers(
    call: &Call<'_>,
    name: &Name,
    sha: &Sha256,
) -> Result<Response, OciError> {
    let repo = open(call, name, false).await?;
    let query: ReferrersQuery = wharf_server::query::parse_query(call.query())
        .map_err(|e| OciError::new(Code::Unsupported, e.to_string()))?;
    let subject = digest_name(sha);
    let mut manifests = Vec::new();
    if let Ok(package) = package(call.state, &repo, &name.image, Code::NameUnknown).await {
        for (version, properties) in call
            .state
            .store
            .versions_with_properties(package.id)
            .await?
        {
            let get = |key: &str| {
                properties
                    .iter()
                    .find_map(|(k, v)| (k == key).then_some(v.as_str()))
            };
            if get(SUBJECT) != Some(subject.as_str()) {
                continue;
            }
            let artifact_type = get(ARTIFACT_TYPE);
            if query.artifact_type.is_some() && query.artifact_type.as_deref() != artifact_type {
                continue;
            }
            let mut descriptor = json!({
                "mediaType": get(MEDIA_TYPE).unwrap_or(crate::document::OCI_MANIFEST),
                "digest": version.version,
                "size": get(SIZE).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0),
            });
            if let Some(t) = artifact_type {
                descriptor["artifactType"] = json!(t);
            }
            if let Some(a) = get(ANNOTATIONS).and_then(|a| serde_json::from_str::<Value>(a).ok()) {
                descriptor["annotations"] = a;
            }
            manifests.push(descriptor);
        }
    }
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    let mut response = ([(header::CONTENT_TYPE, OCI_INDEX)], body.to_string()).into_response();
    if query.artifact_type.is_some() {
        response.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}
