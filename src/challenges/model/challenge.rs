//! A challenge as the service and its clients see it: its id, what creating one asks for and
//! returns, and the secret and code that only its creator may see.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Metadata, Purpose, RecipientName, UserId};
use crate::domain::{EmailAddress, SecretString};
use crate::mail::OutgoingEmail;

/// Kept by the application server-side and sent back at verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(SecretString::new(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// The one-time code the person reads from their mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct Code(SecretString);

impl Code {
    pub fn new(value: String) -> Self {
        Self(SecretString::new(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// Identifies a challenge; URL-safe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
    /// Always written, as `null` when there is none.
    #[serde(default)]
    #[schema(required = true)]
    pub metadata: Metadata,
}

/// A rendered email, ready for any mailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl Message {
    pub fn addressed_to(self, to: EmailAddress) -> OutgoingEmail {
        OutgoingEmail { to, subject: self.subject, html: self.html, text: self.text }
    }
}

/// What create returns: the readable challenge plus what only its creator may see. Written
/// flat; read back by the client part by part (see `client/http.rs`), as its metadata cannot
/// pass through `#[serde(flatten)]`.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    fn secrets_never_print() {
        let secret = Secret::new("ABC123def-GHI456jkl-MNO789pqr".into());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Code::new("123456".into())), "Code(***)");
    }
}
