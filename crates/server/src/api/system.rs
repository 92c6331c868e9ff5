//! Maintenance: garbage collection on demand.

use axum::Json;
use axum::extract::State;
use wharf_core::Error;
use wharf_core::auth::authorize_server;
use wharf_core::model::Scope;
use wharf_core::usecases::collect_garbage;

use super::Caller;
use super::extract::{ApiBytes, optional_object};
use super::views::{GcRequest, GcResult};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Grace periods as the API takes them: a number of seconds, minutes, hours or days.
pub(super) const GRACE_PATTERN: &str = "^(?:0|[1-9][0-9]{0,8})(?:s|m|h|d)$";

/// A grace period written as [`GRACE_PATTERN`] says.
fn parse_grace(text: &str) -> Result<std::time::Duration, Error> {
    let invalid = || Error::invalid(format!("grace {text:?}: write `0s`, `30m`, `12h` or `7d`"));
    let unit = match text.as_bytes().last() {
        Some(b's') => 1,
        Some(b'm') => 60,
        Some(b'h') => 3600,
        Some(b'd') => 86_400,
        _ => return Err(invalid()),
    };
    let number = &text[..text.len() - 1];
    let well_formed = !number.is_empty()
        && number.len() <= 9
        && number.bytes().all(|b| b.is_ascii_digit())
        && (number == "0" || !number.starts_with('0'));
    if !well_formed {
        return Err(invalid());
    }
    let n: u64 = number.parse().map_err(|_| invalid())?;
    Ok(std::time::Duration::from_secs(n * unit))
}

/// Collects unreferenced blobs now (admin). 409 while another process collects.
#[utoipa::path(post, path = "/api/v1/gc", tag = "system", security(("token" = [])),
    request_body(content = GcRequest, description = "optional"),
    responses((status = 200, body = GcResult), (status = 409, body = ErrorBody)))]
pub async fn run_gc(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiBytes(body): ApiBytes,
) -> Result<Json<GcResult>, ApiError> {
    authorize_server(caller.as_ref(), None, Scope::Admin)?;
    let req: GcRequest = optional_object(&body)?;
    let grace = match req.grace.as_deref() {
        None => state.config.gc_grace,
        Some(s) => parse_grace(s)?,
    };
    let upkeep_removed = state.run_upkeep(grace).await;
    let report = collect_garbage(
        state.store.as_ref(),
        &state.blobs,
        grace,
        &state.config.instance,
    )
    .await?
    .ok_or_else(|| Error::conflict("another process is collecting garbage"))?;
    Ok(Json(GcResult {
        deleted: report.deleted,
        bytes_freed: report.bytes_freed,
        temp_removed: report.temp_removed,
        versions_expired: report.versions_expired,
        upload_parts_removed: report.upload_parts_removed,
        tokens_expired: report.tokens_expired,
        upkeep_removed,
    }))
}
