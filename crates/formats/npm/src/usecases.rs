//! What other crates build on (the Pantry API, `wharf-compat-pantry`): publishing a version,
//! reading the packages, packuments and tarballs of any repository kind, npm's name rules and
//! the streamed reader of JSON bodies that carry tarballs.

pub use crate::DIGESTS;
pub use crate::manifest::{FULL, parse_member};
pub use crate::names::{tarball as tarball_name, validate as validate_name};
pub use crate::packument::{Head, head};
pub use crate::publish::{bad_json, verify_tarball};
pub use crate::search::upstream_objects;
pub use crate::sources::{packument_of, tarball_of};
pub use crate::streamed::{Sinks, stream_json};
pub use crate::writes::{NewVersion, store_version};
