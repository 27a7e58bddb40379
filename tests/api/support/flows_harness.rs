//! The accounts flows library on its own, without the web app: `Flows` over the real challenge
//! engine (in process), with the user store and the development mailbox it needs.

use std::sync::Arc;

use mailbox::accounts::flows::{Flow, FlowParts, Flows, Pending};
use mailbox::accounts::users::{User, Users};
use mailbox::domain::EmailAddress;
use mailbox::mail::{Brand, DevMailbox, Outbox};
use reqwest::Url;

use super::app::find_code;
use super::{Adapter, TestService, email, name};

/// `Flows` wired to a fresh service `t`, reading the codes it mails from `mailbox`.
pub struct FlowsHarness {
    pub t: TestService,
    pub flows: Flows,
    users: Users,
    pub mailbox: DevMailbox,
}

impl FlowsHarness {
    pub async fn start() -> Self {
        let t = TestService::start(&[]).await;
        let mailbox = DevMailbox::new(t.db.clone(), t.clock.clone());
        let users = Users::new(t.db.clone(), t.clock.clone());
        let flows = Flows::new(FlowParts {
            client: t.client(Adapter::InProcess),
            users: users.clone(),
            mailer: Arc::new(mailbox.clone()),
            outbox: Outbox::new(t.db.clone(), Arc::new(mailbox.clone()), t.clock.clone()),
            clock: t.clock.clone(),
            brand: Brand::new("Flows harness", &Url::parse("http://localhost").unwrap()),
            max_attempts: 5,
        });
        Self { t, flows, users, mailbox }
    }

    pub async fn code_to(&self, address: &str) -> String {
        let mail = self.mailbox.latest_to(address).await.unwrap().unwrap_or_else(|| panic!("no email to {address}"));
        find_code(&mail.text).unwrap_or_else(|| panic!("no code in the email to {address}: {}", mail.text))
    }

    pub async fn account(&self, address: &str) -> User {
        self.users.create_verified(&email(address), &name("Someone")).await.unwrap()
    }

    pub async fn email_of(&self, user: &User) -> EmailAddress {
        self.users.find(user.id).await.unwrap().expect("the account").email
    }
}

/// `flow` with the challenge of `real`, as if the session's flow had been swapped.
pub fn forged(flow: Flow, real: &Pending) -> Pending {
    Pending {
        flow,
        challenge_id: real.challenge_id.clone(),
        secret: real.secret.clone(),
        wrong_codes: 0,
        resend_after: 0,
    }
}
