//! Assembles the application: health and metrics, the management API and its docs, every
//! format under `/{format}`, seed APIs at their roots (and at `/` for `compat.root`), and the
//! middleware stack (request id, tracing, failure logging, metrics, timeout, panic guard).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderName, StatusCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;
use wharf_core::Error;

use crate::api;
use crate::error::{ApiError, LoggedFailure};
use crate::seed::Components;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole router for `components`.
pub fn build_router(state: AppState, components: &Components) -> Router {
    crate::metrics::handle();
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::render))
        .nest("/api/v1", api::router());
    for format in &components.formats {
        app = app
            .nest(&format!("/{}", format.name()), format.routes())
            .merge(format.root_routes());
    }
    for seed in &components.seeds {
        app = app.merge(seed.routes());
        if state.config.compat_root.as_deref() == Some(seed.name()) {
            app = app.merge(seed.root_routes());
        }
    }
    app.merge(SwaggerUi::new("/docs").url("/openapi.json", api::document(&state.formats)))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_address,
        ))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn(log_failures))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let path = crate::redact::path(req.uri().path());
                    tracing::info_span!("request", id, method = %req.method(), path = %path)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError(Error::not_found("no such endpoint"))
}

/// Makes the client's address known to the request's handling ([`crate::logins::CLIENT`]):
/// the peer's, or the last entry of `server.client_address_header` behind a reverse proxy.
async fn client_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let forwarded = state
        .config
        .client_address_header
        .as_deref()
        .and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    match forwarded.or(peer) {
        Some(address) => {
            crate::logins::CLIENT
                .scope(address, next.run(request))
                .await
        }
        None => next.run(request).await,
    }
}

/// Logs, once, the internal failures that handlers attached to their responses.
async fn log_failures(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(LoggedFailure(detail)) = response.extensions().get::<LoggedFailure>() {
        tracing::error!(status = response.status().as_u16(), error = %detail, "request failed");
    }
    response
}

/// `GET /readyz`: 200 when the database and the storage answer, else 503.
async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.store.ping().await;
    let storage = state.blobs.ping().await;
    let status = if database.is_ok() && storage.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |r: &Result<(), Error>| if r.is_ok() { "ok" } else { "unavailable" };
    (
        status,
        Json(serde_json::json!({
            "database": word(&database),
            "storage": word(&storage),
        })),
    )
        .into_response()
}
