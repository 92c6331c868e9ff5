//! Crate names as the public registry treats them: ASCII letters, digits, `-` and `_`, starting
//! with a letter, at most 64 characters; two names clash when they differ only in case or in
//! `-` versus `_`. Index files live at paths derived from the lower-cased name.

use wharf_core::{Error, Result};

/// The longest crate name.
const MAX_LEN: usize = 64;

/// Checks a crate name.
///
/// # Errors
/// [`Error::Invalid`] saying which rule is broken.
pub fn validate(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_LEN {
        return Err(Error::invalid(format!(
            "invalid crate name {name:?}: it must have 1 to {MAX_LEN} characters"
        )));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(Error::invalid(format!(
            "invalid crate name {name:?}: it must start with an ASCII letter"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        return Err(Error::invalid(format!(
            "invalid crate name {name:?}: {c:?} is not allowed (use letters, digits, '-' and '_')"
        )));
    }
    Ok(())
}

/// Checks a feature name as the public registry does: letters, digits, `_`, `-`, `+` and `.`,
/// starting with a letter, a digit or `_`, at most 64 characters.
///
/// # Errors
/// [`Error::Invalid`] naming the feature.
pub fn validate_feature(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_LEN
        && name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid feature name {name:?}: letters, digits, '_', '-', '+' and '.', starting with a letter, digit or '_'"
        )))
    }
}

/// Checks what a feature enables: `feature`, `dep:crate`, `crate/feature` or
/// `crate?/feature`.
///
/// # Errors
/// [`Error::Invalid`] naming the value.
pub fn validate_feature_value(value: &str) -> Result<()> {
    if let Some(dep) = value.strip_prefix("dep:") {
        return validate(dep);
    }
    match value.split_once('/') {
        Some((dep, feature)) => {
            validate(dep.strip_suffix('?').unwrap_or(dep))?;
            validate_feature(feature)
        }
        None => validate_feature(value),
    }
}

/// The form in which clashing names are equal: lower case, `_` as `-`.
#[must_use]
pub fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The directory of a name's index file (`1`, `2`, `3/c`, `ab/cd`), in the name's own case.
#[must_use]
pub fn prefix(name: &str) -> String {
    match name.len() {
        0 | 1 => "1".into(),
        2 => "2".into(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    }
}

/// The index file path of a crate, relative to the index root.
#[must_use]
pub fn index_path(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    format!("{}/{lower}", prefix(&lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_public_registry() {
        for ok in ["a", "serde", "foo-bar_baz", "X1"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "-a", "a.b", "a b", "ünï", &"a".repeat(65)] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(canonical("Foo_Bar"), canonical("foo-bar"));
    }

    #[test]
    fn index_paths_by_length() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("Abc"), "3/a/abc");
        assert_eq!(index_path("Serde_Json"), "se/rd/serde_json");
    }
}
