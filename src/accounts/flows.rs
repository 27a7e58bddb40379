//! The email-code flows (sign up, passwordless login, email change, account recovery), apart from HTTP: what
//! challenge each asks for, what email it sends, and what it checks after verification.
//!
//! No enumeration: sign-up, login and recovery always create a challenge and send one email, so the
//! answer looks the same whether or not the address has an account; an address that does not
//! qualify gets a notice instead of a code.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::emails;
use super::users::{AccountError, Users};
use crate::challenges::message;
use crate::challenges::model::{
    Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Purpose, RecipientName, Secret, UserId,
};
use crate::client::dev_notes::{self, Checks, DevNote};
use crate::client::{ChallengeClient, ClientError};
use crate::clock::Clock;
use crate::domain::{AccountId, DisplayName, EmailAddress, plural, wait_in_words};
use crate::mail::{Brand, Mailer, Outbox, OutgoingEmail};

/// How long before another code may be asked for.
pub const RESEND_COOLDOWN: Duration = Duration::from_secs(30);

/// What the checks after a verify are for, in the developer notes.
const CHECKS_WORDS: &str = "A verified code proves only that someone read the mailbox. The app then checks that the \
     challenge is the one this flow started, so that a code issued for something else cannot complete it.";

/// The app's four purposes. Each is a wire [`Purpose`] checked when the crate compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPurpose {
    Signup,
    Login,
    EmailChange,
    AccountRecovery,
}

// Statics are initialised at compile time, so `from_static` checks each of these there.
static SIGNUP: Purpose = Purpose::from_static("signup");
static LOGIN: Purpose = Purpose::from_static("login");
static EMAIL_CHANGE: Purpose = Purpose::from_static("email-change");
static ACCOUNT_RECOVERY: Purpose = Purpose::from_static("account-recovery");

impl FlowPurpose {
    pub fn wire(self) -> &'static Purpose {
        match self {
            Self::Signup => &SIGNUP,
            Self::Login => &LOGIN,
            Self::EmailChange => &EMAIL_CHANGE,
            Self::AccountRecovery => &ACCOUNT_RECOVERY,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.wire().as_str()
    }
}

impl From<FlowPurpose> for Purpose {
    fn from(purpose: FlowPurpose) -> Self {
        purpose.wire().clone()
    }
}

/// What the person set out to do; kept in the server-side session while the code is pending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Flow {
    Signup { email: EmailAddress, name: DisplayName },
    Login { email: EmailAddress },
    EmailChange { account: AccountId, new_email: EmailAddress },
    Recovery { email: EmailAddress },
}

impl Flow {
    pub fn purpose(&self) -> FlowPurpose {
        match self {
            Self::Signup { .. } => FlowPurpose::Signup,
            Self::Login { .. } => FlowPurpose::Login,
            Self::EmailChange { .. } => FlowPurpose::EmailChange,
            Self::Recovery { .. } => FlowPurpose::AccountRecovery,
        }
    }

    /// The address the code goes to.
    pub fn email(&self) -> &EmailAddress {
        match self {
            Self::Signup { email, .. } | Self::Login { email } | Self::Recovery { email } => email,
            Self::EmailChange { new_email, .. } => new_email,
        }
    }

    /// Where "start over" leads.
    pub fn start_path(&self) -> &'static str {
        match self {
            Self::Signup { .. } => "/signup",
            Self::Login { .. } => "/login",
            Self::EmailChange { .. } => "/account/email",
            Self::Recovery { .. } => "/recover",
        }
    }
}

/// A code on its way: the flow plus the challenge's id and secret, which never leave the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub flow: Flow,
    pub challenge_id: ChallengeId,
    pub secret: Secret,
    pub wrong_codes: u32,
    /// Epoch ms before which resend is refused.
    pub resend_after: i64,
}

