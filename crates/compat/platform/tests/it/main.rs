//! In-process tests of the Platform Package Repository API, with snapshots of the wire.

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
