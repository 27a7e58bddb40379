//! Sends mail through an SMTP server named by `SMTP_URL` (`smtp://host:port`,
//! `smtps://user:pass@host`, or `smtp://host?tls=required`), over a pool of connections.
//!
//! The URL may hold a password, so it never appears in an error or a log line, and neither does
//! a message body (it carries a one-time code).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Mailer, OutgoingEmail};
use crate::domain::EmailAddress;

/// How long one delivery may take, connecting included. lettre bounds only the TCP connect, so
/// without this a server that accepts and then stalls would hold the request forever. Shorter than
/// the 10 s the challenge client waits by default, so that a create whose mail stalls is answered
/// (and its unsent challenge deleted) before the client gives up; a relay answers in well under 1 s.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Delivers through SMTP, reusing connections between messages.
#[derive(Clone)]
pub struct SmtpMailer {
    /// Builds a fresh transport, with a pool of its own, when a send timed out.
    builder: AsyncSmtpTransportBuilder,
    transport: Arc<Mutex<AsyncSmtpTransport<Tokio1Executor>>>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `url` sending as `from`.
    ///
    /// Must be called inside a Tokio runtime: lettre's pool spawns its upkeep task when built.
    pub fn new(url: &str, from: Mailbox) -> anyhow::Result<Self> {
        // Checked here because lettre would panic outside a runtime.
        tokio::runtime::Handle::try_current().context("the SMTP mailer must be created inside the Tokio runtime")?;
        // The error names the expected forms but not the URL: it may contain a password.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("SMTP_URL is not usable: expected smtp://host:port or smtps://user:pass@host")?
            .timeout(Some(SEND_TIMEOUT));
        let transport = Arc::new(Mutex::new(builder.clone().build()));
        Ok(Self { builder, transport, from })
    }

    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        self.transport.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Drops the pool a timed-out send used. lettre returns a connection whose send was cut off
    /// to its pool as if it were healthy, in the middle of a message: the next send would reuse
    /// it, stall (or read an answer meant for the previous one), and every later send with it.
    fn replace_pool(&self) {
        let fresh = self.builder.clone().build();
        *self.transport.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
    }

    fn message(&self, email: &OutgoingEmail) -> anyhow::Result<Message> {
        Message::builder()
            .from(self.from.clone())
            .to(recipient(&email.to)?)
            .subject(email.subject.as_str())
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .context("could not build the email message")
    }
}

/// The validated address as lettre's mailbox; its `Debug` masks the address in the error.
fn recipient(to: &EmailAddress) -> anyhow::Result<Mailbox> {
    let address = to
        .as_str()
        .parse::<Address>()
        .with_context(|| format!("the recipient {to:?} is not an address SMTP can deliver to"))?;
    Ok(Mailbox::new(None, address))
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let message = self.message(email)?;
        let Ok(sent) = tokio::time::timeout(SEND_TIMEOUT, self.transport().send(message)).await else {
            self.replace_pool();
            anyhow::bail!("the SMTP server did not answer within {SEND_TIMEOUT:?}");
        };
        sent.with_context(|| format!("the SMTP server did not accept the email to {:?}", email.to))?;
        tracing::debug!(to = ?email.to, "email sent over SMTP");
        Ok(())
    }
}

/// Shows the sender only: the transport's settings hold the server's credentials.
impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}
