//! The one parser of OCI distribution request paths: `/v2/{repository}/{image}/{endpoint}`.
//!
//! Spec, "Pulling manifests": `<name>` is a namespace matching
//! `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`; a reference is
//! a tag (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) or a digest. Wharf reads the name's first
//! component as the repository and the rest as the image, so `HOST/main/team/app:1.0` is the
//! image `team/app` of the repository `main`. Endpoints are recognised from the end of the
//! path, so an image may have a component called `blobs` or `manifests`.

use wharf_core::digest::Sha256;

use crate::error::{Code, OciError};

/// A repository name and the image inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub repo: String,
    pub image: String,
}

impl Name {
    /// `repo/image`, as clients write it.
    pub fn full(&self) -> String {
        format!("{}/{}", self.repo, self.image)
    }
}

/// A manifest reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    Tag(String),
    Digest(Sha256),
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/v2/`: the API version check.
    Base,
    /// `/v2/token`: the bearer token endpoint.
    Token,
    /// `/v2/_catalog`.
    Catalog,
    Blob(Name, Sha256),
    StartUpload(Name),
    Upload(Name, String),
    Manifest(Name, Reference),
    Tags(Name),
    Referrers(Name, Sha256),
}

/// Parses the path after `/v2`.
pub(crate) fn parse(path: &str) -> Result<Endpoint, OciError> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match rest {
        "" => return Ok(Endpoint::Base),
        "token" => return Ok(Endpoint::Token),
        "_catalog" => return Ok(Endpoint::Catalog),
        _ => {}
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let n = segments.len();
    let unknown = || OciError::new(Code::NameUnknown, format!("no such endpoint: /v2/{rest}"));
    if n >= 3 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads" {
        let name = name(&segments[..n - 3])?;
        return Ok(match segments[n - 1] {
            "" => Endpoint::StartUpload(name),
            id => Endpoint::Upload(name, session_id(id)?),
        });
    }
    if n < 3 {
        return Err(unknown());
    }
    let (kind, last) = (segments[n - 2], segments[n - 1]);
    let name = || name(&segments[..n - 2]);
    match (kind, last) {
        ("blobs", "uploads") => Ok(Endpoint::StartUpload(name()?)),
        ("blobs", digest) => Ok(Endpoint::Blob(name()?, parse_digest(digest)?)),
        ("manifests", reference) => Ok(Endpoint::Manifest(name()?, parse_reference(reference)?)),
        ("tags", "list") => Ok(Endpoint::Tags(name()?)),
        ("referrers", digest) => Ok(Endpoint::Referrers(name()?, parse_digest(digest)?)),
        _ => Err(unknown()),
    }
}

/// Checks the spec's name grammar and splits off the repository.
pub(crate) fn name(components: &[&str]) -> Result<Name, OciError> {
    let full = components.join("/");
    if full.len() > 255 || !components.iter().all(|c| component_ok(c)) {
        return Err(OciError::new(
            Code::NameInvalid,
            format!("invalid repository name {full:?}: lower-case letters, digits and separators"),
        ));
    }
    match components {
        [repo, image @ ..] if !image.is_empty() => Ok(Name {
            repo: (*repo).to_owned(),
            image: image.join("/"),
        }),
        _ => Err(OciError::new(
            Code::NameInvalid,
            format!("{full:?} names no image: write {{repository}}/{{image}}, e.g. main/{full}"),
        )),
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
pub fn component_ok(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let dashes = sep.bytes().all(|b| b == b'-');
        if !(sep == "." || sep == "_" || sep == "__" || dashes) {
            return false;
        }
    }
    true
}

/// `sha256:<64 hex>`; other algorithms are refused as the spec allows.
pub(crate) fn parse_digest(text: &str) -> Result<Sha256, OciError> {
    let Some((algorithm, hex)) = text.split_once(':') else {
        return Err(OciError::new(
            Code::DigestInvalid,
            format!("{text:?} is not a digest (algorithm:hex)"),
        ));
    };
    if algorithm != "sha256" {
        return Err(OciError::new(
            Code::Unsupported,
            format!("digest algorithm {algorithm:?} is not supported; use sha256"),
        ));
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(OciError::new(
            Code::DigestInvalid,
            "digest hex must be lower case",
        ));
    }
    Sha256::parse(hex).map_err(|e| OciError::new(Code::DigestInvalid, e.to_string()))
}

fn parse_reference(text: &str) -> Result<Reference, OciError> {
    if text.contains(':') {
        return parse_digest(text).map(Reference::Digest);
    }
    tag(text).map(|t| Reference::Tag(t.to_owned()))
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
pub(crate) fn tag(text: &str) -> Result<&str, OciError> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(text)
    } else {
        Err(OciError::new(
            Code::ManifestInvalid,
            format!("{text:?} is not a valid tag"),
        ))
    }
}

fn session_id(text: &str) -> Result<String, OciError> {
    uuid::Uuid::parse_str(text)
        .map(|u| u.to_string())
        .map_err(|_| OciError::new(Code::BlobUploadUnknown, "no such upload session"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(repo: &str, image: &str) -> Name {
        Name {
            repo: repo.into(),
            image: image.into(),
        }
    }

    const D: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn endpoints_are_read_from_the_end() {
        assert_eq!(parse("/").unwrap(), Endpoint::Base);
        assert_eq!(parse("/token").unwrap(), Endpoint::Token);
        assert_eq!(parse("/_catalog").unwrap(), Endpoint::Catalog);
        let sha = parse_digest(D).unwrap();
        assert_eq!(
            parse(&format!("/main/team/app/blobs/{D}")).unwrap(),
            Endpoint::Blob(n("main", "team/app"), sha.clone())
        );
        assert_eq!(
            parse("/main/app/blobs/uploads/").unwrap(),
            Endpoint::StartUpload(n("main", "app"))
        );
        assert_eq!(
            parse("/main/app/blobs/uploads").unwrap(),
            Endpoint::StartUpload(n("main", "app"))
        );
        let id = "0b5f2f6e-5a51-4a4e-9f7e-2f3c1a6f9d10";
        assert_eq!(
            parse(&format!("/main/blobs/x/blobs/uploads/{id}")).unwrap(),
            Endpoint::Upload(n("main", "blobs/x"), id.into())
        );
        assert_eq!(
            parse("/main/a/manifests/v1.0_rc-1").unwrap(),
            Endpoint::Manifest(n("main", "a"), Reference::Tag("v1.0_rc-1".into()))
        );
        assert_eq!(
            parse(&format!("/main/a/manifests/{D}")).unwrap(),
            Endpoint::Manifest(n("main", "a"), Reference::Digest(sha.clone()))
        );
        assert_eq!(
            parse("/main/a/b/tags/list").unwrap(),
            Endpoint::Tags(n("main", "a/b"))
        );
        assert_eq!(
            parse(&format!("/main/a/referrers/{D}")).unwrap(),
            Endpoint::Referrers(n("main", "a"), sha)
        );
    }

    #[test]
    fn names_follow_the_grammar() {
        for ok in [
            "a/b",
            "main/my-app",
            "x/a__b",
            "x/a.b/c_d",
            "x/a---b",
            "x/0",
        ] {
            let parts: Vec<&str> = ok.split('/').collect();
            assert!(name(&parts).is_ok(), "{ok}");
        }
        for bad in [
            "main", "x/A", "x/-a", "x/a-", "x/a..b", "x/a___b", "x//b", "x/a b",
        ] {
            let parts: Vec<&str> = bad.split('/').collect();
            let err = name(&parts).unwrap_err();
            assert_eq!(err.code, Code::NameInvalid, "{bad}");
        }
    }

    #[test]
    fn digests_and_tags_are_checked() {
        assert_eq!(
            parse_digest("sha512:abc").unwrap_err().code,
            Code::Unsupported
        );
        assert_eq!(
            parse_digest("sha256:abc").unwrap_err().code,
            Code::DigestInvalid
        );
        assert_eq!(parse_digest("abc").unwrap_err().code, Code::DigestInvalid);
        assert_eq!(
            parse_digest(&D.to_uppercase().replace("SHA256", "sha256"))
                .unwrap_err()
                .code,
            Code::DigestInvalid
        );
        assert!(tag("latest").is_ok());
        assert!(tag(&"a".repeat(128)).is_ok());
        assert!(tag(&"a".repeat(129)).is_err());
        assert!(tag(".hidden").is_err());
        assert!(tag("-x").is_err());
        assert_eq!(
            parse("/main/a/blobs/uploads/not-a-uuid").unwrap_err().code,
            Code::BlobUploadUnknown
        );
    }
}
