//! The Platform Package Repository's file-name rules, as its code applies them: uploads must
//! pass `validate`, listings group files by `parse` (the name before the last `-X.Y.Z`).

use std::sync::LazyLock;

use regex::Regex;

/// `(.*)-(\d+.\d+.\d+).*`, matched from the start like the original's `re.match`.
static LISTING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((.*)-(\d+.\d+.\d+).*)$").expect("valid pattern"));
/// The version pattern of the original's validation (`re.findall`, first match).
static VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+\.\d+\.\d+)(-?[a-zA-Z]*)").expect("valid pattern"));
/// `distutils.version.StrictVersion`'s grammar.
static STRICT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$").expect("valid pattern"));

/// A listed file: the package name and version it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformFile {
    /// Everything before the last `-X.Y.Z`.
    pub name: String,
    /// `X.Y.Z`.
    pub version: String,
    /// The numeric version, for ordering.
    pub key: (u64, u64, u64),
}

/// Checks an uploaded file name; the error text is what the original answers with 400.
pub fn validate(file: &str) -> Result<(), String> {
    let dotted: Vec<&str> = file.split('.').collect();
    let extension = dotted[dotted.len().saturating_sub(2)..].join(".");
    let stem = dotted[..dotted.len().saturating_sub(2)].join(".");
    if extension != "tar.gz" {
        return Err("sorry. the archive must end with a tar.gz extension ".into());
    }
    if !file.contains('-') {
        return Err(format!(
            "package name must be of the form name-version e.g. name-0.1.2 but found {stem}"
        ));
    }
    let Some(found) = VERSION.captures(&stem) else {
        return Err(format!(
            "package version must be a three part major.minor.patch e.g. name-1.2.3 but found {stem}"
        ));
    };
    let version = format!("{}{}", &found[1], &found[2]);
    if STRICT.is_match(&version) {
        Ok(())
    } else {
        Err(format!(
            "invalid version number '{version}'\nPackage version must be a three part major.minor.patch e.g. name-1.2.3 but found {stem}"
        ))
    }
}

/// Groups a valid file name into package name and version; `None` for files the original
/// would not list.
#[must_use]
pub fn parse(file: &str) -> Option<PlatformFile> {
    validate(file).ok()?;
    let caps = LISTING.captures(file)?;
    let version = caps[3].to_owned();
    let mut numbers = version
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u64>().ok());
    let key = (numbers.next()?, numbers.next()?, numbers.next()?);
    Some(PlatformFile {
        name: caps[2].to_owned(),
        version,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_everything_before_the_last_version() {
        let f = parse("spark-batch-example-app-1.0.23.tar.gz").unwrap();
        assert_eq!(
            (f.name.as_str(), f.version.as_str()),
            ("spark-batch-example-app", "1.0.23")
        );
        let f = parse("my-package-1.0.0.tar.gz").unwrap();
        assert_eq!((f.name.as_str(), f.key), ("my-package", (1, 0, 0)));
        let f = parse("app-2-1.10.3.tar.gz").unwrap();
        assert_eq!((f.name.as_str(), f.key), ("app-2", (1, 10, 3)));
    }

    #[test]
    fn validation_messages_match_the_original() {
        assert_eq!(
            validate("pkg-1.0.0.zip").unwrap_err(),
            "sorry. the archive must end with a tar.gz extension "
        );
        assert_eq!(
            validate("pkg.tar.gz").unwrap_err(),
            "package name must be of the form name-version e.g. name-0.1.2 but found pkg"
        );
        assert_eq!(
            validate("pkg-1.0.tar.gz").unwrap_err(),
            "package version must be a three part major.minor.patch e.g. name-1.2.3 but found pkg-1.0"
        );
        assert!(
            validate("pkg-1.0.0-rc.tar.gz")
                .unwrap_err()
                .starts_with("invalid version number '1.0.0-rc'")
        );
        assert!(validate("pkg-1.0.0.tar.gz").is_ok());
        assert!(parse("pkg-1.0.0-rc.tar.gz").is_none());
    }
}
