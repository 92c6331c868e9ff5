//! [`Secret`]: a configuration value such as a password or a key, kept as given and shown as
//! `***` wherever it is printed (`Debug`, `config print`).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A secret string: kept as is, shown as `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}
