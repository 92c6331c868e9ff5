//! The generic protocol's one request parser: method and path into an [`Endpoint`], with the
//! operation it names and the access it needs.

use http::Method;
use wharf_core::names::{FileName, PackageName, RepoName, VersionName};
use wharf_core::{Error, Result};
use wharf_server::protocol::{self, Access};

/// A parsed generic request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET` or `HEAD /{repo}/{package}/{version}/{file}`.
    DownloadFile(FileRef),
    /// `PUT /{repo}/{package}/{version}/{file}`.
    UploadFile(FileRef),
    /// `DELETE /{repo}/{package}/{version}/{file}`.
    DeleteFile(FileRef),
    /// `DELETE /{repo}/{package}/{version}`.
    DeleteVersion {
        repo: RepoName,
        package: PackageName,
        version: VersionName,
    },
}

/// The coordinates of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRef {
    pub repo: RepoName,
    pub package: PackageName,
    pub version: VersionName,
    pub file: FileName,
}

/// One path segment, percent-decoded; an encoded `/` or `\\` inside it is refused.
fn decode_segment(raw: &str) -> Result<String> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| Error::invalid(format!("path segment {raw:?} is not UTF-8 once decoded")))?;
    if decoded.contains(['/', '\\']) {
        return Err(Error::invalid(format!(
            "path segment {raw:?} holds an encoded separator (%2F or %5C); names cannot contain one"
        )));
    }
    Ok(decoded.into_owned())
}

impl protocol::Endpoint for Endpoint {
    fn operation(&self) -> &'static str {
        match self {
            Self::DownloadFile(_) => "generic.download",
            Self::UploadFile(_) => "generic.upload",
            Self::DeleteFile(_) => "generic.delete_file",
            Self::DeleteVersion { .. } => "generic.delete_version",
        }
    }

    fn access(&self) -> Access {
        match self {
            Self::DownloadFile(_) => Access::Read,
            Self::UploadFile(_) | Self::DeleteFile(_) | Self::DeleteVersion { .. } => Access::Write,
        }
    }
}

impl Endpoint {
    /// The repository the request addresses.
    pub(crate) fn repository(&self) -> &RepoName {
        match self {
            Self::DownloadFile(f) | Self::UploadFile(f) | Self::DeleteFile(f) => &f.repo,
            Self::DeleteVersion { repo, .. } => repo,
        }
    }

    /// Parses `raw` (below `/generic/`, as sent: split on `/`, then each segment
    /// percent-decoded, so that an encoded `/` never acts as a separator).
    pub(crate) fn parse(method: &Method, raw: &str) -> Result<Self> {
        if raw.is_empty() {
            return Err(not_found());
        }
        let decoded = raw
            .split('/')
            .map(decode_segment)
            .collect::<Result<Vec<_>>>()?;
        let parts: Vec<&str> = decoded.iter().map(String::as_str).collect();
        let path = raw;
        if let Some(empty) = parts.iter().position(|p| p.is_empty()) {
            return Err(Error::invalid(format!(
                "empty path segment at position {} in /generic/{path}",
                empty + 1
            )));
        }
        match (method, parts.as_slice()) {
            (m, [repo, package, version, file]) => {
                let file = FileRef {
                    repo: RepoName::new(*repo)?,
                    package: PackageName::new(*package)?,
                    version: VersionName::new(*version)?,
                    file: FileName::new(*file)?,
                };
                match *m {
                    Method::GET | Method::HEAD => Ok(Self::DownloadFile(file)),
                    Method::PUT => Ok(Self::UploadFile(file)),
                    Method::DELETE => Ok(Self::DeleteFile(file)),
                    _ => Err(not_allowed(m)),
                }
            }
            (&Method::DELETE, [repo, package, version]) => Ok(Self::DeleteVersion {
                repo: RepoName::new(*repo)?,
                package: PackageName::new(*package)?,
                version: VersionName::new(*version)?,
            }),
            _ => Err(not_found()),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("generic paths are /generic/{repo}/{package}/{version}/{file}")
}

fn not_allowed(method: &Method) -> Error {
    Error::invalid(format!("method {method} is not allowed on a generic file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_and_version_paths() {
        let e = Endpoint::parse(&Method::PUT, "main/app/1.0/app.tgz").unwrap();
        assert!(matches!(e, Endpoint::UploadFile(f) if f.file.as_str() == "app.tgz"));
        let e = Endpoint::parse(&Method::DELETE, "main/app/1.0").unwrap();
        assert!(matches!(e, Endpoint::DeleteVersion { .. }));
        assert!(matches!(
            Endpoint::parse(&Method::GET, "main/app/1.0").unwrap_err(),
            Error::NotFound(_)
        ));
    }

    #[test]
    fn refuses_traversal_empty_segments_and_control_characters() {
        for bad in [
            "main/../1.0/f",
            "main/app//f",
            "main/app/1.0/",
            "main/app/1.0/a\u{0}b",
            "main/app/1.0/a\nb",
            "../app/1.0/f",
        ] {
            let err = Endpoint::parse(&Method::PUT, bad).unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{bad:?}: {err:?}");
        }
    }
}
