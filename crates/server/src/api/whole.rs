//! Whole numbers as JSON Schema counts them: `158` and `158.0` are the same integer, so the
//! API takes both (serde alone refuses the second for an integer field).

use serde::{Deserialize, Deserializer};

/// An optional whole number that fits `T`, written with or without a zero fraction.
pub(crate) fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        let text = number.to_string();
        let (integer, fraction) = text.split_once('.')?;
        fraction
            .bytes()
            .all(|b| b == b'0')
            .then(|| integer.parse().ok())
            .flatten()
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{number} is not a whole number in range")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Limit {
        #[serde(default, deserialize_with = "super::option")]
        n: Option<u32>,
    }

    fn parse(text: &str) -> Result<Option<u32>, serde_json::Error> {
        serde_json::from_str::<Limit>(text).map(|l| l.n)
    }

    #[test]
    fn whole_numbers_with_or_without_a_zero_fraction() {
        assert_eq!(parse(r#"{"n": 158}"#).unwrap(), Some(158));
        assert_eq!(parse(r#"{"n": 158.0}"#).unwrap(), Some(158));
        assert_eq!(parse(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(parse("{}").unwrap(), None);
        for bad in ["158.5", "-1", "1e20", "4294967296", "\"7\""] {
            assert!(parse(&format!(r#"{{"n": {bad}}}"#)).is_err(), "{bad}");
        }
    }
}
