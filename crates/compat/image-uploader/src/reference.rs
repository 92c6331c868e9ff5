//! Image references as the original reads them (go-containerregistry's `name.ParseReference`):
//! `[host[:port]/]path[:tag|@sha256:hex]`, the first component being a registry host when it
//! has a `.` or a `:` or is `localhost`; no tag and no digest means `latest`.

use wharf_core::digest::Sha256;
use wharf_format_oci::usecases::{component_ok, valid_tag};

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

/// Parses `text`; `None` when it is no image reference: the host must be a host name or an
/// address with an optional port, the path components OCI names
/// (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`), the tag a valid tag.
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
    let components: Vec<&str> = path.split('/').collect();
    if path.is_empty()
        || path.len() > 255
        || host.as_deref().is_some_and(|h| !host_ok(h))
        || !components.iter().all(|c| component_ok(c))
        || tag.as_deref().is_some_and(|t| !valid_tag(t))
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

/// `name[:port]`: a DNS name (letters, digits, `-`, dots between labels) or an IPv4 address,
/// or a bracketed IPv6 address, with an optional port.
fn host_ok(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return false,
            },
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    let name_ok = name.is_none_or(|n| {
        !n.is_empty()
            && n.len() <= 253
            && n.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    });
    port_ok && name_ok
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
        for bad in [
            "../../x",
            "../x/y",
            "host:99999/main/app",
            "ex ample.com/main/app",
            "example.com/Main/app",
            "example.com/main//app",
            "-bad.example/main/app",
            "[::1/main/app",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            parse("[::1]:5000/main/app").unwrap().host.as_deref(),
            Some("[::1]:5000")
        );
    }
}
