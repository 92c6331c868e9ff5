//! npm package names: the rules the public registry applies to new packages, and the
//! tarball file names derived from them.

use wharf_core::{Error, Result};

/// The longest name the public registry accepts.
const MAX_LEN: usize = 214;

/// Names npm reserves.
const RESERVED: [&str; 2] = ["node_modules", "favicon.ico"];

fn url_safe_part(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with(['.', '_'])
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
}

/// Checks a name for a new package: at most 214 characters, lower case, characters that
/// need no escaping in a URL, not starting with `.` or `_`, and `@scope/name` for scoped
/// packages.
///
/// # Errors
/// [`Error::Invalid`] saying which rule the name breaks.
pub fn validate(name: &str) -> Result<()> {
    let invalid = |why: &str| {
        Err(Error::invalid(format!(
            "invalid package name {name:?}: {why}"
        )))
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > MAX_LEN {
        return invalid("it is longer than 214 characters");
    }
    if name.chars().any(char::is_uppercase) {
        return invalid("new packages must have lower-case names");
    }
    if RESERVED.contains(&name) {
        return invalid("the name is reserved");
    }
    let ok = match name.strip_prefix('@') {
        Some(scoped) => scoped
            .split_once('/')
            .is_some_and(|(scope, bare)| url_safe_part(scope) && url_safe_part(bare)),
        None => url_safe_part(name),
    };
    if ok {
        Ok(())
    } else {
        invalid(
            "names are `name` or `@scope/name`, made of a-z, 0-9, `-`, `.` and `_`, \
             not starting with `.` or `_`",
        )
    }
}

/// The longest dist-tag accepted.
const MAX_TAG: usize = 128;

/// Checks a dist-tag name as npm does (characters a URL carries unescaped, not a version
/// range), and that it is at most 128 characters.
///
/// # Errors
/// [`Error::Invalid`] saying which rule the tag breaks.
pub(crate) fn validate_tag(tag: &str) -> Result<()> {
    let shown: String = tag.chars().take(40).collect();
    if tag.is_empty() || tag.len() > MAX_TAG {
        return Err(Error::invalid(format!(
            "invalid dist-tag {shown:?}: 1 to {MAX_TAG} characters"
        )));
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
    {
        return Err(Error::invalid(format!(
            "invalid dist-tag {shown:?}: letters, digits and -_.!~*'() only"
        )));
    }
    if semver::VersionReq::parse(tag).is_ok() {
        return Err(Error::invalid(format!(
            "{tag:?} cannot be a dist-tag: it reads as a version range"
        )));
    }
    Ok(())
}

/// The name without its scope: `pkg` for `@scope/pkg`.
pub(crate) fn bare(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, bare)| bare)
}

/// The tarball file name of a version: `{bare name}-{version}.tgz`.
pub fn tarball(name: &str, version: &str) -> String {
    format!("{}-{version}.tgz", bare(name))
}

/// The version a tarball file name of `name` stands for.
pub(crate) fn version_of_tarball<'a>(name: &str, file: &'a str) -> Option<&'a str> {
    file.strip_prefix(bare(name))?
        .strip_prefix('-')?
        .strip_suffix(".tgz")
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_public_registry_rules() {
        for good in ["left-pad", "@acme/util", "a.b_c", "x1"] {
            assert!(validate(good).is_ok(), "{good}");
        }
        let long = "a".repeat(215);
        for bad in [
            "",
            "Upper",
            ".hidden",
            "_under",
            "with space",
            "bang!",
            "@scope",
            "@scope/",
            "@/name",
            "a/b",
            "node_modules",
            long.as_str(),
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derives_tarball_names() {
        assert_eq!(tarball("@acme/util", "1.0.0"), "util-1.0.0.tgz");
        assert_eq!(
            version_of_tarball("@acme/util", "util-1.0.0-rc.1.tgz"),
            Some("1.0.0-rc.1")
        );
        assert_eq!(version_of_tarball("util", "other-1.0.0.tgz"), None);
        assert_eq!(version_of_tarball("util", "util-.tgz"), None);
    }
}