/// How a verified flow ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Completed {
    SignedIn(AccountId),
    EmailChanged(AccountId),
    /// The mailbox of the account was proven: the person may enrol a new passkey.
    Recovered(AccountId),
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{0}")]
    Invalid(String),
    #[error("Please wait {} before asking for another code.", wait_in_words(*.retry_after_seconds))]
    RateLimited { retry_after_seconds: u64 },
    #[error("We could not send the email. Please try again in a moment.")]
    SendFailed,
    #[error("We could not send a new code. The code we sent before still works.")]
    ResendFailed,
    #[error("That code is not right. {} left.", plural(u64::from(*.0), "attempt"))]
    WrongCode(u32),
    #[error("This code has expired. Ask for a new one.")]
    Expired,
    #[error("Too many wrong codes. Please start over to get a new code.")]
    AttemptsExceeded,
    #[error("This code is no longer valid. Please start over.")]
    Gone,
    #[error("This code was not issued for this. Please start over.")]
    Mismatch,
    #[error("{0}")]
    EmailTaken(String),
    #[error("The sign-in service is unavailable. Please try again in a moment.")]
    Unavailable(#[source] ClientError),
    #[error("Something went wrong on our side. Please try again.")]
    Storage(#[from] sqlx::Error),
}

impl From<ClientError> for FlowError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::ChallengeRateLimited { retry_after_seconds } => Self::RateLimited { retry_after_seconds },
            ClientError::ChallengeExpired => Self::Expired,
            ClientError::ChallengeAttemptsExceeded => Self::AttemptsExceeded,
            ClientError::InvalidChallenge | ClientError::NotFound => Self::Gone,
            ClientError::BadRequest(message) => Self::Invalid(message),
            other => Self::Unavailable(other),
        }
    }
}

impl From<AccountError> for FlowError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::EmailTaken => Self::EmailTaken(err.to_string()),
            AccountError::Storage(e) => Self::Storage(e),
        }
    }
}

/// What to email once the challenge exists.
enum Delivery {
    Code,
    Notice(OutgoingEmail),
}

#[derive(Clone)]
pub struct Flows {
    client: Arc<dyn ChallengeClient>,
    users: Users,
    mailer: Arc<dyn Mailer>,
    outbox: Outbox,
    clock: Clock,
    brand: Brand,
    max_attempts: u32,
}

/// What the flows are built from.
pub struct FlowParts {
    pub client: Arc<dyn ChallengeClient>,
    pub users: Users,
    pub mailer: Arc<dyn Mailer>,
    /// For the notice to the old address after an email change, which must not be lost.
    pub outbox: Outbox,
    pub clock: Clock,
    /// The product and site every email names, and the base of the links in notices.
    pub brand: Brand,
    /// The service's attempts per challenge, to say how many are left.
    pub max_attempts: u32,
}

impl Flows {
    pub fn new(parts: FlowParts) -> Self {
        let FlowParts { client, users, mailer, outbox, clock, brand, max_attempts } = parts;
        Self { client, users, mailer, outbox, clock, brand, max_attempts }
    }

