//! Turning sqlx errors into Wharf's error kinds at the crate boundary.

use wharf_core::Error;

/// Unique violations become [`Error::Conflict`]; everything else is internal.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return Error::conflict("already exists");
    }
    Error::internal("database", e)
}
