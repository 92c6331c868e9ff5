//! Maintenance: garbage collection on demand.

use axum::Json;
use axum::extract::State;
use wharf_core::Error;
use wharf_core::auth::authorize_server;
use wharf_core::model::Scope;
use wharf_core::usecases::collect_garbage;

use super::Caller;
use super::extract::ApiBytes;
use super::views::{GcRequest, GcResult};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

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
    let req: GcRequest = if body.iter().all(u8::is_ascii_whitespace) {
        GcRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::invalid(format!("request body: {e}")))?
    };
    let grace = match req.grace.as_deref() {
        None => state.config.gc_grace,
        Some(s) => {
            humantime::parse_duration(s).map_err(|e| Error::invalid(format!("grace {s:?}: {e}")))?
        }
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
