//! The challenge's vocabulary: each value that can be wrong has a type that parses it once.
//! Inside the crate, a value of one of these types is known to be valid.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Why a value was refused, phrased for the person or client who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

fn invalid(message: impl Into<String>) -> InvalidInput {
    InvalidInput(message.into())
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

/// What a challenge is for, chosen by the application: 1–64 of `A-Z a-z 0-9 . _ : -`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Purpose(String);

impl TryFrom<String> for Purpose {
    type Error = InvalidInput;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl Purpose {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let valid_chars = raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if raw.is_empty() || raw.len() > 64 || !valid_chars {
            return Err(invalid("purpose must be 1-64 characters of A-Z a-z 0-9 . _ : - (for example \"signup\")"));
        }
        Ok(Self(raw.to_owned()))
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

/// Parses an optional free-text field with a length cap and no control characters.
fn bounded_text(field: &str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    if raw.chars().count() > max {
        return Err(invalid(format!("{field} must be at most {max} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(format!("{field} must not contain control characters")));
    }
    Ok(raw.to_owned())
}

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
            return Err(invalid("userId must not be empty; leave it out instead"));
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
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        bounded_text("name", name, 128).map(|n| Some(Self(n)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
                    return Err(invalid("metadata must be at most 4 KiB when serialized"));
                }
                Self::from_stored(Some(text)).map_err(|_| invalid("metadata must be a JSON object or null"))
            }
            _ => Err(invalid("metadata must be a JSON object or null, not an array or a scalar")),
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

/// A value that must never be printed: `Debug` shows `***`.
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: String) -> Self {
                Self(value)
            }

            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    };
}

secret_string!(
    /// Kept by the application server-side and sent back at verification.
    Secret
);
secret_string!(
    /// The one-time code the person reads from their mailbox.
    Code
);

/// Identifies a challenge; URL-safe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChallengeId(String);

impl ChallengeId {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChallengeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the caller asks for when creating a challenge.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    pub email: EmailAddress,
    pub purpose: Purpose,
    pub name: Option<RecipientName>,
    pub user_id: Option<UserId>,
    pub metadata: Metadata,
    pub invalidate_others: bool,
    pub skip_rate_limit: bool,
    pub send_email: bool,
}

impl NewChallenge {
    /// A challenge with the service's defaults: no name, user, metadata or invalidation; the
    /// service sends the email.
    pub fn new(email: EmailAddress, purpose: Purpose) -> Self {
        Self {
            email,
            purpose,
            name: None,
            user_id: None,
            metadata: Metadata::default(),
            invalidate_others: false,
            skip_rate_limit: false,
            send_email: true,
        }
    }
}

/// The readable part of a challenge: never its secret or code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    pub challenge_id: ChallengeId,
    pub purpose: Purpose,
    pub email: EmailAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub expires_at: i64,
    #[serde(default)]
    pub metadata: Metadata,
}

/// A rendered email, ready for any mailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What create returns: the readable challenge plus what only its creator may see.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedChallenge {
    #[serde(flatten)]
    pub challenge: Challenge,
    pub secret: Secret,
    pub code: Code,
    pub message: Message,
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
    fn secrets_never_print() {
        let secret = Secret::new("ABC123def-GHI456jkl-MNO789pqr".into());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Code::new("123456".into())), "Code(***)");
    }
}
