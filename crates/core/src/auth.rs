//! Credentials and permissions: API tokens (random, stored as SHA-256), argon2 password
//! hashes, and the one rule that decides whether a principal may act on a repository.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest as _, Sha256};

use crate::model::{Repository, Scope, TokenInfo, User};
use crate::{Error, Result};

/// The prefix every Wharf token starts with, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "wharf_";

/// A new random token secret: `wharf_` and 48 hex characters (192 bits).
#[must_use]
pub fn generate_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The longest lifetime a token may be given: ten years.
pub const MAX_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_hours(24 * 3650);

/// When a token given `lifetime` at `now` expires.
///
/// # Errors
/// [`Error::Invalid`] for a lifetime of zero or over [`MAX_TOKEN_LIFETIME`].
pub fn token_expiry(
    now: crate::time::Timestamp,
    lifetime: std::time::Duration,
) -> Result<crate::time::Timestamp> {
    if lifetime.is_zero() || lifetime > MAX_TOKEN_LIFETIME {
        return Err(Error::invalid(
            "a token's lifetime must be more than nothing and at most 3650 days",
        ));
    }
    Ok(now.plus(lifetime))
}

/// The token lifetimes the management API takes, as a pattern: `<n>d` (1–3650 days) or
/// `<n>h` (1–87600 hours). [`parse_token_lifetime`] accepts exactly these.
pub const TOKEN_LIFETIME_PATTERN: &str = "^(?:(?:[1-9][0-9]{0,2}|[12][0-9]{3}|3[0-5][0-9]{2}|36[0-4][0-9]|3650)d|(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-6][0-9]{3}|87[0-5][0-9]{2}|87600)h)$";

/// A lifetime written as [`TOKEN_LIFETIME_PATTERN`] says.
///
/// # Errors
/// [`Error::Invalid`] for anything else, or a lifetime over [`MAX_TOKEN_LIFETIME`].
pub fn parse_token_lifetime(text: &str) -> Result<std::time::Duration> {
    let invalid = || {
        Error::invalid(format!(
            "expires_in {text:?}: write days (`30d`, at most `3650d`) or hours (`12h`)"
        ))
    };
    let (number, hours_each) = match text.as_bytes().last() {
        Some(b'd') => (&text[..text.len() - 1], 24),
        Some(b'h') => (&text[..text.len() - 1], 1),
        _ => return Err(invalid()),
    };
    if number.is_empty() || number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let hours = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(hours_each))
        .ok_or_else(invalid)?;
    let lifetime = std::time::Duration::from_hours(hours);
    if lifetime > MAX_TOKEN_LIFETIME {
        return Err(invalid());
    }
    Ok(lifetime)
}

/// What is stored for a token: the SHA-256 of the secret. Tokens carry 192 random bits, so a
/// fast hash is enough and every request can look its token up by this value.
#[must_use]
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// An argon2id hash of a password, in PHC string form.
///
/// # Errors
/// [`Error::Internal`] if hashing fails (it does not for sane inputs).
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::internal_msg(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal_msg(format!("hashing password: {e}")))
}

/// Whether `password` matches a stored PHC hash.
#[must_use]
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API token.
    Token(TokenInfo),
    /// The user's password.
    Password,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub user: User,
    /// How.
    pub credential: Credential,
}

impl Principal {
    /// The most this principal may do: the token's scope capped by the user's role.
    #[must_use]
    pub fn scope(&self) -> Scope {
        match &self.credential {
            Credential::Token(t) => t.scope.min(self.user.role),
            Credential::Password => self.user.role,
        }
    }

    /// Whether the principal may act with `scope` on `repository` (or, with `None`, on the
    /// whole server: repository-limited tokens never may).
    #[must_use]
    pub fn allows(&self, scope: Scope, repository: Option<&Repository>) -> bool {
        if self.scope() < scope {
            return false;
        }
        match (&self.credential, repository) {
            (Credential::Token(t), Some(repo)) => t.repository_id.is_none_or(|id| id == repo.id),
            (Credential::Token(t), None) => t.repository_id.is_none(),
            (Credential::Password, _) => true,
        }
    }
}

/// Decides whether `principal` may act with `scope` on `repository`. Reads of a repository
/// with anonymous reads on need nobody.
///
/// # Errors
/// [`Error::Unauthorized`] without a principal, [`Error::Forbidden`] without the scope.
pub fn authorize(
    principal: Option<&Principal>,
    repository: &Repository,
    scope: Scope,
) -> Result<()> {
    if scope == Scope::Read && repository.policy.anonymous_read {
        return Ok(());
    }
    authorize_server(principal, Some(repository), scope)
}

/// The signed-in caller.
///
/// # Errors
/// [`Error::Unauthorized`] without one.
pub fn signed_in(principal: Option<&Principal>) -> Result<&Principal> {
    principal
        .ok_or_else(|| Error::Unauthorized("authentication required: send a Wharf token".into()))
}

