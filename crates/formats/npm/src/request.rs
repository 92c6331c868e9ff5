//! The npm protocol's one request parser: method and path below `/npm/` into an
//! [`Endpoint`]. Scoped names arrive as `@scope/name` or `@scope%2fname`; both are the same
//! two segments once the path is decoded.

use http::Method;
use wharf_core::names::RepoName;
use wharf_core::{Error, Result};
use wharf_server::protocol::{self, Access};

/// A parsed npm request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /-/ping`.
    Ping,
    /// `GET /-/whoami`.
    Whoami,
    /// `PUT /-/user/org.couchdb.user:{user}`: `npm login --auth-type=legacy`, `npm adduser`.
    Login { user: String },
    /// `DELETE /-/user/token/{token}`: `npm logout`.
    Logout { token: String },
    /// `GET /-/npm/v1/tokens`: `npm token list`.
    ListTokens,
    /// `POST /-/npm/v1/tokens`: `npm token create`.
    CreateToken,
    /// `DELETE /-/npm/v1/tokens/token/{key}`: `npm token revoke`.
    RevokeToken { key: String },
    /// `GET /-/v1/search?text=&size=&from=`.
    Search,
    /// `POST /-/npm/v1/security/advisories/bulk` and `…/audits/quick`: `npm audit`.
    Audit { bulk: bool },
    /// `GET /-/package/{name}/dist-tags`.
    DistTags { name: String },
    /// `PUT|DELETE /-/package/{name}/dist-tags/{tag}`.
    DistTag {
        name: String,
        tag: String,
        set: bool,
    },
    /// `GET /{name}`: the packument.
    Packument { name: String },
    /// `GET /{name}/{version-or-tag}`: one version's manifest.
    Manifest { name: String, spec: String },
    /// `GET /{name}/-/{file}`: a tarball.
    Tarball { name: String, file: String },
    /// `PUT /{name}`: publish.
    Publish { name: String },
    /// `PUT /{name}/-rev/{rev}`: a changed packument (deprecate, unpublish of versions).
    Update { name: String },
    /// `DELETE /{name}/-rev/{rev}`: unpublish of the whole package.
    Unpublish { name: String },
    /// `DELETE /{name}/-/{file}/-rev/{rev}`: the tarball of a version being unpublished.
    DeleteTarball { name: String, file: String },
}

impl protocol::Endpoint for Endpoint {
    fn operation(&self) -> &'static str {
        match self {
            Self::Ping => "npm.ping",
            Self::Whoami => "npm.whoami",
            Self::Login { .. } => "npm.login",
            Self::Logout { .. } => "npm.logout",
            Self::ListTokens => "npm.tokens",
            Self::CreateToken => "npm.token_create",
            Self::RevokeToken { .. } => "npm.token_revoke",
            Self::Search => "npm.search",
            Self::Audit { .. } => "npm.audit",
            Self::DistTags { .. } => "npm.dist_tags",
            Self::DistTag { set: true, .. } => "npm.dist_tag_add",
            Self::DistTag { set: false, .. } => "npm.dist_tag_remove",
            Self::Packument { .. } => "npm.packument",
            Self::Manifest { .. } => "npm.manifest",
            Self::Tarball { .. } => "npm.tarball",
            Self::Publish { .. } => "npm.publish",
            Self::Update { .. } => "npm.update",
            Self::Unpublish { .. } => "npm.unpublish",
            Self::DeleteTarball { .. } => "npm.delete_tarball",
        }
    }

    fn access(&self) -> Access {
        match self {
            Self::Ping | Self::Login { .. } => Access::Open,
            Self::Whoami
            | Self::Logout { .. }
            | Self::ListTokens
            | Self::CreateToken
            | Self::RevokeToken { .. } => Access::SignedIn,
            Self::Search
            | Self::Audit { .. }
            | Self::DistTags { .. }
            | Self::Packument { .. }
            | Self::Manifest { .. }
            | Self::Tarball { .. } => Access::Read,
            Self::DistTag { .. }
            | Self::Publish { .. }
            | Self::Update { .. }
            | Self::Unpublish { .. }
            | Self::DeleteTarball { .. } => Access::Write,
        }
    }
}

/// Splits a package name off the front of `parts`: one segment, or two for `@scope/name`.
fn split_name<'a, 'b>(parts: &'b [&'a str]) -> Option<(String, &'b [&'a str])> {
    match parts {
        [scope, bare, rest @ ..] if scope.starts_with('@') && !scope.contains('/') => {
            Some((format!("{scope}/{bare}"), rest))
        }
        [scoped, rest @ ..] if scoped.starts_with('@') => {
            scoped.contains('/').then(|| ((*scoped).to_owned(), rest))
        }
        [name, rest @ ..] if !name.is_empty() && !name.starts_with('-') => {
            Some(((*name).to_owned(), rest))
        }
        _ => None,
    }
}

/// Parses `path` (below `/npm/`): the repository and the endpoint.
pub(crate) fn parse(method: &Method, path: &str) -> Result<(RepoName, Endpoint)> {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((repo, rest)) = parts.split_first() else {
        return Err(unknown());
    };
    let repo = RepoName::new(*repo)?;
    let endpoint = match rest {
        ["-", special @ ..] => special_endpoint(method, special)?,
        _ => package_endpoint(method, rest)?,
    };
    Ok((repo, endpoint))
}

