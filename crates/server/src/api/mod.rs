//! The JSON management API under `/api/v1`, described by the OpenAPI document at
//! `/openapi.json` (browsable at `/docs`). Errors use [`crate::error::ErrorBody`].

mod caller;
mod downloads;
mod extract;
mod openapi;
mod packages;
mod repositories;
mod system;
mod users;
mod views;
mod whole;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use http::StatusCode;

pub use caller::Caller;
pub use openapi::{ApiDoc, document};

use crate::error::{ErrorBody, ErrorDetail};
use crate::state::AppState;

/// The `/api/v1` routes.
pub fn router() -> Router<AppState> {
    let repo = "/repositories/{format}/{repo}";
    Router::new()
        .route(
            "/repositories",
            get(repositories::list_repositories).post(repositories::create_repository),
        )
        .route(
            repo,
            get(repositories::get_repository)
                .patch(repositories::update_repository)
                .delete(repositories::delete_repository),
        )
        .route(&format!("{repo}/packages"), get(packages::list_packages))
        .route(
            &format!("{repo}/packages/{{package}}"),
            get(packages::get_package).delete(packages::delete_package),
        )
        .route(
            &format!("{repo}/packages/{{package}}/downloads"),
            get(downloads::get_downloads),
        )
        .route(
            &format!("{repo}/packages/{{package}}/versions/{{version}}"),
            get(packages::get_version).delete(packages::delete_version),
        )
        .route(
            &format!("{repo}/packages/{{package}}/versions/{{version}}/yank"),
            axum::routing::put(packages::yank_version).delete(packages::unyank_version),
        )
        .route(
            &format!("{repo}/packages/{{package}}/versions/{{version}}/files/{{file}}"),
            delete(packages::delete_file),
        )
        .route("/whoami", get(users::whoami))
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{name}", delete(users::delete_user))
        .route("/tokens", get(users::list_tokens).post(users::create_token))
        .route("/tokens/{id}", delete(users::delete_token))
        .route("/gc", axum::routing::post(system::run_gc))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(
            usize::try_from(extract::JSON_LIMIT).unwrap_or(usize::MAX),
        ))
}

/// 405 in the API's error shape.
async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(ErrorBody {
            error: ErrorDetail {
                code: "method_not_allowed",
                message: "this endpoint does not take that method".into(),
            },
        }),
    )
}
