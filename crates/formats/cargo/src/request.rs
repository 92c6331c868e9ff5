//! The cargo protocol's one request parser: method and path below `/cargo/` into an
//! [`Endpoint`]. Index paths are checked against the name they end in.

use http::Method;
use wharf_core::names::RepoName;
use wharf_core::{Error, Result};
use wharf_server::protocol::{self, Access};

use crate::names;

/// What owners request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnersOp {
    List,
    Add,
    Remove,
}

/// A parsed cargo request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /{repo}/index/config.json`.
    Config,
    /// `GET /{repo}/index/{1|2|3/c|ab/cd}/{name}`.
    IndexFile { name: String },
    /// `PUT /{repo}/api/v1/crates/new`.
    Publish,
    /// `GET /{repo}/api/v1/crates?q=&per_page=`.
    Search,
    /// `GET /{repo}/api/v1/crates/{name}/{version}/download`.
    Download { name: String, version: String },
    /// `DELETE …/{name}/{version}/yank` and `PUT …/unyank`.
    Yank {
        name: String,
        version: String,
        yanked: bool,
    },
    /// `GET|PUT|DELETE /{repo}/api/v1/crates/{name}/owners`.
    Owners { name: String, op: OwnersOp },
    /// `GET /{repo}/me`: where `cargo login` sends people for a token.
    Me,
}

impl protocol::Endpoint for Endpoint {
    fn operation(&self) -> &'static str {
        match self {
            Self::Config => "cargo.config",
            Self::IndexFile { .. } => "cargo.index",
            Self::Publish => "cargo.publish",
            Self::Search => "cargo.search",
            Self::Download { .. } => "cargo.download",
            Self::Yank { yanked: true, .. } => "cargo.yank",
            Self::Yank { yanked: false, .. } => "cargo.unyank",
            Self::Owners {
                op: OwnersOp::List, ..
            } => "cargo.owners",
            Self::Owners {
                op: OwnersOp::Add, ..
            } => "cargo.owners_add",
            Self::Owners {
                op: OwnersOp::Remove,
                ..
            } => "cargo.owners_remove",
            Self::Me => "cargo.me",
        }
    }

    fn access(&self) -> Access {
        match self {
            Self::Me => Access::Open,
            Self::Config
            | Self::IndexFile { .. }
            | Self::Search
            | Self::Download { .. }
            | Self::Owners {
                op: OwnersOp::List, ..
            } => Access::Read,
            Self::Publish | Self::Yank { .. } | Self::Owners { .. } => Access::Write,
        }
    }
}

/// Parses `path` (below `/cargo/`): the repository and the endpoint.
pub(crate) fn parse(method: &Method, path: &str) -> Result<(RepoName, Endpoint)> {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((repo, rest)) = parts.split_first() else {
        return Err(unknown());
    };
    let repo = RepoName::new(*repo)?;
    let endpoint = match (method, rest) {
        (&Method::GET | &Method::HEAD, ["index", "config.json"]) => Endpoint::Config,
        (&Method::GET | &Method::HEAD, ["index", dirs @ .., name]) => {
            let expected = names::index_path(name);
            let given = format!("{}/{name}", dirs.join("/"));
            if names::validate(name).is_err() || expected != given {
                return Err(Error::not_found(format!("no index file at {given}")));
            }
            Endpoint::IndexFile {
                name: (*name).to_owned(),
            }
        }
        (&Method::PUT, ["api", "v1", "crates", "new"]) => Endpoint::Publish,
        (&Method::GET, ["api", "v1", "crates"]) => Endpoint::Search,
        (&Method::GET | &Method::HEAD, ["api", "v1", "crates", name, version, "download"]) => {
            Endpoint::Download {
                name: (*name).to_owned(),
                version: (*version).to_owned(),
            }
        }
        (&Method::DELETE, ["api", "v1", "crates", name, version, "yank"]) => Endpoint::Yank {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            yanked: true,
        },
        (&Method::PUT, ["api", "v1", "crates", name, version, "unyank"]) => Endpoint::Yank {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            yanked: false,
        },
        (m, ["api", "v1", "crates", name, "owners"]) => {
            let op = match *m {
                Method::GET => OwnersOp::List,
                Method::PUT => OwnersOp::Add,
                Method::DELETE => OwnersOp::Remove,
                _ => return Err(unknown()),
            };
            Endpoint::Owners {
                name: (*name).to_owned(),
                op,
            }
        }
        (&Method::GET, ["me"]) => Endpoint::Me,
        _ => return Err(unknown()),
    };
    Ok((repo, endpoint))
}

fn unknown() -> Error {
    Error::not_found("no such cargo registry endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_index_and_the_web_api() {
        let (repo, e) = parse(&Method::GET, "main/index/se/rd/serde").unwrap();
        assert_eq!(repo.as_str(), "main");
        assert_eq!(
            e,
            Endpoint::IndexFile {
                name: "serde".into()
            }
        );
        assert!(parse(&Method::GET, "main/index/xx/yy/serde").is_err());
        assert!(parse(&Method::GET, "main/index/3/a/abc").is_ok());
        assert_eq!(
            parse(&Method::GET, "main/index/config.json").unwrap().1,
            Endpoint::Config
        );
        assert_eq!(
            parse(&Method::PUT, "main/api/v1/crates/new").unwrap().1,
            Endpoint::Publish
        );
        assert!(matches!(
            parse(&Method::PUT, "main/api/v1/crates/foo/1.0.0/unyank")
                .unwrap()
                .1,
            Endpoint::Yank { yanked: false, .. }
        ));
        assert!(matches!(
            parse(&Method::DELETE, "main/api/v1/crates/foo/owners")
                .unwrap()
                .1,
            Endpoint::Owners {
                op: OwnersOp::Remove,
                ..
            }
        ));
        assert!(parse(&Method::POST, "main/api/v1/crates/new").is_err());
    }
}
