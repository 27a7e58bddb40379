//! An email address: parsed once, kept as given for delivery and display, compared with ASCII
//! case folding.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::InvalidInput;

fn invalid(message: &str) -> InvalidInput {
    InvalidInput::new(message)
}

/// An email address as given (shown back and used for delivery), compared case-insensitively.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct EmailAddress(String);

impl TryFrom<String> for EmailAddress {
    type Error = InvalidInput;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(invalid("email is required"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(invalid("email must be at most 254 characters"));
        }
        // Control characters (CR/LF above all) would let an address inject mail headers.
        if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("email must not contain spaces or control characters"));
        }
        if email.contains(['<', '>', '"', ',', ';', '(', ')', '[', ']', '\\']) {
            return Err(invalid("email must be a plain address such as jane@example.com"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid("email must contain an @, such as jane@example.com"));
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid("email must have one @ with a name before it"));
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !labels_ok {
            return Err(invalid("email must end with a valid domain, such as example.com"));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for lookups, scoping and rate limits. Only ASCII letters are folded:
    /// Unicode case mapping would make lookalikes collide (the Kelvin sign `K` lowercases to
    /// `k`), letting `Kate@…` with a Kelvin sign reach kate@…'s account.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// `j***@example.com`: enough for a person to recognise their own mailbox.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rejects_header_injection_and_garbage() {
        for bad in [
            "",
            "no-at-sign",
            "a@b@c.com",
            "@example.com",
            "jane@",
            "jane@exa mple.com",
            "jane@example.com\r\nBcc: x@y.z",
            "Jane <jane@example.com>",
            "jane@-example.com",
            "jane@example..com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "accepted {bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn email_is_kept_as_given_and_compared_lowercase() {
        let email = EmailAddress::parse(" Jane.Doe@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Jane.Doe@Example.COM");
        assert_eq!(email.normalized(), "jane.doe@example.com");
        assert_eq!(email.masked(), "J***@Example.COM");
    }

    #[test]
    fn lookalikes_do_not_compare_equal() {
        let kelvin = EmailAddress::parse("\u{212A}ate@corp.example").unwrap();
        let ascii = EmailAddress::parse("Kate@corp.example").unwrap();
        assert_ne!(kelvin.normalized(), ascii.normalized());
    }
}
