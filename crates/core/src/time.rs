//! Timestamps as stored in the database (unix milliseconds) and rendered on the wire.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, in milliseconds since the unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self(i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
    }

    /// This time minus a duration, saturating.
    #[must_use]
    pub fn minus(self, d: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// This time plus a duration, saturating.
    #[must_use]
    pub fn plus(self, d: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// As a `SystemTime`, for HTTP dates.
    #[must_use]
    pub fn system_time(self) -> std::time::SystemTime {
        let millis = u64::try_from(self.0).unwrap_or(0);
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis)
    }

    /// RFC 3339 in UTC to the second, always `YYYY-MM-DDTHH:MM:SSZ` (cargo's `pubtime`).
    #[must_use]
    pub fn rfc3339_seconds(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000))
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
                .ok()
            })
            .unwrap_or_default()
    }

    /// RFC 3339 in UTC with millisecond precision (none when it is zero), as the JSON API
    /// shows it.
    #[must_use]
    pub fn rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn seconds_precision_is_the_same_shape_on_whole_seconds() {
        assert_eq!(
            Timestamp(1_700_000_000_000).rfc3339_seconds(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            Timestamp(1_700_000_000_123).rfc3339_seconds(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            Timestamp(1_700_000_000_123).rfc3339(),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
