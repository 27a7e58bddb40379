//! How the project sends email: a [`Mailer`] that either speaks SMTP or, in development
//! without an SMTP server, keeps each message in the database for `/dev/mailbox`; and the
//! [`Outbox`] for notices that must outlive a mail outage; the shell every email shares and the
//! [`Brand`] that signs the app's own.
//!
//! A message body carries a one-time code, so no mailer logs a body or puts it in an error.

pub mod brand;
pub mod dev_mailbox;
pub mod outbox;
pub mod smtp;
pub mod template;

use crate::domain::EmailAddress;

pub use brand::Brand;
pub use dev_mailbox::{DevMailbox, StoredEmail};
pub use outbox::Outbox;
pub use smtp::SmtpMailer;

/// An email ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub to: EmailAddress,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Delivers an email, wherever email goes in this configuration.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()>;
}
