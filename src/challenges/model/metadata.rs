//! Application data carried by a challenge, returned exactly as it was sent.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::InvalidInput;

/// Application data carried by a challenge: a JSON object or nothing. The object is kept as the
/// text it came in, so its key order and number spelling come back unchanged (a parsed
/// `serde_json::Value` would sort the keys and respell `2.50` as `2.5`).
#[derive(Debug, Clone, Default)]
pub struct Metadata(Option<Box<RawValue>>);

impl Metadata {
    pub const MAX_BYTES: usize = 4096;

    /// Accepts a JSON object or `null`; anything else names what was expected.
    pub fn from_raw(raw: Option<Box<RawValue>>) -> Result<Self, InvalidInput> {
        let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
            return Ok(Self(None));
        };
        if !raw.get().starts_with('{') {
            return Err(InvalidInput::new("metadata must be a JSON object or null, not an array or a scalar"));
        }
        if raw.get().len() > Self::MAX_BYTES {
            return Err(InvalidInput::new("metadata must be at most 4 KiB when serialized"));
        }
        Ok(Self(Some(raw)))
    }

    /// Metadata from its JSON text, kept as written.
    pub fn from_json_text(text: &str) -> Result<Self, InvalidInput> {
        let raw = RawValue::from_string(text.to_owned())
            .map_err(|_| InvalidInput::new("metadata must be a JSON object or null"))?;
        Self::from_raw(Some(raw))
    }

    /// Metadata from a parsed value, whose keys are already sorted.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, InvalidInput> {
        Self::from_json_text(&value.to_string())
    }

    pub fn as_json_text(&self) -> Option<&str> {
        self.0.as_deref().map(RawValue::get)
    }
}

impl Serialize for Metadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Straight from serde_json only: a `RawValue` cannot be read through `#[serde(flatten)]`.
impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_raw(Option::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Metadata {
    fn schema() -> RefOr<Schema> {
        let description = format!(
            "Application data: a JSON object of at most {} bytes as sent, or null. It comes back exactly as sent, \
             key order and number spelling included.",
            Self::MAX_BYTES
        );
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
            .description(Some(description))
            .into()
    }
}

impl ToSchema for Metadata {}

/// Equal when they hold the same JSON, however it is spelled.
impl PartialEq for Metadata {
    fn eq(&self, other: &Self) -> bool {
        let parse = |m: &Self| m.as_json_text().map(|t| serde_json::from_str::<serde_json::Value>(t).ok());
        parse(self) == parse(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_must_be_a_small_object_or_null() {
        use serde_json::json;
        assert!(Metadata::from_json(&json!(null)).unwrap().as_json_text().is_none());
        assert!(Metadata::from_json(&json!({"a": 1})).is_ok());
        assert!(Metadata::from_json(&json!([1, 2])).is_err());
        assert!(Metadata::from_json(&json!("text")).is_err());
        let big = json!({ "k": "v".repeat(4100) });
        assert!(Metadata::from_json(&big).is_err());
    }

    #[test]
    fn metadata_round_trip_keeps_the_text_as_written() {
        let text = r#"{"z":1,"a":2.50,"n":{"y":true,"b":1e2}}"#;
        let metadata: Metadata = serde_json::from_str(text).unwrap();
        assert_eq!(metadata.as_json_text(), Some(text));
        assert_eq!(serde_json::to_string(&metadata).unwrap(), text);
        assert_eq!(Metadata::from_json_text(text).unwrap().as_json_text(), Some(text));
    }
}
