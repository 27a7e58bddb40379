//! How the project sends email: a [`Mailer`] that either speaks SMTP or, in development
//! without an SMTP server, keeps each message in the database for `/dev/mailbox`.
//!
//! A message body carries a one-time code, so no mailer logs a body or puts it in an error.

pub mod dev_mailbox;
pub mod smtp;
pub mod template;

use std::sync::Arc;

use crate::challenges::model::EmailAddress;
use crate::clock::Clock;
use crate::db::Database;
use crate::settings::Settings;

pub use dev_mailbox::{DevMailbox, StoredEmail};
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

/// SMTP when `settings.smtp_url` is set, otherwise the development mailbox.
///
/// Must be called inside a Tokio runtime: the SMTP connection pool starts its upkeep task here.
pub fn from_settings(settings: &Settings, db: &Database, clock: &Clock) -> anyhow::Result<Arc<dyn Mailer>> {
    match &settings.smtp_url {
        Some(url) => Ok(Arc::new(SmtpMailer::new(url.expose(), settings.mail_from.clone())?)),
        None => Ok(Arc::new(DevMailbox::new(db.clone(), clock.clone()))),
    }
}
