//! Image references as the original reads them (go-containerregistry's `name.ParseReference`):
//! `[host[:port]/]path[:tag|@sha256:hex]`, the first component being a registry host when it
//! has a `.` or a `:` or is `localhost`; no tag and no digest means `latest`.

use wharf_core::digest::Sha256;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// The registry host, when the reference names one.
    pub host: Option<String>,
    /// The repository path (`main/packages/guid`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Sha256>,
}

impl ImageRef {
    /// The repository, fully qualified (`host/path`, or the path alone without a host).
    pub fn repository(&self) -> String {
        match &self.host {
            Some(host) => format!("{host}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The reference written out in full (`…:tag` or `…@sha256:…`).
    pub fn name(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@sha256:{d}", self.repository()),
            (None, tag) => format!(
                "{}:{}",
                self.repository(),
                tag.as_deref().unwrap_or("latest")
            ),
        }
    }
}

/// Parses `text`; `None` when it is no image reference.
pub(crate) fn parse(text: &str) -> Option<ImageRef> {
    let text = text.trim();
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => {
            let hex = digest.strip_prefix("sha256:")?;
            (rest, Some(Sha256::parse(hex).ok()?))
        }
        None => (text, None),
    };
    let (host, path) = match rest.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first.to_owned()), path)
        }
        _ => (None, rest),
    };
    let (path, tag) = match path.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') => (p, Some(tag.to_owned())),
        _ => (path, None),
    };
    if path.is_empty()
        || tag
            .as_deref()
            .is_some_and(|t| crate::request::tag(t).is_err())
    {
        return None;
    }
    Some(ImageRef {
        host,
        path: path.to_owned(),
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_host_path_tag_and_digest() {
        let r = parse("127.0.0.1:8080/main/packages/abc:v1").unwrap();
        assert_eq!(r.host.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(r.path, "main/packages/abc");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.name(), "127.0.0.1:8080/main/packages/abc:v1");
        let r = parse("docker.io/cfcapidocker/x").unwrap();
        assert_eq!(r.name(), "docker.io/cfcapidocker/x:latest");
        let r = parse("main/app").unwrap();
        assert_eq!(r.host, None);
        let hex = "a".repeat(64);
        let r = parse(&format!("localhost/main/app@sha256:{hex}")).unwrap();
        assert_eq!(r.name(), format!("localhost/main/app@sha256:{hex}"));
        assert!(parse("").is_none());
        assert!(parse("main/app@md5:abc").is_none());
        assert!(parse("main/app:-bad").is_none());
    }
}
