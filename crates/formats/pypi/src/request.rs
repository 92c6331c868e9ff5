//! The PyPI protocol's one request parser: method and path below `/pypi/` into an
//! [`Endpoint`].

use http::Method;
use wharf_core::names::RepoName;
use wharf_core::{Error, Result};
use wharf_server::protocol::{self, Access};

/// A parsed PyPI request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /{repo}/` (or `/{repo}/legacy/`): the upload API of twine and `uv publish`.
    Upload,
    /// `GET /{repo}/simple/`: the project list.
    Index,
    /// `GET /{repo}/simple/{project}/`: a project page.
    Project { project: String },
    /// A path that should end in `/`: redirect there.
    AddSlash,
    /// `GET /{repo}/files/{project}/{version}/{file}`.
    File {
        project: String,
        version: String,
        file: String,
    },
    /// `GET …/{file}.metadata` (PEP 658).
    Metadata {
        project: String,
        version: String,
        file: String,
    },
    /// `GET /{repo}/pypi/{project}/json` and `…/{project}/{version}/json`.
    Json {
        project: String,
        version: Option<String>,
    },
}

impl protocol::Endpoint for Endpoint {
    fn operation(&self) -> &'static str {
        match self {
            Self::Upload => "pypi.upload",
            Self::Index => "pypi.index",
            Self::Project { .. } => "pypi.project",
            Self::AddSlash => "pypi.redirect",
            Self::File { .. } => "pypi.download",
            Self::Metadata { .. } => "pypi.metadata",
            Self::Json { .. } => "pypi.json",
        }
    }

    fn access(&self) -> Access {
        match self {
            Self::Upload => Access::Write,
            _ => Access::Read,
        }
    }
}

/// Parses `path` (below `/pypi/`): the repository and the endpoint.
pub(crate) fn parse(method: &Method, path: &str) -> Result<(RepoName, Endpoint)> {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((repo, rest)) = parts.split_first() else {
        return Err(unknown());
    };
    let repo = RepoName::new(*repo)?;
    let get = matches!(*method, Method::GET | Method::HEAD);
    let endpoint = match rest {
        [] | ["" | "legacy"] | ["legacy", ""] if *method == Method::POST => Endpoint::Upload,
        ["simple", ""] if get => Endpoint::Index,
        ["simple"] | ["simple", _] if get => Endpoint::AddSlash,
        ["simple", project, ""] if get => Endpoint::Project {
            project: (*project).to_owned(),
        },
        ["files", project, version, file] if get => {
            let (project, version) = ((*project).to_owned(), (*version).to_owned());
            match file.strip_suffix(".metadata") {
                Some(dist) => Endpoint::Metadata {
                    project,
                    version,
                    file: dist.to_owned(),
                },
                None => Endpoint::File {
                    project,
                    version,
                    file: (*file).to_owned(),
                },
            }
        }
        ["pypi", project, "json"] if get => Endpoint::Json {
            project: (*project).to_owned(),
            version: None,
        },
        ["pypi", project, version, "json"] if get => Endpoint::Json {
            project: (*project).to_owned(),
            version: Some((*version).to_owned()),
        },
        _ => return Err(unknown()),
    };
    Ok((repo, endpoint))
}

fn unknown() -> Error {
    Error::not_found("no such PyPI endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upload_simple_files_and_json() {
        assert_eq!(parse(&Method::POST, "main/").unwrap().1, Endpoint::Upload);
        assert_eq!(
            parse(&Method::POST, "main/legacy/").unwrap().1,
            Endpoint::Upload
        );
        assert_eq!(
            parse(&Method::GET, "main/simple/").unwrap().1,
            Endpoint::Index
        );
        assert_eq!(
            parse(&Method::GET, "main/simple/Foo").unwrap().1,
            Endpoint::AddSlash
        );
        assert_eq!(
            parse(&Method::GET, "main/simple/foo/").unwrap().1,
            Endpoint::Project {
                project: "foo".into()
            }
        );
        assert!(matches!(
            parse(
                &Method::GET,
                "main/files/foo/1.0/foo-1.0-py3-none-any.whl.metadata"
            )
            .unwrap()
            .1,
            Endpoint::Metadata { .. }
        ));
        assert!(matches!(
            parse(&Method::GET, "main/pypi/foo/1.0/json").unwrap().1,
            Endpoint::Json {
                version: Some(_),
                ..
            }
        ));
        assert!(parse(&Method::DELETE, "main/simple/foo/").is_err());
    }
}
