//! The Rust client of the challenge service: the twin of the hosted service's server library.
//! One trait, two adapters: over HTTP (any instance, the hosted one included) and in-process
//! (the embedded engine, no network). In development a recording wrapper around either one
//! notes each call for the developer notes panel.

pub mod dev_notes;
mod http;
mod in_process;
mod recording;

use async_trait::async_trait;

pub use self::http::{HttpClient, HttpClientConfig};
pub use self::in_process::InProcessClient;
pub use self::recording::RecordingClient;
use crate::challenges::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};

/// What a call can fail with: one variant per `@error/...` tag of the API, then the failures of
/// getting an answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the API key was refused for this tenancy")]
    Forbidden,
    #[error("no pending challenge has this id")]
    NotFound,
    #[error("rate limited: retry after {retry_after_seconds} seconds")]
    ChallengeRateLimited { retry_after_seconds: u64 },
    #[error("the challenge is unknown, used, or its secret does not match")]
    InvalidChallenge,
    #[error("the code is wrong")]
    InvalidChallengeCode,
    #[error("the challenge has expired")]
    ChallengeExpired,
    #[error("too many wrong codes for this challenge")]
    ChallengeAttemptsExceeded,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The service failed on its side (a 5xx, or the embedded engine's storage or mailer).
    #[error("the challenge service failed: {0}")]
    Service(String),
    /// No answer: connection refused, timed out, TLS failed.
    #[error("could not reach the challenge service: {0}")]
    Transport(String),
    /// An answer that is not one the API defines. Only its status and `_tag` are kept, never its
    /// body: errors get logged, and a create's body holds the secret and the code.
    #[error(
        "unexpected answer from the challenge service (HTTP {status}, _tag {}): check that the endpoint is a mailbox challenge API",
        .tag.as_deref().unwrap_or("missing")
    )]
    UnexpectedResponse { status: u16, tag: Option<String> },
}

#[async_trait]
pub trait ChallengeClient: Send + Sync + 'static {
    /// Starts a challenge; the result holds the secret (keep it server-side) and the code.
    async fn create(&self, request: &NewChallenge) -> Result<CreatedChallenge, ClientError>;

    /// Reads a pending challenge without its secret or code, to restore a flow.
    async fn get(&self, id: &ChallengeId) -> Result<Challenge, ClientError>;

    /// Checks a code; on success the challenge is used up and its readable part returned, for
    /// the caller to check purpose, email and user against what it expected.
    async fn verify(&self, id: &ChallengeId, secret: &Secret, code: &Code) -> Result<Challenge, ClientError>;

    /// Deletes a challenge; succeeds whether or not it existed.
    async fn delete(&self, id: &ChallengeId) -> Result<(), ClientError>;
}
