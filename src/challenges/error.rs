//! Everything a challenge call can answer besides success, one variant per wire tag.

use super::wire::ErrorTag;

#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    #[error("The API key is missing or wrong for this tenancy. Send `Authorization: Bearer <apiKey>`.")]
    Forbidden,
    #[error("No pending challenge has this id. It may have been verified, deleted or purged; start a new one.")]
    NotFound,
    #[error("Too many challenges for this email. Try again in {retry_after_seconds} seconds.")]
    RateLimited { retry_after_seconds: u64 },
    #[error("This challenge is unknown, already used, or the secret does not match. Start a new one.")]
    InvalidChallenge,
    #[error("The code is wrong. Check the latest email and try again.")]
    InvalidChallengeCode,
    #[error("The code has expired. Ask for a new one.")]
    ChallengeExpired,
    #[error("Too many wrong codes for this challenge. Start again to get a new code.")]
    ChallengeAttemptsExceeded,
    #[error("{0}")]
    BadRequest(String),
    #[error("The request body is larger than 16 KiB.")]
    BodyTooLarge,
    #[error("could not send the email")]
    Mail(#[source] anyhow::Error),
    #[error("storage failed")]
    Storage(#[from] sqlx::Error),
}

impl ChallengeError {
    /// The `_tag` of the wire error; `None` for failures of the service itself.
    pub fn tag(&self) -> Option<ErrorTag> {
        Some(match self {
            Self::Forbidden => ErrorTag::Forbidden,
            Self::NotFound => ErrorTag::NotFound,
            Self::RateLimited { .. } => ErrorTag::ChallengeRateLimited,
            Self::InvalidChallenge => ErrorTag::InvalidChallenge,
            Self::InvalidChallengeCode => ErrorTag::InvalidChallengeCode,
            Self::ChallengeExpired => ErrorTag::ChallengeExpired,
            Self::ChallengeAttemptsExceeded => ErrorTag::ChallengeAttemptsExceeded,
            Self::BadRequest(_) | Self::BodyTooLarge => ErrorTag::BadRequest,
            Self::Mail(_) | Self::Storage(_) => return None,
        })
    }
}
