//! The JSON shapes of the REST API that both its server (`api.rs`) and its HTTP client
//! (`client/http.rs`) speak, so that each `_tag` is written once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The `_tag` of each successful answer.
pub mod tag {
    pub const CHALLENGE: &str = "Challenge";
    pub const CHALLENGE_CREATED: &str = "ChallengeCreated";
    pub const CHALLENGE_VERIFIED: &str = "ChallengeVerified";
    pub const CHALLENGE_DELETED: &str = "ChallengeDeleted";
}

/// The `_tag` of each error the API defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorTag {
    Forbidden,
    NotFound,
    ChallengeRateLimited,
    InvalidChallenge,
    InvalidChallengeCode,
    ChallengeExpired,
    ChallengeAttemptsExceeded,
    BadRequest,
}

impl ErrorTag {
    pub const ALL: [Self; 8] = [
        Self::Forbidden,
        Self::NotFound,
        Self::ChallengeRateLimited,
        Self::InvalidChallenge,
        Self::InvalidChallengeCode,
        Self::ChallengeExpired,
        Self::ChallengeAttemptsExceeded,
        Self::BadRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "@error/Forbidden",
            Self::NotFound => "@error/NotFound",
            Self::ChallengeRateLimited => "@error/ChallengeRateLimited",
            Self::InvalidChallenge => "@error/InvalidChallenge",
            Self::InvalidChallengeCode => "@error/InvalidChallengeCode",
            Self::ChallengeExpired => "@error/ChallengeExpired",
            Self::ChallengeAttemptsExceeded => "@error/ChallengeAttemptsExceeded",
            Self::BadRequest => "@error/BadRequest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tag| tag.as_str() == raw)
    }
}

/// `{"_tag": ..., ...inner}`: every answer's outer shape. Written only: a challenge's metadata
/// cannot be read through `#[serde(flatten)]`, so the client reads the tag on its own.
#[derive(Serialize)]
pub struct Tagged<T> {
    #[serde(rename = "_tag")]
    pub tag: &'static str,
    #[serde(flatten)]
    pub inner: T,
}

impl<T> Tagged<T> {
    pub fn new(tag: &'static str, inner: T) -> Self {
        Self { tag, inner }
    }
}

/// `{"challenge": ...}`, inside the tagged answers of create and verify.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Wrapped<T> {
    pub challenge: T,
}

/// An empty answer body besides its tag, as delete gives.
#[derive(Serialize, ToSchema)]
pub struct Nothing {}

/// An error answer: its tag, a message that says what to do, and for a rate limit the wait.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    #[serde(rename = "_tag")]
    pub tag: String,
    /// What happened and what to do, for a person to read.
    #[serde(default)]
    pub message: String,
    /// Seconds until a create for this email can succeed; equal to the `Retry-After` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u64)]
    pub retry_after_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_tag_parses_back() {
        for tag in ErrorTag::ALL {
            assert_eq!(ErrorTag::parse(tag.as_str()), Some(tag));
        }
        assert_eq!(ErrorTag::parse("@error/Nope"), None);
    }
}