/// Like [`authorize`], and the caller must be signed in even where anonymous reads pass: for
/// writes and for reads that act as somebody.
///
/// # Errors
/// As [`authorize`], and [`Error::Unauthorized`] without a principal.
pub fn require<'a>(
    principal: Option<&'a Principal>,
    repository: &Repository,
    scope: Scope,
) -> Result<&'a Principal> {
    authorize(principal, repository, scope)?;
    signed_in(principal)
}

/// Like [`authorize`] for actions that are not reads of a public repository (or concern the
/// whole server when `repository` is `None`).
///
/// # Errors
/// [`Error::Unauthorized`] without a principal, [`Error::Forbidden`] without the scope.
pub fn authorize_server(
    principal: Option<&Principal>,
    repository: Option<&Repository>,
    scope: Scope,
) -> Result<()> {
    let Some(p) = principal else {
        return Err(Error::Unauthorized(
            "authentication required: send a Wharf token".into(),
        ));
    };
    if p.allows(scope, repository) {
        Ok(())
    } else {
        let target = repository.map_or_else(
            || "this server".to_owned(),
            |r| format!("repository {}", r.name),
        );
        Err(Error::Forbidden(format!(
            "user {} lacks {} access to {target}",
            p.user.name,
            scope.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RepoKind, RepoPolicy};
    use crate::names::RepoName;
    use crate::time::Timestamp;

    fn repo(id: i64, anonymous_read: bool) -> Repository {
        Repository {
            id,
            name: RepoName::new("r").unwrap(),
            format: "generic".into(),
            kind: RepoKind::Hosted,
            upstream: None,
            members: vec![],
            policy: RepoPolicy {
                anonymous_read,
                ..RepoPolicy::default()
            },
            created_at: Timestamp(0),
        }
    }

    fn token_principal(scope: Scope, role: Scope, repository_id: Option<i64>) -> Principal {
        Principal {
            user: User {
                id: 1,
                name: "u".into(),
                role,
                created_at: Timestamp(0),
                disabled: false,
            },
            credential: Credential::Token(TokenInfo {
                id: 1,
                user_id: 1,
                name: "t".into(),
                scope,
                repository_id,
                expires_at: None,
                created_at: Timestamp(0),
            }),
        }
    }

    #[test]
    fn anonymous_reads_follow_the_repository_policy() {
        assert!(authorize(None, &repo(1, true), Scope::Read).is_ok());
        assert!(matches!(
            authorize(None, &repo(1, false), Scope::Read),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            authorize(None, &repo(1, true), Scope::Write),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn token_scope_is_capped_by_role_and_repository() {
        let p = token_principal(Scope::Admin, Scope::Write, None);
        assert_eq!(p.scope(), Scope::Write);
        assert!(authorize(Some(&p), &repo(1, false), Scope::Write).is_ok());
        assert!(matches!(
            authorize_server(Some(&p), None, Scope::Admin),
            Err(Error::Forbidden(_))
        ));
        let limited = token_principal(Scope::Write, Scope::Admin, Some(2));
        assert!(authorize(Some(&limited), &repo(2, false), Scope::Write).is_ok());
        assert!(authorize(Some(&limited), &repo(3, false), Scope::Read).is_err());
        assert!(authorize_server(Some(&limited), None, Scope::Read).is_err());
    }

    #[test]
    fn token_lifetimes_are_days_or_hours() {
        let day = std::time::Duration::from_hours(24);
        assert_eq!(parse_token_lifetime("30d").unwrap(), day * 30);
        assert_eq!(parse_token_lifetime("12h").unwrap(), day / 2);
        assert_eq!(parse_token_lifetime("3650d").unwrap(), MAX_TOKEN_LIFETIME);
        assert_eq!(parse_token_lifetime("87600h").unwrap(), MAX_TOKEN_LIFETIME);
        for bad in [
            "",
            "d",
            "0d",
            "03d",
            "3651d",
            "87601h",
            "1w",
            "1 d",
            "-1d",
            "1h30m",
            "999999999999999999999d",
        ] {
            assert!(parse_token_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        let now = Timestamp(1_000);
        assert_eq!(
            token_expiry(now, std::time::Duration::from_secs(1)).unwrap(),
            Timestamp(2_000)
        );
        assert!(token_expiry(now, MAX_TOKEN_LIFETIME).is_ok());
        assert!(token_expiry(now, MAX_TOKEN_LIFETIME + std::time::Duration::from_secs(1)).is_err());
        assert!(token_expiry(now, std::time::Duration::ZERO).is_err());
    }

    #[test]
    fn passwords_and_tokens_round_trip() {
        let hash = hash_password("s3cret").unwrap();
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("wrong", &hash));
        let t = generate_token();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + 48);
        assert_eq!(hash_token(&t), hash_token(&t));
        assert_ne!(hash_token(&t), hash_token(&generate_token()));
    }
}
