//! Sends mail through an SMTP server named by `SMTP_URL` (`smtp://host:port`,
//! `smtps://user:pass@host`, or `smtp://host?tls=required`), over a pool of connections.
//!
//! The URL may hold a password, so it never appears in an error or a log line, and neither does
//! a message body (it carries a one-time code).

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Mailer, OutgoingEmail};
use crate::domain::EmailAddress;

/// How long one delivery may take, connecting included. lettre bounds only the TCP connect, so
/// without this a server that accepts and then stalls would hold the request forever.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Delivers through SMTP, reusing connections between messages.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
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
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("SMTP_URL is not usable: expected smtp://host:port or smtps://user:pass@host")?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Self { transport, from })
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
        tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message))
            .await
            .map_err(|_| anyhow::anyhow!("the SMTP server did not answer within {SEND_TIMEOUT:?}"))?
            .with_context(|| format!("the SMTP server did not accept the email to {:?}", email.to))?;
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
