//! A notice is sent only if the change it reports committed, and then exactly once, also with
//! two instances sending at the same moment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailbox::domain::EmailAddress;
use mailbox::mail::{Mailer, Outbox, OutgoingEmail};

use super::Fixture;
use crate::support::postgres::Backend;

storage_contract!(
    a_notice_of_a_rolled_back_change_is_never_sent,
    a_committed_notice_is_sent_exactly_once,
    two_instances_sending_at_once_deliver_each_notice_exactly_once,
);

/// Records the subject of each email it delivers, taking a few milliseconds per email, so that
/// senders working at once overlap.
#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Mailer for Recorder {
    async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(3)).await;
        self.delivered.lock().unwrap().push(email.subject.clone());
        Ok(())
    }
}

impl Recorder {
    fn delivered(&self) -> Vec<String> {
        let mut delivered = self.delivered.lock().unwrap().clone();
        delivered.sort();
        delivered
    }
}

fn notice(n: usize) -> OutgoingEmail {
    OutgoingEmail {
        to: EmailAddress::parse("owner@example.com").unwrap(),
        subject: format!("notice {n:02}"),
        html: "<p>Your account changed.</p>".into(),
        text: "Your account changed.".into(),
    }
}

async fn a_notice_of_a_rolled_back_change_is_never_sent(backend: Backend) {
    let f = Fixture::new(backend).await;
    let recorder = Arc::new(Recorder::default());
    let outbox = Outbox::new(f.db.clone(), recorder.clone(), f.clock.clone());
    let mut change = outbox.begin().await.unwrap();
    change.queue(&notice(1)).await.unwrap();

    drop(change);

    assert_eq!(outbox.send_due().await.unwrap(), 0);
    assert_eq!(f.db.scalar("SELECT COUNT(*) FROM outbox").await.unwrap(), 0);
    assert!(recorder.delivered().is_empty());
}

async fn a_committed_notice_is_sent_exactly_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let recorder = Arc::new(Recorder::default());
    let outbox = Outbox::new(f.db.clone(), recorder.clone(), f.clock.clone());
    let mut change = outbox.begin().await.unwrap();
    change.queue(&notice(1)).await.unwrap();

    change.commit().await.unwrap();

    assert_eq!(outbox.send_due().await.unwrap(), 1);
    assert_eq!(outbox.send_due().await.unwrap(), 0);
    // Nor once its claim has run out.
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(outbox.send_due().await.unwrap(), 0);
    assert_eq!(recorder.delivered(), [notice(1).subject]);
}

async fn two_instances_sending_at_once_deliver_each_notice_exactly_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let recorder = Arc::new(Recorder::default());
    let instances =
        [f.db.clone(), f.another_instance().await].map(|db| Outbox::new(db, recorder.clone(), f.clock.clone()));
    let mut change = instances[0].begin().await.unwrap();
    for n in 0..30 {
        change.queue(&notice(n)).await.unwrap();
    }
    change.commit().await.unwrap();

    // Three senders per instance, each sending until it finds nothing left to claim.
    let senders: Vec<_> = instances
        .iter()
        .cycle()
        .take(6)
        .map(|outbox| {
            let outbox = outbox.clone();
            tokio::spawn(async move { while outbox.send_due().await.unwrap() > 0 {} })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }

    assert_eq!(recorder.delivered(), (0..30).map(|n| notice(n).subject).collect::<Vec<_>>());
    assert_eq!(f.db.scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").await.unwrap(), 30);
}
