//! Validated identifiers. Every name that reaches the store has passed through here, so path
//! traversal, control characters and empty segments are refused once, at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Whether `c` changes the direction text is shown in (U+202E and its kin): names holding one
/// can read differently from what they are (`exe.txt` shown for `txt.exe`).
#[must_use]
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks one path segment as stored: non-empty, at most 255 bytes, not `.` or `..`, and free
/// of `/`, `\`, NUL, control characters and bidirectional controls.
///
/// # Errors
/// [`Error::Invalid`] naming `what` and the rule broken.
pub fn check_segment(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if value.len() > 255 {
        return Err(Error::invalid(format!("{what} is longer than 255 bytes")));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(format!("{what} must not be '.' or '..'")));
    }
    if let Some(c) = value
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control() || is_bidi_control(*c))
    {
        return Err(Error::invalid(format!(
            "{what} contains a forbidden character {c:?}"
        )));
    }
    Ok(())
}

macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a name.
            ///
            /// # Errors
            /// [`Error::Invalid`] when the name breaks the rules.
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                let check: fn(&str) -> Result<(), Error> = $check;
                check(&value)?;
                Ok(Self(value))
            }

            /// The name as given.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name lower-cased, for case-insensitive uniqueness.
            #[must_use]
            pub fn lower(&self) -> String {
                self.0.to_lowercase()
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }
    };
}

validated_name!(
    /// A repository name: 1–64 characters of ASCII letters, digits, `.`, `_` and `-`, starting
    /// with a letter or digit. It is one URL segment (`/{format}/{repo}/…`).
    RepoName,
    "repository name",
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "invalid repository name {v:?}: use 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"
            )))
        }
    }
);

validated_name!(
    /// A package name as a format gives it. Formats with nested names (npm scopes, OCI paths)
    /// may contain `/`; every `/`-separated part must be a valid segment.
    PackageName,
    "package name",
    |v| {
        if v.is_empty() {
            return Err(Error::invalid("package name must not be empty"));
        }
        v.split('/').try_for_each(|part| check_segment("package name", part))
    }
);

validated_name!(
    /// A version string as the format gives it: one valid segment.
    VersionName,
    "version",
    |v| check_segment("version", v)
);

validated_name!(
    /// A file name inside a version: one valid segment.
    FileName,
    "file name",
    |v| check_segment("file name", v)
);

validated_name!(
    /// A user name: 1–64 characters of ASCII letters, digits, `.`, `_`, `-` and `@`.
    UserName,
    "user name",
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "invalid user name {v:?}: use 1-64 ASCII letters, digits, '.', '_', '-' or '@'"
            )))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_refuse_traversal_and_control_characters() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a\nb",
            "a\x7fb",
            "a\u{202e}b",
            "\u{2066}x",
        ] {
            assert!(check_segment("x", bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_segment("x", "file-1.0.tar.gz").is_ok());
        assert!(check_segment("x", &"a".repeat(256)).is_err());
    }

    #[test]
    fn repo_names_are_one_plain_segment() {
        assert!(RepoName::new("main").is_ok());
        assert!(RepoName::new("team.a_b-1").is_ok());
        for bad in ["", "-x", ".x", "a/b", "a b", &"a".repeat(65)] {
            assert!(RepoName::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn nested_package_names_check_every_part() {
        assert!(PackageName::new("@scope/name").is_ok());
        assert!(PackageName::new("a/../b").is_err());
        assert!(PackageName::new("a//b").is_err());
        assert_eq!(PackageName::new("MyPkg").unwrap().lower(), "mypkg");
    }

    #[test]
    fn names_are_checked_on_deserialization() {
        let err = serde_json::from_str::<RepoName>("\"../x\"");
        assert!(err.is_err());
        let ok: RepoName = serde_json::from_str("\"main\"").unwrap();
        assert_eq!(ok.as_str(), "main");
    }
}
