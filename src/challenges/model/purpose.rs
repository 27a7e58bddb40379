//! What a challenge is for, chosen by the application.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

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
    if bytes.is_empty() || bytes.len() > 64 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-')) {
            return false;
        }
        i += 1;
    }
    true
}

fn refusal() -> InvalidInput {
    InvalidInput::new("purpose must be 1-64 characters of A-Z a-z 0-9 . _ : - (for example \"signup\")")
}

impl Purpose {
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
    fn a_constant_purpose_equals_the_parsed_one() {
        const LOGIN: Purpose = Purpose::from_static("login");
        assert_eq!(LOGIN, Purpose::parse("login").unwrap());
    }
}
