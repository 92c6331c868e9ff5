//! Content digests. SHA-256 addresses blobs; SHA-1, MD5 and SHA-512 are computed in the same
//! pass, each where a format advertises it (npm `shasum` and `integrity`, PyPI's MD5, the
//! generic API's answer).

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

/// All digests of one blob, as hex. Those its uploads' [`DigestSet`] left out are empty until
/// a format that advertises them stores the same content.
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

/// Which digests an upload computes besides SHA-256 (always computed: it is the blob's
/// address). Formats ask for the ones they serve — MD5 and SHA-512 cost four times what
/// SHA-256 and SHA-1 do on a CPU with SHA extensions — and what one leaves out is filled in
/// when a format that serves it stores the same content (the blob claim fills empty digests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestSet {
    /// SHA-1 (npm `shasum`).
    pub sha1: bool,
    /// MD5 (PyPI `md5_digest`).
    pub md5: bool,
    /// SHA-512 (npm `integrity`).
    pub sha512: bool,
}

impl DigestSet {
    /// All four (the generic API answers them all).
    pub const ALL: Self = Self {
        sha1: true,
        md5: true,
        sha512: true,
    };
    /// SHA-256 alone (OCI, cargo).
    pub const SHA256: Self = Self {
        sha1: false,
        md5: false,
        sha512: false,
    };
}

impl Default for DigestSet {
    fn default() -> Self {
        Self::ALL
    }
}

/// Digests beside SHA-256, each computed or not.
#[derive(Default, Clone)]
struct Extra {
    sha1: Option<Sha1>,
    md5: Option<Md5>,
    sha512: Option<Sha512>,
}

impl Extra {
    fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(data);
        }
    }

    fn is_empty(&self) -> bool {
        self.sha1.is_none() && self.md5.is_none() && self.sha512.is_none()
    }
}

/// The half of an upload's hashing that computes SHA-256, with some of the others.
#[derive(Clone)]
pub struct HasherA {
    sha256: Sha256Hasher,
    extra: Extra,
}

/// The other half, run beside [`HasherA`] on another core.
#[derive(Clone)]
pub struct HasherB(Extra);

impl HasherA {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        self.extra.update(data);
    }
}

impl HasherB {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// The two halves that compute `set`, split so that neither has much more work than the
/// other: MD5 and SHA-512, the slow ones, go to different halves; the second half is absent
/// when it would compute nothing.
#[must_use]
pub fn hashers(set: DigestSet) -> (HasherA, Option<HasherB>) {
    let mut a = Extra::default();
    let mut b = Extra::default();
    let sha1 = set.sha1.then(Sha1::default);
    let md5 = set.md5.then(Md5::default);
    let sha512 = set.sha512.then(Sha512::default);
    match (md5, sha512) {
        (Some(md5), Some(sha512)) => {
            a.md5 = Some(md5);
            b.sha512 = Some(sha512);
            b.sha1 = sha1;
        }
        (md5, sha512) => {
            a.sha1 = sha1;
            b.md5 = md5;
            b.sha512 = sha512;
        }
    }
    let a = HasherA {
        sha256: Sha256Hasher::default(),
        extra: a,
    };
    (a, (!b.is_empty()).then_some(HasherB(b)))
}

/// Finishes both halves into [`Digests`]; digests not computed are empty.
#[must_use]
pub fn finish(a: HasherA, b: Option<HasherB>) -> Digests {
    let (one, other) = (a.extra, b.map(|b| b.0).unwrap_or_default());
    Digests {
        sha256: Sha256(hex::encode(a.sha256.finalize())),
        sha1: (one.sha1.or(other.sha1)).map_or_else(String::new, |h| hex::encode(h.finalize())),
        md5: (one.md5.or(other.md5)).map_or_else(String::new, |h| hex::encode(h.finalize())),
        sha512: (one.sha512.or(other.sha512))
            .map_or_else(String::new, |h| hex::encode(h.finalize())),
    }
}

/// Digests of an in-memory byte slice (tests and small metadata).
#[must_use]
pub fn digest_bytes(data: &[u8]) -> Digests {
    digest_bytes_of(data, DigestSet::ALL)
}

/// The digests of `set` of an in-memory byte slice.
#[must_use]
pub fn digest_bytes_of(data: &[u8], set: DigestSet) -> Digests {
    let (mut a, mut b) = hashers(set);
    a.update(data);
    if let Some(b) = &mut b {
        b.update(data);
    }
    finish(a, b)
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
    fn each_set_computes_its_digests_and_leaves_the_others_empty() {
        let all = digest_bytes(b"abc");
        for sha1 in [false, true] {
            for md5 in [false, true] {
                for sha512 in [false, true] {
                    let set = DigestSet { sha1, md5, sha512 };
                    let d = digest_bytes_of(b"abc", set);
                    assert_eq!(d.sha256, all.sha256, "{set:?}");
                    let pick = |on: bool, v: &str| if on { v.to_owned() } else { String::new() };
                    assert_eq!(d.sha1, pick(sha1, &all.sha1), "{set:?}");
                    assert_eq!(d.md5, pick(md5, &all.md5), "{set:?}");
                    assert_eq!(d.sha512, pick(sha512, &all.sha512), "{set:?}");
                }
            }
        }
    }

    #[test]
    fn the_slow_digests_are_hashed_on_different_halves() {
        let (a, b) = hashers(DigestSet::ALL);
        let b = b.unwrap().0;
        assert!(a.extra.md5.is_some() && b.sha512.is_some() && b.sha1.is_some());
        let (a, b) = hashers(DigestSet {
            md5: false,
            ..DigestSet::ALL
        });
        assert!(a.extra.sha1.is_some() && b.unwrap().0.sha512.is_some());
        assert!(hashers(DigestSet::SHA256).1.is_none());
    }

    #[test]
    fn sha256_parse_normalizes_case_and_refuses_junk() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assert_eq!(Sha256::parse(upper).unwrap().hex(), upper.to_lowercase());
        assert!(Sha256::parse("xyz").is_err());
    }
}
