//! Application data carried by a challenge, returned as it was stored.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::InvalidInput;

/// Application data carried by a challenge: a JSON object (kept as its serialized text) or nothing.
#[derive(Debug, Clone, Default)]
pub struct Metadata(Option<Box<RawValue>>);

impl Metadata {
    pub const MAX_BYTES: usize = 4096;

    /// Accepts a JSON object or `null`; anything else names what was expected.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, InvalidInput> {
        match value {
            serde_json::Value::Null => Ok(Self(None)),
            serde_json::Value::Object(_) => {
                let text = value.to_string();
                if text.len() > Self::MAX_BYTES {
                    return Err(InvalidInput::new("metadata must be at most 4 KiB when serialized"));
                }
                Self::from_stored(Some(text)).map_err(|_| InvalidInput::new("metadata must be a JSON object or null"))
            }
            _ => Err(InvalidInput::new("metadata must be a JSON object or null, not an array or a scalar")),
        }
    }

    /// Rebuilds metadata from the text this crate stored itself.
    pub fn from_stored(text: Option<String>) -> Result<Self, serde_json::Error> {
        text.map(RawValue::from_string).transpose().map(Self)
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

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::from_json(&value).map_err(serde::de::Error::custom)
    }
}

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
}
