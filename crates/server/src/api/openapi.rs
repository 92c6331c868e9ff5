//! The OpenAPI document of `/api/v1`: the operations from their handlers' annotations, then
//! what every operation shares and the exact rules of the request bodies, so that the document
//! says what the server does (a schema-driven fuzzer runs against it in the test command):
//!
//! - the error answers the kernel may give anywhere: 401 for wrong credentials and 429 past the
//!   sign-in limits on every operation; 403 where a scope is needed; 400 and 404 where the
//!   request has parameters or a body (a body may name a repository); 413 where it has one;
//! - request bodies with the server's own rules: name patterns and lengths, enums, the token
//!   lifetime and grace grammars, and which repository kinds each compiled-in format has (one
//!   schema per kind, with what that kind needs).

use serde_json::{Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use wharf_core::auth::TOKEN_LIFETIME_PATTERN;
use wharf_core::model::RepoKind;

use super::{downloads, packages, repositories, system, users};
use crate::state::FormatInfo;

/// The OpenAPI description of `/api/v1`, before [`document`] adds what depends on the
/// compiled-in formats.
#[derive(OpenApi)]
#[openapi(
    info(title = "Wharf management API", description = "Repositories, packages, users and tokens of a Wharf registry. Package protocols (generic, npm, OCI…) are documented per format in docs/formats."),
    paths(
        repositories::list_repositories,
        repositories::create_repository,
        repositories::get_repository,
        repositories::update_repository,
        repositories::delete_repository,
        packages::list_packages,
        packages::get_package,
        packages::delete_package,
        packages::get_version,
        packages::delete_version,
        packages::yank_version,
        packages::unyank_version,
        packages::delete_file,
        downloads::get_downloads,
        users::whoami,
        users::list_users,
        users::create_user,
        users::delete_user,
        users::list_tokens,
        users::create_token,
        users::delete_token,
        system::run_gc,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&TokenAuth, &CommonErrors),
    tags(
        (name = "repositories", description = "Hosted, proxy and group repositories"),
        (name = "packages", description = "Packages, versions and files of any format"),
        (name = "users", description = "Users, API tokens and the caller"),
        (name = "system", description = "Maintenance"),
    )
)]
pub struct ApiDoc;

/// The whole document for a server with `formats`.
#[must_use]
pub fn document(formats: &[FormatInfo]) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let schemas = &mut doc.components.get_or_insert_with(Default::default).schemas;
    for (name, schema) in [
        ("CreateRepository", create_repository(formats)),
        ("CreateUser", create_user()),
        ("CreateToken", create_token()),
        ("GcRequest", gc_request()),
    ] {
        if let Ok(schema) = serde_json::from_value(schema) {
            schemas.insert(name.to_owned(), schema);
        }
    }
    for (path, item) in &mut doc.paths.paths {
        let optional_body = path == "/api/v1/gc" || path.ends_with("/yank");
        for operation in operations(item) {
            if let Some(body) = operation.request_body.as_mut().filter(|_| optional_body) {
                body.required = Some(Required::False);
            }
        }
    }
    doc
}

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the error answers every operation may give (see the module doc).
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let scoped = path.contains("{repo}");
            for operation in operations(item) {
                let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = operation.request_body.is_some();
                let secured = operation.security.is_some();
                let mut add = |status: &str, when: bool, why: &str| {
                    if when && !operation.responses.responses.contains_key(status) {
                        operation
                            .responses
                            .responses
                            .insert(status.to_owned(), error_response(why));
                    }
                };
                add(
                    "400",
                    has_parameters || has_body,
                    "The request is malformed or breaks a rule.",
                );
                add(
                    "401",
                    true,
                    "Credentials were sent and are wrong, or are needed.",
                );
                add("403", secured || scoped, "The credentials lack the scope.");
                add(
                    "404",
                    has_parameters || has_body,
                    "What the path or the body names does not exist.",
                );
                add("413", has_body, "The body is over 1 MiB.");
                add(
                    "429",
                    true,
                    "Too many failed sign-ins with a password; see `Retry-After`.",
                );
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody")))),
            )
            .build(),
    )
}

