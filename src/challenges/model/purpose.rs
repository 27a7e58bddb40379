//! What a challenge is for, chosen by the application.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::InvalidInput;

/// 1–64 of `A-Z a-z 0-9 . _ : -`, such as `signup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Purpose(Cow<'static, str>);

impl TryFrom<String> for Purpose {
    type Error = InvalidInput;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        if !is_valid(&raw) {
            return Err(refusal());
        }
        Ok(Self(Cow::Owned(raw)))
    }
}

const fn is_valid(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > Purpose::MAX_LEN {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphanumeric() || is_punctuation(bytes[i])) {
            return false;
        }
        i += 1;
    }
    true
}

const fn is_punctuation(c: u8) -> bool {
    let mut i = 0;
    let punctuation = Purpose::PUNCTUATION.as_bytes();
    while i < punctuation.len() {
        if punctuation[i] == c {
            return true;
        }
        i += 1;
    }
    false
}

/// The rule of [`is_valid`] as a regular expression, for the API's OpenAPI document.
fn pattern() -> String {
    format!("^[A-Za-z0-9{}]{{1,{}}}$", Purpose::PUNCTUATION, Purpose::MAX_LEN)
}

impl PartialSchema for Purpose {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .pattern(Some(pattern()))
            .description(Some("What the challenge is for, chosen by the application."))
            .examples(["signup"])
            .into()
    }
}

impl ToSchema for Purpose {}

fn refusal() -> InvalidInput {
    InvalidInput::new("purpose must be 1-64 characters of A-Z a-z 0-9 . _ : - (for example \"signup\")")
}

impl Purpose {
    pub const MAX_LEN: usize = 64;
    /// Allowed besides ASCII letters and digits; `-` last, so that a regex class reads it as itself.
    const PUNCTUATION: &str = "._:-";

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::try_from(raw.to_owned())
    }

    /// A purpose written in the code. Checked when the compiler evaluates it in a `const`, so
    /// a constant purpose can never fail at run time.
    pub const fn from_static(raw: &'static str) -> Self {
        assert!(is_valid(raw), "a purpose is 1-64 characters of A-Z a-z 0-9 . _ : -");
        Self(Cow::Borrowed(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_allows_only_its_alphabet() {
        for good in ["signup", "email-change", "a.b_c:d-e", &"x".repeat(64)] {
            assert!(Purpose::parse(good).is_ok(), "refused {good:?}");
        }
        for bad in ["", "sign up", "sign/up", "é", &"x".repeat(65)] {
            assert!(Purpose::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn the_pattern_is_the_parsers_rule() {
        assert_eq!(pattern(), "^[A-Za-z0-9._:-]{1,64}$");
    }

    #[test]
    fn a_constant_purpose_equals_the_parsed_one() {
        const LOGIN: Purpose = Purpose::from_static("login");
        assert_eq!(LOGIN, Purpose::parse("login").unwrap());
    }
}
