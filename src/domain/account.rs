//! Who an account is: a random UUID (also the WebAuthn user handle, never the email) and the
//! name its holder chose.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{InvalidInput, without_format_characters};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(uuid::Uuid);

impl AccountId {
    /// A version-4 UUID straight from the CSPRNG.
    pub fn random() -> Self {
        Self(uuid::Builder::from_random_bytes(rand::random()).into_uuid())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw).ok().map(Self)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl From<uuid::Uuid> for AccountId {
    fn from(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// What the account holder is called: 1–128 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct DisplayName(String);

impl TryFrom<String> for DisplayName {
    type Error = InvalidInput;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl DisplayName {
    /// Format characters are dropped first: nobody's name needs them, and they can hide or
    /// reorder what the name shows.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let visible = without_format_characters(raw);
        let name = visible.trim();
        if name.is_empty() {
            return Err(InvalidInput::new("Enter your name."));
        }
        if name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(InvalidInput::new("Your name must be at most 128 characters, on one line."));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
