//! Keeping secrets out of logs and error messages: request paths lose the tokens some
//! protocols carry in them (`npm logout` sends its token in `DELETE /-/user/token/{token}`),
//! URLs lose their user information, and anything shaped like a Wharf token is masked.

use std::borrow::Cow;

use wharf_core::Error;
use wharf_core::auth::TOKEN_PREFIX;

/// The mask that stands for a secret.
const MASK: &str = "***";

/// `path` with secrets masked: the segment after `/-/user/token/` and every Wharf token.
#[must_use]
pub fn path(path: &str) -> Cow<'_, str> {
    let masked = tokens(path);
    match masked.find("/-/user/token/") {
        Some(at) => {
            let start = at + "/-/user/token/".len();
            let end = masked[start..]
                .find('/')
                .map_or(masked.len(), |e| start + e);
            if start == end {
                return masked;
            }
            Cow::Owned(format!("{}{MASK}{}", &masked[..start], &masked[end..]))
        }
        None => masked,
    }
}

/// `text` with every Wharf token (`wharf_` and 48 hex digits) masked.
#[must_use]
pub fn tokens(text: &str) -> Cow<'_, str> {
    if !text.contains(TOKEN_PREFIX) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        let after = &rest[at + TOKEN_PREFIX.len()..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(&rest[..at + TOKEN_PREFIX.len()]);
        if hex >= 32 {
            out.push_str(MASK);
            rest = &after[hex..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `url` without user name and password (`https://***@host/…`), tokens masked.
#[must_use]
pub fn url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username(MASK);
            tokens(parsed.as_str()).into_owned()
        }
        _ => tokens(url).into_owned(),
    }
}

/// The [`Error::Upstream`] of a request to `url` that failed in transport: `{what} {url}:
/// {reason}`, the URL redacted and the reason without the URL reqwest puts in it.
#[must_use]
pub fn transport_error(what: &str, target: &str, e: reqwest::Error) -> Error {
    Error::Upstream(format!("{what} {}: {}", url(target), e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let token = format!("wharf_{}", "ab".repeat(24));
        assert_eq!(
            path(&format!("/npm/main/-/user/token/{token}")),
            "/npm/main/-/user/token/***"
        );
        assert_eq!(
            path("/npm/main/-/user/token/npm_opaque/x"),
            "/npm/main/-/user/token/***/x"
        );
        assert_eq!(path("/generic/main/app/1.0/f"), "/generic/main/app/1.0/f");
        assert_eq!(tokens(&format!("a {token} b")), "a wharf_*** b");
        assert_eq!(tokens("wharf_garbage wharf_"), "wharf_garbage wharf_");
        assert_eq!(
            url("https://user:pa55@host:8443/v2/?x=1"),
            "https://***@host:8443/v2/?x=1"
        );
        assert_eq!(url("http://host/simple/"), "http://host/simple/");
    }
}
