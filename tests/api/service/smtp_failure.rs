//! A create with `invalidateOthers` whose email cannot be sent must not cost the person the code
//! they already have: the failed create leaves nothing behind and invalidates nothing.

use mailbox::challenges::model::{CreatedChallenge, NewChallenge};
use mailbox::client::{ChallengeClient, ClientError};

use crate::support::security::challenges;
use crate::support::smtp_server::SmtpServer;
use crate::support::{Adapter, TestService, request};

/// A resend as the sample app's code pages make it, but sent by the service itself.
fn resend(email: &str) -> NewChallenge {
    NewChallenge { invalidate_others: true, send_email: true, ..request(email, "login") }
}

async fn assert_still_verifies(client: &dyn ChallengeClient, pending: &CreatedChallenge) {
    let verified = client.verify(&pending.challenge.challenge_id, &pending.secret, &pending.code).await;
    assert_eq!(
        verified.map(|c| c.challenge_id),
        Ok(pending.challenge.challenge_id.clone()),
        "the earlier code still works"
    );
}

#[tokio::test]
async fn smtp_failure_leaves_the_pending_code_valid() {
    let t = TestService::start(&[("SMTP_URL", &SmtpServer::unreachable_url())]).await;
    for (adapter, email) in [(Adapter::Http, "http@example.com"), (Adapter::InProcess, "in-process@example.com")] {
        let client = t.client(adapter);
        let pending = client.create(&request(email, "login")).await.unwrap();
        let before = challenges(&t.db).await;

        let failed = client.create(&resend(email)).await;

        assert!(matches!(failed, Err(ClientError::Service(_))), "{adapter:?}: {failed:?}");
        assert_eq!(challenges(&t.db).await, before, "{adapter:?}: the unsent challenge is deleted, the other kept");
        assert_still_verifies(client.as_ref(), &pending).await;
    }
}

#[tokio::test]
async fn smtp_failure_after_a_sent_code_leaves_it_valid() {
    let smtp = SmtpServer::start().await;
    let t = TestService::start(&[("SMTP_URL", &smtp.url())]).await;
    let (http, in_process) = (t.client(Adapter::Http), t.client(Adapter::InProcess));
    let first = http.create(&resend("jane@example.com")).await.unwrap();
    let sent = in_process.create(&resend("jane@example.com")).await.unwrap();
    assert_eq!(
        http.get(&first.challenge.challenge_id).await.map(|c| c.challenge_id),
        Err(ClientError::NotFound),
        "a resend that was sent invalidates the earlier code"
    );
    smtp.stop().await;

    for client in [&http, &in_process] {
        let failed = client.create(&resend("jane@example.com")).await;
        assert!(matches!(failed, Err(ClientError::Service(_))), "{failed:?}");
    }

    assert_eq!(challenges(&t.db).await, 1, "only the sent code is left");
    assert_still_verifies(http.as_ref(), &sent).await;
}

#[tokio::test]
async fn smtp_failure_is_a_500_on_the_wire() {
    let t = TestService::start(&[("SMTP_URL", &SmtpServer::unreachable_url())]).await;
    let body = serde_json::json!({ "email": "jane@example.com", "purpose": "login", "invalidateOthers": true });
    let answer = t.create_request(&body).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(challenges(&t.db).await, 0);
}
