//! Who a challenge is for besides the address: the application's user id and the name the
//! message greets.

use serde::{Deserialize, Serialize};

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
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.is_empty() {
            return Err(InvalidInput::new("userId must not be empty; leave it out instead"));
        }
        bounded_text("userId", raw, 128).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The recipient's name, used in the greeting of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientName(String);

impl RecipientName {
    /// Format characters are dropped: they could hide or reorder what the greeting shows.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        let visible = without_format_characters(raw);
        let name = visible.trim();
        if name.is_empty() {
            return Ok(None);
        }
        bounded_text("name", name, 128).map(|n| Some(Self(n)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
