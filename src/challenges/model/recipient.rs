//! Who a challenge is for besides the address: the application's user id and the name the
//! message greets.

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{InvalidInput, bounded_text, without_format_characters};

/// The application's own id for the person, used to scope `invalidateOthers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct UserId(String);

impl TryFrom<String> for UserId {
    type Error = InvalidInput;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.is_empty() {
            return Err(InvalidInput::new("userId must not be empty; leave it out instead"));
        }
        bounded_text("userId", raw, Self::MAX_LEN).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialSchema for UserId {
    fn schema() -> RefOr<Schema> {
        text_without_controls(1, Self::MAX_LEN)
            .description(Some("The application's own id for the person; `invalidateOthers` is scoped by it."))
            .into()
    }
}

impl ToSchema for UserId {}

/// The recipient's name, used in the greeting of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientName(String);

impl RecipientName {
    pub const MAX_LEN: usize = 128;

    /// Format characters are dropped: they could hide or reorder what the greeting shows.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        let visible = without_format_characters(raw);
        let name = visible.trim();
        if name.is_empty() {
            return Ok(None);
        }
        bounded_text("name", name, Self::MAX_LEN).map(|n| Some(Self(n)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialSchema for RecipientName {
    fn schema() -> RefOr<Schema> {
        text_without_controls(0, Self::MAX_LEN)
            .description(Some(
                "The name the message greets. Unicode format characters are dropped and a blank name means none.",
            ))
            .into()
    }
}

impl ToSchema for RecipientName {}

/// What `char::is_control` refuses (Unicode's category Cc), as ranges.
const CONTROL_CHARACTERS: [(char, char); 2] = [('\u{0}', '\u{1f}'), ('\u{7f}', '\u{9f}')];

/// A string of `min..=max` characters, none of them a control character, as `bounded_text` checks.
fn text_without_controls(min: usize, max: usize) -> ObjectBuilder {
    let class: String =
        CONTROL_CHARACTERS.iter().map(|&(from, to)| format!("\\u{:04x}-\\u{:04x}", from as u32, to as u32)).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min).filter(|&min| min > 0))
        .max_length(Some(max))
        .pattern(Some(format!("^[^{class}]*$")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_control_ranges_are_exactly_the_refused_characters() {
        let in_ranges = |c: char| CONTROL_CHARACTERS.iter().any(|&(from, to)| (from..=to).contains(&c));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(c.is_control(), in_ranges(c), "{c:?}");
        }
    }
}
