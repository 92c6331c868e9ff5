//! Python package names and distribution file names: PEP 503 normalization, the wheel and
//! sdist naming rules, and the check that a file belongs to the release it is uploaded for.

use wharf_core::{Error, Result};

/// PEP 503: lower case, every run of `-`, `_` and `.` as one `-`.
#[must_use]
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Checks a project name against PEP 508's grammar: ASCII letters and digits, with `.`, `_`
/// and `-` inside.
///
/// # Errors
/// [`Error::Invalid`] with the reason.
pub fn validate_project(name: &str) -> Result<()> {
    let edges_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 200 || !edges_ok || !chars_ok {
        return Err(Error::invalid(format!(
            "invalid project name {name:?}: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

/// The kind of a distribution file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A wheel (`bdist_wheel`).
    Wheel,
    /// A source distribution (`sdist`).
    Sdist,
}

impl FileKind {
    /// The upload API's `filetype`.
    #[must_use]
    pub fn filetype(self) -> &'static str {
        match self {
            Self::Wheel => "bdist_wheel",
            Self::Sdist => "sdist",
        }
    }
}

/// What a distribution file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    /// The project, normalized.
    pub project: String,
    /// The version as written in the file name.
    pub version: String,
    /// Wheel or sdist.
    pub kind: FileKind,
}

/// Parses `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` and
/// `{name}-{version}.tar.gz` / `.zip`.
///
/// # Errors
/// [`Error::Invalid`] naming the rule the file name breaks.
pub fn parse_filename(filename: &str) -> Result<DistFile> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if !(parts.len() == 5 || parts.len() == 6) || parts.iter().any(|p| p.is_empty()) {
            return Err(Error::invalid(format!(
                "invalid wheel file name {filename:?}: expected name-version[-build]-python-abi-platform.whl"
            )));
        }
        return Ok(DistFile {
            project: normalize(parts[0]),
            version: parts[1].to_owned(),
            kind: FileKind::Wheel,
        });
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))
        .ok_or_else(|| {
            Error::invalid(format!(
                "invalid distribution file name {filename:?}: expected a .whl, .tar.gz or .zip"
            ))
        })?;
    let (name, version) = stem
        .rsplit_once('-')
        .filter(|(n, v)| !n.is_empty() && !v.is_empty())
        .ok_or_else(|| {
            Error::invalid(format!(
                "invalid sdist file name {filename:?}: expected name-version.tar.gz"
            ))
        })?;
    Ok(DistFile {
        project: normalize(name),
        version: version.to_owned(),
        kind: FileKind::Sdist,
    })
}

/// Whether two version strings name the same release, as file names write them (wheels
/// replace `-` with `_`; case does not matter).
#[must_use]
pub fn same_version(a: &str, b: &str) -> bool {
    let canon = |v: &str| v.to_ascii_lowercase().replace('_', "-");
    canon(a) == canon(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_as_pep_503_says() {
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY._-BARD"), "friendly-bard");
        assert_eq!(normalize("friendly.bard"), "friendly-bard");
        assert!(validate_project("my_pkg.v2").is_ok());
        for bad in ["", "-x", "x-", "a b", "ünï"] {
            assert!(validate_project(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_names_are_parsed_and_checked() {
        let w = parse_filename("My_Pkg-1.0.0-py3-none-any.whl").unwrap();
        assert_eq!(
            (w.project.as_str(), w.version.as_str(), w.kind),
            ("my-pkg", "1.0.0", FileKind::Wheel)
        );
        let b = parse_filename("pkg-2.0-1-cp311-cp311-manylinux_2_17_x86_64.whl").unwrap();
        assert_eq!(b.version, "2.0");
        let s = parse_filename("my-pkg-1.0.0.tar.gz").unwrap();
        assert_eq!(
            (s.project.as_str(), s.version.as_str(), s.kind),
            ("my-pkg", "1.0.0", FileKind::Sdist)
        );
        for bad in [
            "pkg.whl",
            "pkg-1.0.whl",
            "pkg-1.0.exe",
            "pkg.tar.gz",
            "-1.0.tar.gz",
        ] {
            assert!(parse_filename(bad).is_err(), "{bad}");
        }
        assert!(same_version("1.0_rc1", "1.0-RC1"));
    }
}
