//! How often a package was downloaded: totals, per version, and per day.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_core::Error;
use wharf_core::model::Scope;
use wharf_core::time::Timestamp;

use super::Caller;
use super::extract::{ApiPath, ApiQuery};
use super::packages::{package, repository};
use crate::downloads::{date_of, day_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The period of a downloads query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Days back from today, today included (default 30, at most 3660).
    #[param(minimum = 1, maximum = 3660)]
    pub days: Option<u32>,
}

/// A package's downloads over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadsView {
    /// The package.
    pub package: String,
    /// Days counted, today included.
    pub days: u32,
    /// Downloads in the period.
    pub total: u64,
    /// Downloads in the period per version.
    pub versions: BTreeMap<String, u64>,
    /// One entry per day, oldest first, days without downloads included.
    pub daily: Vec<DayCount>,
}

/// Downloads on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Downloads that day.
    pub count: u64,
}

/// Shows a package's downloads (whole-file `GET`s of its files through any protocol, counted
/// per version and UTC day).
#[utoipa::path(get, path = "/api/v1/repositories/{format}/{repo}/packages/{package}/downloads", tag = "packages",
    params(("format" = String, Path), ("repo" = String, Path), ("package" = String, Path), DaysQuery),
    responses((status = 200, body = DownloadsView), (status = 404, body = ErrorBody)))]
pub async fn get_downloads(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((format, repo, name)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<DaysQuery>,
) -> Result<Json<DownloadsView>, ApiError> {
    let repo = repository(&state, caller.as_ref(), &format, &repo, Scope::Read).await?;
    let package = package(&state, &repo, &name).await?;
    let days = query.days.unwrap_or(30);
    if !(1..=3660).contains(&days) {
        return Err(Error::invalid(format!("days {days}: 1 to 3660")).into());
    }
    let today = day_of(Timestamp::now());
    let first = today - i64::from(days) + 1;
    let counts = state.store.downloads(package.id, first).await?;
    let mut per_day = vec![0u64; days as usize];
    let mut versions = BTreeMap::new();
    for c in &counts {
        if let Some(slot) = usize::try_from(c.day - first)
            .ok()
            .and_then(|i| per_day.get_mut(i))
        {
            *slot += c.count;
        }
        *versions.entry(c.version.clone()).or_default() += c.count;
    }
    Ok(Json(DownloadsView {
        package: package.name,
        days,
        total: per_day.iter().sum(),
        versions,
        daily: (first..=today)
            .zip(per_day)
            .map(|(day, count)| DayCount {
                date: date_of(day),
                count,
            })
            .collect(),
    }))
}
