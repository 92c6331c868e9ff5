//! In-process tests of the generic protocol and the Platform API, with snapshots of the wire.

mod generic;
mod platform;

/// Redactions for values that change from run to run.
#[macro_export]
macro_rules! assert_wire {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.created_at" => "[time]",
        })
    };
}
