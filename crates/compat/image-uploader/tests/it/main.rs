//! In-process tests of the package image uploader: images built from zips, pushed here or to
//! another registry, and deleted.

mod uploader;

pub(crate) use wharf_test_support::oci::{digest, listening_registry, send};