    /// Creates the challenge for `flow` and sends its email. Other pending codes for the same
    /// address stay valid: a stranger starting a flow for someone's address must not spoil the
    /// code that person is about to type (the service's rate limit bounds how many there are).
    #[tracing::instrument(skip_all, fields(purpose = flow.purpose().as_str()))]
    pub async fn start(&self, flow: Flow) -> Result<Pending, FlowError> {
        let email = flow.email();
        let mut request = NewChallenge { send_email: false, ..NewChallenge::new(email.clone(), flow.purpose().into()) };
        let delivery = match &flow {
            // The sign-up code greets nobody by name: whoever typed the address may not own it,
            // and the name would put their text in a real email from us to a stranger.
            Flow::Signup { .. } => match self.users.find_by_email(email).await? {
                Some(_) => Delivery::Notice(emails::signup_attempt_on_existing_account(email, &self.brand)),
                None => Delivery::Code,
            },
            Flow::Login { .. } | Flow::Recovery { .. } => match self.users.find_by_email(email).await? {
                Some(user) => {
                    // The code goes to the address the account proved, not to what was typed.
                    request.email = user.email.clone();
                    request.user_id = Some(subject_of(user.id));
                    request.name = recipient_name(&user.name);
                    Delivery::Code
                }
                None => Delivery::Notice(emails::no_account(email, &self.brand)),
            },
            // Nor does the code to a new address: it is not proven yet, and the account's name
            // would be its owner's text in our email to a stranger.
            Flow::EmailChange { account, .. } => {
                self.users.find(*account).await?.ok_or(FlowError::Gone)?;
                request.user_id = Some(subject_of(*account));
                // Saying "taken" here would let any signed-in user test addresses for accounts.
                match self.users.find_by_email(email).await? {
                    Some(owner) if owner.id != *account => {
                        Delivery::Notice(emails::email_change_to_existing_account(email, &self.brand))
                    }
                    _ => Delivery::Code,
                }
            }
        };
        let created = self.client.create(&request).await?;
        let message = match delivery {
            Delivery::Code => self.code_email(&created, request.name.as_ref()),
            Delivery::Notice(notice) => notice,
        };
        let challenge_id = created.challenge.challenge_id;
        if let Err(err) = self.mailer.send(&message).await {
            tracing::error!(error = %err, "could not send the flow's email");
            // Leave nothing half done: a challenge whose email never left is useless.
            if let Err(err) = self.client.delete(&challenge_id).await {
                tracing::warn!(error = %err, "could not delete the unsent challenge; it will expire");
            }
            return Err(FlowError::SendFailed);
        }
        let resend_after = self.clock.now_ms() + RESEND_COOLDOWN.as_millis() as i64;
        Ok(Pending { flow, challenge_id, secret: created.secret, wrong_codes: 0, resend_after })
    }

    /// The code email under the app's own name, rendered here rather than taken from the
    /// service's `message`, which names no product, so that it reads the same whichever service
    /// (embedded or hosted) issued the code. Its expiry is the challenge's lifetime as the service
    /// set it: this server's clock may differ from a remote service's.
    fn code_email(&self, created: &CreatedChallenge, name: Option<&RecipientName>) -> OutgoingEmail {
        let challenge = &created.challenge;
        let lifetime = u64::try_from(challenge.expires_at - challenge.created_at).unwrap_or(0);
        let ttl = Duration::from_millis(lifetime);
        message::render_for(&self.brand, &challenge.purpose, name, &created.code, ttl)
            .addressed_to(challenge.email.clone())
    }

    /// A new code for the same flow. Once it was sent, this session's old code stops working;
    /// if it could not be sent, the old one still works.
    pub async fn resend(&self, pending: &Pending) -> Result<Pending, FlowError> {
        if let retry_after_seconds @ 1.. = self.resend_wait(pending) {
            return Err(FlowError::RateLimited { retry_after_seconds });
        }
        let fresh = match self.start(pending.flow.clone()).await {
            Err(FlowError::SendFailed) => return Err(FlowError::ResendFailed),
            other => other?,
        };
        if let Err(err) = self.client.delete(&pending.challenge_id).await {
            tracing::warn!(error = %err, "could not delete the replaced challenge; it will expire");
        }
        Ok(fresh)
    }

    /// Seconds until resend is allowed (0: now), rounded up.
    pub fn resend_wait(&self, pending: &Pending) -> u64 {
        let wait_ms = pending.resend_after - self.clock.now_ms();
        u64::try_from(wait_ms).map_or(0, |ms| ms.div_ceil(1000))
    }

    /// The pending challenge as the service sees it, to show where the code went.
    pub async fn read(&self, pending: &Pending) -> Result<Challenge, FlowError> {
        Ok(self.client.get(&pending.challenge_id).await?)
    }

    /// Seconds until the challenge expires (0: it has), rounded up, so the page that counts
    /// them down never calls a code expired before the service does.
    pub fn seconds_to_expiry(&self, challenge: &Challenge) -> u64 {
        let left_ms = challenge.expires_at - self.clock.now_ms();
        u64::try_from(left_ms).map_or(0, |ms| ms.div_ceil(1000))
    }

