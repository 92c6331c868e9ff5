//! In-process tests of the generic protocol, with snapshots of the wire.

mod generic;

/// Redactions for values that change from run to run.
#[macro_export]
macro_rules! assert_wire {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.created_at" => "[time]",
        })
    };
}
