//! Content digests. SHA-256 addresses blobs; SHA-1, MD5 and SHA-512 are computed in the same
//! pass because formats advertise them (npm `shasum` and `integrity`, Maven checksums, PyPI).

use std::fmt;

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest as _, Sha256 as Sha256Hasher, Sha512};

use crate::Error;

/// A SHA-256 digest as 64 lowercase hex characters: the address of a blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// Parses 64 hex characters (either case; stored lower-case).
    ///
    /// # Errors
    /// [`Error::Invalid`] when the text is not a SHA-256 hex digest.
    pub fn parse(hex: &str) -> Result<Self, Error> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hex.to_ascii_lowercase()))
        } else {
            Err(Error::invalid(format!(
                "{hex:?} is not a SHA-256 digest (64 hex characters)"
            )))
        }
    }

    /// The SHA-256 of `data` (small documents held in memory, such as manifests).
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        Self(hex::encode(Sha256Hasher::digest(data)))
    }

    /// The hex digest.
    #[must_use]
    pub fn hex(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sha256 {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::parse(&value)
    }
}

impl From<Sha256> for String {
    fn from(value: Sha256) -> Self {
        value.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// All digests of one blob, as hex. Content staged with
/// [`crate::blob::StageOptions::sha256_only`] has SHA-256 alone (the others empty) until a
/// format that advertises them stores the same content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// SHA-256, the blob's address.
    pub sha256: Sha256,
    /// SHA-1.
    pub sha1: String,
    /// MD5.
    pub md5: String,
    /// SHA-512.
    pub sha512: String,
}

/// Hashes SHA-256 and MD5 (one half) — run beside [`HasherB`] on another core — or SHA-256
/// alone ([`HasherA::sha256_only`]).
#[derive(Clone)]
pub struct HasherA {
    sha256: Sha256Hasher,
    md5: Option<Md5>,
}

impl Default for HasherA {
    fn default() -> Self {
        Self {
            sha256: Sha256Hasher::default(),
            md5: Some(Md5::default()),
        }
    }
}

/// Hashes SHA-1 and SHA-512 (the other half).
#[derive(Default, Clone)]
pub struct HasherB {
    sha1: Sha1,
    sha512: Sha512,
}

impl HasherA {
    /// A hasher of SHA-256 only, for content whose formats advertise no other digest (OCI).
    #[must_use]
    pub fn sha256_only() -> Self {
        Self {
            sha256: Sha256Hasher::default(),
            md5: None,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
    }
}

impl HasherB {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha1.update(data);
        self.sha512.update(data);
    }
}

/// Finishes both halves into [`Digests`]; digests not computed (a SHA-256-only half, no
/// `b`) are empty.
#[must_use]
pub fn finish(a: HasherA, b: Option<HasherB>) -> Digests {
    let (sha1, sha512) = b.map_or_else(Default::default, |b| {
        (
            hex::encode(b.sha1.finalize()),
            hex::encode(b.sha512.finalize()),
        )
    });
    Digests {
        sha256: Sha256(hex::encode(a.sha256.finalize())),
        md5: a.md5.map(|m| hex::encode(m.finalize())).unwrap_or_default(),
        sha1,
        sha512,
    }
}

/// Digests of an in-memory byte slice (tests and small metadata).
#[must_use]
pub fn digest_bytes(data: &[u8]) -> Digests {
    let mut a = HasherA::default();
    let mut b = HasherB::default();
    a.update(data);
    b.update(data);
    finish(a, Some(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_of_abc() {
        let d = digest_bytes(b"abc");
        assert_eq!(
            d.sha256.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert!(d.sha512.starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn sha256_parse_normalizes_case_and_refuses_junk() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assert_eq!(Sha256::parse(upper).unwrap().hex(), upper.to_lowercase());
        assert!(Sha256::parse("xyz").is_err());
    }
}