fn special_endpoint(method: &Method, parts: &[&str]) -> Result<Endpoint> {
    Ok(match (method, parts) {
        (&Method::GET | &Method::HEAD, ["ping"]) => Endpoint::Ping,
        (&Method::GET, ["whoami"]) => Endpoint::Whoami,
        (&Method::PUT, ["user", user]) => Endpoint::Login {
            user: user
                .strip_prefix("org.couchdb.user:")
                .ok_or_else(unknown)?
                .to_owned(),
        },
        (&Method::DELETE, ["user", "token", token]) => Endpoint::Logout {
            token: (*token).to_owned(),
        },
        (&Method::GET, ["npm", "v1", "tokens"]) => Endpoint::ListTokens,
        (&Method::POST, ["npm", "v1", "tokens"]) => Endpoint::CreateToken,
        (&Method::DELETE, ["npm", "v1", "tokens", "token", key]) => Endpoint::RevokeToken {
            key: (*key).to_owned(),
        },
        (&Method::GET, ["v1", "search"]) => Endpoint::Search,
        (&Method::POST, ["npm", "v1", "security", "advisories", "bulk"]) => {
            Endpoint::Audit { bulk: true }
        }
        (&Method::POST, ["npm", "v1", "security", "audits", "quick"]) => {
            Endpoint::Audit { bulk: false }
        }
        (_, ["package", rest @ ..]) => {
            let (name, rest) = split_name(rest).ok_or_else(unknown)?;
            match (method, rest) {
                (&Method::GET, ["dist-tags"]) => Endpoint::DistTags { name },
                (&Method::PUT | &Method::POST, ["dist-tags", tag]) => Endpoint::DistTag {
                    name,
                    tag: (*tag).to_owned(),
                    set: true,
                },
                (&Method::DELETE, ["dist-tags", tag]) => Endpoint::DistTag {
                    name,
                    tag: (*tag).to_owned(),
                    set: false,
                },
                _ => return Err(unknown()),
            }
        }
        _ => return Err(unknown()),
    })
}

fn package_endpoint(method: &Method, parts: &[&str]) -> Result<Endpoint> {
    let (name, rest) = split_name(parts).ok_or_else(unknown)?;
    Ok(match (method, rest) {
        (&Method::GET | &Method::HEAD, [] | [""]) => Endpoint::Packument { name },
        (&Method::PUT, [] | [""]) => Endpoint::Publish { name },
        (&Method::PUT, ["-rev", _]) => Endpoint::Update { name },
        (&Method::DELETE, ["-rev", _]) => Endpoint::Unpublish { name },
        (&Method::GET | &Method::HEAD, ["-", file]) => Endpoint::Tarball {
            name,
            file: (*file).to_owned(),
        },
        (&Method::DELETE, ["-", file, "-rev", _]) => Endpoint::DeleteTarball {
            name,
            file: (*file).to_owned(),
        },
        (&Method::GET | &Method::HEAD, [spec]) if !spec.starts_with('-') => Endpoint::Manifest {
            name,
            spec: (*spec).to_owned(),
        },
        _ => return Err(unknown()),
    })
}

fn unknown() -> Error {
    Error::not_found("no such npm registry endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: &Method, path: &str) -> Endpoint {
        parse(method, path).unwrap().1
    }

    #[test]
    fn parses_packages_scoped_or_not() {
        let scoped = || "@acme/util".to_owned();
        assert_eq!(
            endpoint(&Method::GET, "main/@acme/util"),
            Endpoint::Packument { name: scoped() }
        );
        assert_eq!(
            endpoint(&Method::PUT, "main/@acme/util"),
            Endpoint::Publish { name: scoped() }
        );
        assert_eq!(
            endpoint(&Method::GET, "main/@acme/util/-/util-1.0.0.tgz"),
            Endpoint::Tarball {
                name: scoped(),
                file: "util-1.0.0.tgz".into()
            }
        );
        assert_eq!(
            endpoint(&Method::GET, "main/left-pad/latest"),
            Endpoint::Manifest {
                name: "left-pad".into(),
                spec: "latest".into()
            }
        );
        assert_eq!(
            endpoint(&Method::PUT, "main/left-pad/-rev/3-abc"),
            Endpoint::Update {
                name: "left-pad".into()
            }
        );
        assert_eq!(
            endpoint(
                &Method::DELETE,
                "main/left-pad/-/left-pad-1.0.0.tgz/-rev/3-abc"
            ),
            Endpoint::DeleteTarball {
                name: "left-pad".into(),
                file: "left-pad-1.0.0.tgz".into()
            }
        );
        assert!(parse(&Method::GET, "main/@acme").is_err());
        assert!(parse(&Method::POST, "main/left-pad").is_err());
    }

    #[test]
    fn parses_the_special_endpoints() {
        assert_eq!(endpoint(&Method::GET, "main/-/ping"), Endpoint::Ping);
        assert_eq!(
            endpoint(&Method::PUT, "main/-/user/org.couchdb.user:ann"),
            Endpoint::Login { user: "ann".into() }
        );
        assert_eq!(
            endpoint(&Method::PUT, "main/-/package/@acme/util/dist-tags/beta"),
            Endpoint::DistTag {
                name: "@acme/util".into(),
                tag: "beta".into(),
                set: true
            }
        );
        assert_eq!(
            endpoint(&Method::POST, "main/-/npm/v1/security/advisories/bulk"),
            Endpoint::Audit { bulk: true }
        );
        assert!(parse(&Method::GET, "main/-/nothing").is_err());
    }
}