/// `RepoName`'s rule.
const REPO_NAME: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// One schema per repository kind, for the formats that implement it.
fn create_repository(formats: &[FormatInfo]) -> Value {
    let having = |kind: RepoKind, default_upstream: Option<bool>| -> Vec<&str> {
        formats
            .iter()
            .filter(|f| f.kinds.contains(&kind))
            .filter(|f| default_upstream.is_none_or(|d| f.default_upstream.is_some() == d))
            .map(|f| f.name)
            .collect()
    };
    let policies = json!({
        "allow_overwrite": {"type": ["boolean", "null"], "description": "Whether files may be replaced; default `false`."},
        "max_upload_size": {"type": ["integer", "null"], "minimum": 0, "maximum": i64::MAX, "description": "Upload limit in bytes; default (or `0`): the server's."},
        "anonymous_read": {"type": ["boolean", "null"], "description": "Whether reads need no token; default `true`."},
        "retention_days": {"type": ["integer", "null"], "minimum": 0, "maximum": u32::MAX, "description": "Days a version is kept after its publish; default (or `0`): for ever."},
        "redirect_downloads": {"type": ["boolean", "null"], "description": "Answer downloads with 307 to a presigned storage URL; default `false`."},
    });
    let variant = |kind: Value, formats: Vec<&str>, extra: Value, required: Vec<&str>| {
        let mut properties = policies.clone();
        let map = properties.as_object_mut().unwrap_or_else(|| unreachable!());
        map.insert("name".into(), json!({"type": "string", "pattern": REPO_NAME, "description": "1–64 ASCII letters, digits, `.`, `_`, `-`, starting with a letter or digit."}));
        map.insert("format".into(), json!({"type": "string", "enum": formats}));
        map.insert("kind".into(), kind);
        for (key, value) in extra.as_object().into_iter().flatten() {
            map.insert(key.clone(), value.clone());
        }
        let mut required_fields = vec!["name", "format"];
        required_fields.extend(required);
        json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required_fields})
    };
    let upstream = json!({"type": "string", "pattern": "^https?://", "description": "The upstream registry's URL."});
    let members = json!({"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string"},
        "description": "Member repositories of the same format, in order: hosted or proxy repositories that exist (404 otherwise; 409 for a group)."});
    let mut variants = vec![variant(
        json!({"type": ["string", "null"], "enum": ["hosted", null], "description": "`hosted` (the default)."}),
        having(RepoKind::Hosted, None),
        json!({"upstream": {"type": "null"}, "members": {"type": "array", "items": {"type": "string"}, "maxItems": 0}}),
        vec![],
    )];
    for (defaulted, required) in [(true, vec!["kind"]), (false, vec!["kind", "upstream"])] {
        let names = having(RepoKind::Proxy, Some(defaulted));
        if !names.is_empty() {
            let upstream = if defaulted {
                json!({"anyOf": [upstream, {"type": "null"}], "description": "Default: the format's public registry."})
            } else {
                upstream.clone()
            };
            variants.push(variant(
                json!({"type": "string", "enum": ["proxy"]}),
                names,
                json!({"upstream": upstream, "members": {"type": "array", "items": {"type": "string"}, "maxItems": 0}}),
                required,
            ));
        }
    }
    let groups = having(RepoKind::Group, None);
    if !groups.is_empty() {
        variants.push(variant(
            json!({"type": "string", "enum": ["group"]}),
            groups,
            json!({"upstream": {"type": "null"}, "members": members}),
            vec!["kind", "members"],
        ));
    }
    json!({"description": "A new repository: hosted, a proxy of an upstream registry, or a group of members, as its format implements.", "oneOf": variants})
}

fn create_user() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "description": "A new user.",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$", "description": "Login name: 1–64 ASCII letters, digits, `.`, `_`, `-`, `@`."},
            "password": {"type": "string", "minLength": 8, "description": "At least 8 characters."},
            "role": {"type": ["string", "null"], "enum": ["read", "write", "admin", null], "description": "Default `write`."},
        },
        "required": ["name", "password"],
    })
}

fn create_token() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "description": "A new token.",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": users::MAX_TOKEN_NAME, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "description": "Label: 1–64 characters, no control characters."},
            "scope": {"type": ["string", "null"], "enum": ["read", "write", "admin", null], "description": "At most the caller's own. Default `write`."},
            "repository": {"type": ["string", "null"], "pattern": "^[a-z]+/[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "description": "`format/name` to limit the token to one repository."},
            "expires_in": {"type": ["string", "null"], "pattern": TOKEN_LIFETIME_PATTERN, "description": "Lifetime: days (`30d`, at most `3650d`) or hours (`12h`); none for a token that does not expire."},
        },
        "required": ["name"],
    })
}

fn gc_request() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "description": "Options of a collection.",
        "properties": {
            "grace": {"type": ["string", "null"], "pattern": system::GRACE_PATTERN, "description": "Keep unreferenced blobs younger than this (`0s`, `30m`, `12h`, `7d`); default: the server's."},
        },
    })
}