    /// Checks the code, then that the challenge is the one this flow expects, then completes
    /// the flow. Counts a wrong code in `pending`.
    #[tracing::instrument(skip_all, fields(purpose = pending.flow.purpose().as_str()))]
    pub async fn verify(&self, pending: &mut Pending, code: &str) -> Result<Completed, FlowError> {
        let code = Code::new(code_as_sent(code));
        let verified = match self.client.verify(&pending.challenge_id, &pending.secret, &code).await {
            Ok(challenge) => challenge,
            Err(ClientError::InvalidChallengeCode) => {
                pending.wrong_codes += 1;
                return Err(FlowError::WrongCode(self.max_attempts.saturating_sub(pending.wrong_codes)));
            }
            Err(err) => return Err(err.into()),
        };
        self.complete(&pending.flow, &verified).await
    }

    /// Completes the flow once the challenge checks out; the checks go in the developer notes.
    async fn complete(&self, flow: &Flow, verified: &Challenge) -> Result<Completed, FlowError> {
        let mut checks = Checks::default();
        let completed = self.check_and_complete(flow, verified, &mut checks).await;
        dev_notes::record(|| DevNote::new("Check the verified challenge", CHECKS_WORDS).with_checks(checks));
        completed
    }

    async fn check_and_complete(
        &self,
        flow: &Flow,
        verified: &Challenge,
        checks: &mut Checks,
    ) -> Result<Completed, FlowError> {
        let email = flow.email();
        // `&`, not `&&`: both are checked, so the notes show both.
        if !(checks.same("purpose", flow.purpose().as_str(), verified.purpose.as_str())
            & checks.same("email", &email.normalized(), &verified.email.normalized()))
        {
            return Err(FlowError::Mismatch);
        }
        match flow {
            Flow::Signup { name, .. } => {
                let user = self.users.create_verified(email, name).await?;
                Ok(Completed::SignedIn(user.id))
            }
            Flow::Login { .. } => {
                let user = self.users.find_by_email(email).await?.ok_or(FlowError::Gone)?;
                expect_subject(verified, user.id, checks)?;
                Ok(Completed::SignedIn(user.id))
            }
            Flow::Recovery { .. } => {
                let user = self.users.find_by_email(email).await?.ok_or(FlowError::Gone)?;
                expect_subject(verified, user.id, checks)?;
                Ok(Completed::Recovered(user.id))
            }
            Flow::EmailChange { account, .. } => {
                expect_subject(verified, *account, checks)?;
                let user = self.users.find(*account).await?.ok_or(FlowError::Gone)?;
                // The notice to the old address commits with the change: its owner must hear of
                // a change they did not make, even if the mail server is down right now.
                let mut change = self.outbox.begin().await?;
                self.users.change_email(change.conn(), *account, email).await?;
                change.queue(&emails::email_changed(&user.email, email, &self.brand)).await?;
                change.commit().await?;
                Ok(Completed::EmailChanged(*account))
            }
        }
    }

    /// Abandons the pending code.
    #[tracing::instrument(skip_all, fields(purpose = pending.flow.purpose().as_str()))]
    pub async fn cancel(&self, pending: &Pending) -> Result<(), FlowError> {
        Ok(self.client.delete(&pending.challenge_id).await?)
    }
}

/// The code as the email has it, from what was typed or pasted: `123 456` and `123-456` are
/// how people group six digits, so spaces and hyphens are dropped.
fn code_as_sent(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// The challenge's `userId` for an account.
fn subject_of(account: AccountId) -> UserId {
    UserId::parse(&account.to_string()).expect("a UUID is a valid userId")
}

/// A display name fits the rules of a recipient name, so the greeting always has it.
fn recipient_name(name: &DisplayName) -> Option<RecipientName> {
    RecipientName::parse(name.as_str()).ok().flatten()
}

fn expect_subject(verified: &Challenge, account: AccountId, checks: &mut Checks) -> Result<(), FlowError> {
    let actual = verified.user_id.as_ref().map_or("(none)", UserId::as_str);
    if checks.same("userId", subject_of(account).as_str(), actual) { Ok(()) } else { Err(FlowError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::code_as_sent;

    #[test]
    fn a_code_typed_in_groups_reads_as_its_six_digits() {
        for typed in ["123456", " 123456 ", "123 456", "123-456", "12 34 56", "123\u{a0}456"] {
            assert_eq!(code_as_sent(typed), "123456", "{typed:?}");
        }
    }
}
