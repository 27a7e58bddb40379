//! Everything a challenge call can answer besides success, one variant per wire tag.

use super::wire::ErrorTag;

/// What `Retry-After` says when the database cannot take a request: long enough for a full disk
/// to be freed or a restarting server to answer, short enough for a client to wait for.
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

/// Whether `err` says the database cannot serve requests for now (its disk is full or
/// read-only, the file cannot be written, the server is unreachable, busy or shutting down),
/// rather than that a request or the code is wrong: the former is answered `503` with a
/// `Retry-After`, the latter `500`.
pub fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        // The SQLite writer reports a transaction it could not start or commit as `Protocol`
        // (the cause, such as a full disk, is logged by the writer).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Primary result codes: PERM, BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL,
                // CANTOPEN; the extended codes keep the primary one in their low byte.
                let code = db.code().and_then(|code| code.parse::<i32>().ok()).unwrap_or_default();
                matches!(code & 0xff, 3 | 5 | 6 | 7 | 8 | 10 | 13 | 14)
            } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                // Connection exceptions, read-only transaction, serialization and deadlock
                // failures, insufficient resources (disk full, too many connections), lock not
                // available, operator intervention (shutdown, cannot connect now).
                let code = pg.code();
                ["08", "53", "57"].iter().any(|class| code.starts_with(class))
                    || ["25006", "40001", "40P01", "55P03"].contains(&code)
            } else {
                false
            }
        }
        _ => false,
    }
}

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
    /// A failure of the database that should pass by itself: answered `503` with a `Retry-After`.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Storage(err) if database_unavailable(err))
    }
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
