//! Reading one file out of a `.tar.gz` package without unpacking it, with limits against
//! archive bombs: a cap on the bytes decompressed and on the size of the file read.

use std::io::Read;

use crate::{Error, Result};

/// Limits for [`read_from_tar_gz`].
#[derive(Debug, Clone, Copy)]
pub struct TarLimits {
    /// Most bytes decompressed before giving up.
    pub max_unpacked: u64,
    /// Largest file that may be read.
    pub max_file: u64,
}

/// Returns the content of the first entry whose path satisfies `wanted`, or `None` when the
/// archive has none.
///
/// # Errors
/// [`Error::Invalid`] when the data is not a gzip-compressed tar, or a limit is passed.
pub fn read_from_tar_gz(
    reader: impl Read,
    limits: TarLimits,
    wanted: impl Fn(&str) -> bool,
) -> Result<Option<Vec<u8>>> {
    let gz = flate2::read::GzDecoder::new(reader);
    let mut archive = tar::Archive::new(gz.take(limits.max_unpacked));
    let entries = archive
        .entries()
        .map_err(|e| Error::invalid(format!("not a gzip-compressed tar archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| Error::invalid(format!("not a valid gzip-compressed tar: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| Error::invalid(format!("bad path in archive: {e}")))?
            .to_string_lossy()
            .into_owned();
        if !wanted(&path) {
            continue;
        }
        if entry.size() > limits.max_file {
            return Err(Error::invalid(format!(
                "{path} in the archive is larger than {} bytes",
                limits.max_file
            )));
        }
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| Error::invalid(format!("reading {path} from the archive: {e}")))?;
        return Ok(Some(content));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *content).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    const LIMITS: TarLimits = TarLimits {
        max_unpacked: 1 << 20,
        max_file: 1024,
    };

    #[test]
    fn finds_the_wanted_file() {
        let data = tar_gz(&[
            ("a/src/lib.rs", b"fn x() {}"),
            ("a/Cargo.toml", b"[package]"),
        ]);
        let found = read_from_tar_gz(&data[..], LIMITS, |p| p == "a/Cargo.toml").unwrap();
        assert_eq!(found.as_deref(), Some(&b"[package]"[..]));
        assert!(
            read_from_tar_gz(&data[..], LIMITS, |p| p == "b")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn refuses_non_archives_and_oversized_files() {
        assert!(read_from_tar_gz(&b"plain text"[..], LIMITS, |_| true).is_err());
        let big = vec![b'x'; 2048];
        let data = tar_gz(&[("big", &big)]);
        assert!(read_from_tar_gz(&data[..], LIMITS, |p| p == "big").is_err());
    }

    #[test]
    fn stops_at_the_unpacked_limit() {
        let filler = vec![0u8; 64 << 10];
        let data = tar_gz(&[("filler", &filler), ("wanted", b"x")]);
        let tight = TarLimits {
            max_unpacked: 16 << 10,
            max_file: 1024,
        };
        let r = read_from_tar_gz(&data[..], tight, |p| p == "wanted");
        assert!(!matches!(r, Ok(Some(_))), "{r:?}");
    }
}
