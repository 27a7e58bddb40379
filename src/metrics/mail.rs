//! Emails sent and failed, counted around whichever mailer this configuration uses, so that
//! every sender (codes, notices, the outbox's retries) is counted in one place.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use crate::mail::{Mailer, OutgoingEmail};

#[derive(Clone, Default)]
pub struct MailMetrics {
    sent: Counter,
    failed: Counter,
}

impl MailMetrics {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register("emails_sent", "Emails the mail server (or the development mailbox) took", self.sent.clone());
        registry.register("emails_failed", "Attempts to send an email that failed", self.failed.clone());
    }
}

/// A mailer that counts what the one inside it sent and failed to send.
pub struct CountedMailer {
    inner: Arc<dyn Mailer>,
    metrics: MailMetrics,
}

impl CountedMailer {
    pub fn new(inner: Arc<dyn Mailer>, metrics: MailMetrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait::async_trait]
impl Mailer for CountedMailer {
    async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let sent = self.inner.send(email).await;
        match &sent {
            Ok(()) => self.metrics.sent.inc(),
            Err(_) => self.metrics.failed.inc(),
        };
        sent
    }
}
