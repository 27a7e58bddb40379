//! The typed session: who is signed in and on what device, the pending code (with what its page
//! shows once), a recovery grant, a change waiting until the person confirms it's them, and a
//! one-shot notice.
//! Its state lives server-side (see `accounts::session_store`); the cookie holds only a key.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::http::header::USER_AGENT;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use anyhow::anyhow;

use super::csrf::Renewal;
use super::reauth::ChangeToConfirm;
use crate::accounts::flows::Pending;
use crate::accounts::recovery::RecoveryGrant;
use crate::accounts::session_store::{
    NEW_KEY_KEY, RECOVERY_KEY as RECOVERY, SessionId, SessionTag, TAG_KEY, USER_ID_KEY,
};
use crate::client::dev_notes::SessionNotes;
use crate::domain::{AccountId, Device, EmailAddress};
use crate::passkeys::ceremonies::Kind;

const SIGNED_IN_AT: &str = "signed_in_at";
const PENDING: &str = "pending";
const CODE_ERROR: &str = "code_error";
const ADDRESS_IN_FULL: &str = "address_in_full";
const TYPED_EMAIL: &str = "typed_email";
const NOTICE: &str = "notice";
const CHANGE_TO_CONFIRM: &str = "change_to_confirm";
const DEV_NOTES: &str = "dev_notes";

const SIGNED_OUT: &str = "You are signed out.";

pub struct AppSession {
    session: Session,
    csrf: Renewal,
    /// The device of this request, for the tag of a session that begins with it.
    device: Device,
}

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

impl AppSession {
    /// The session of a request, for extractors and middleware.
    pub fn of(req: &(impl SessionExt + HttpMessage)) -> Self {
        let user_agent = req.headers().get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
        Self { session: req.get_session(), csrf: Renewal::of(req), device: Device::from_user_agent(user_agent) }
    }

    /// A value that fails to decode is treated as absent: the state is ours, so that only
    /// happens after a format change, and starting over is the safe answer.
    fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.session.get(key).ok().flatten()
    }

    /// A value removed as it is read, so that it is used once. Absent keys are left alone:
    /// removing marks the session changed, which would cost a write on every request.
    fn take<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.read(key);
        if value.is_some() {
            self.session.remove(key);
        }
        value
    }

    fn write<T: serde::Serialize>(&self, key: &str, value: T) -> anyhow::Result<()> {
        self.session.insert(key, value).map_err(|e| anyhow!("session write failed: {e}"))
    }

    pub fn user_id(&self) -> Option<AccountId> {
        self.read(USER_ID_KEY)
    }

    /// When the user last proved who they are (epoch ms).
    pub fn signed_in_at(&self) -> Option<i64> {
        self.read(SIGNED_IN_AT)
    }

    /// Stores this session under a new key as the response goes out (see [`NEW_KEY_KEY`]).
    fn new_key(&self) -> anyhow::Result<()> {
        self.write(NEW_KEY_KEY, true)
    }

    /// Signs in under a new session key and a new CSRF token, so that a key or token planted
    /// (or learnt) before sign-in is worth nothing; tagged afresh for the account's list.
    pub fn sign_in(&self, user: AccountId, now_ms: i64) -> anyhow::Result<()> {
        self.new_key()?;
        self.csrf.renew();
        self.clear_pending();
        self.write(USER_ID_KEY, user)?;
        self.write(TAG_KEY, SessionTag::new(self.device))?;
        self.write(SIGNED_IN_AT, now_ms)
    }

    /// Opens a recovery session under a new key and CSRF token. It is not a signed-in session,
    /// but the account's list shows it, tagged, as recovering.
    pub fn start_recovery(&self, grant: RecoveryGrant) -> anyhow::Result<()> {
        self.new_key()?;
        self.csrf.renew();
        self.session.remove(USER_ID_KEY);
        self.clear_pending();
        self.write(TAG_KEY, SessionTag::new(self.device))?;
        self.write(RECOVERY, grant)
    }

    /// The public id of this session on its account's list.
    pub fn public_id(&self) -> Option<SessionId> {
        self.read::<SessionTag>(TAG_KEY).map(|tag| tag.id)
    }

    pub fn recovery(&self) -> Option<RecoveryGrant> {
        self.read(RECOVERY)
    }

    pub fn clear_recovery(&self) {
        self.session.remove(RECOVERY);
    }

    /// Keeps the id of a WebAuthn ceremony this session started; one per kind.
    pub fn set_ceremony(&self, kind: Kind, id: &str) -> anyhow::Result<()> {
        self.write(&ceremony_key(kind), id)
    }

    /// The ceremony id, removed as it is read: a finish gets one try.
    pub fn take_ceremony(&self, kind: Kind) -> Option<String> {
        self.take(&ceremony_key(kind))
    }

    /// The change the recent-authentication gate holds back until the person confirms it's them.
    pub fn set_change_to_confirm(&self, change: ChangeToConfirm) -> anyhow::Result<()> {
        self.write(CHANGE_TO_CONFIRM, change)
    }

    pub fn change_to_confirm(&self) -> Option<ChangeToConfirm> {
        self.read(CHANGE_TO_CONFIRM)
    }

    /// The waiting change, removed as it is read: a sign-in makes it once.
    pub fn take_change_to_confirm(&self) -> Option<ChangeToConfirm> {
        self.take(CHANGE_TO_CONFIRM)
    }

    /// Ends the session here and in the store. Someone who was signed in is told so on the next
    /// page; a recovery session that is cancelled ends without a word.
    pub fn sign_out(&self) {
        let signed_in = self.user_id().is_some();
        if !signed_in || self.sign_out_with_notice(SIGNED_OUT).is_err() {
            self.session.purge();
        }
    }

    /// Signs out with a notice for the next page: the state is dropped and the key and CSRF
    /// token renewed, so nothing of the old session stays, not even its key. (A purge would
    /// drop the notice as well.)
    pub fn sign_out_with_notice(&self, notice: &str) -> anyhow::Result<()> {
        self.session.clear();
        self.new_key()?;
        self.csrf.renew();
        self.set_notice(notice)
    }

    pub fn pending(&self) -> Option<Pending> {
        self.read(PENDING)
    }

    /// A code was just sent: the code page right after shows the address in full, once.
    pub fn begin_pending(&self, pending: &Pending) -> anyhow::Result<()> {
        self.session.remove(CODE_ERROR);
        self.write(PENDING, pending)?;
        self.write(ADDRESS_IN_FULL, true)
    }

    /// The same pending code, updated (a wrong code counted, a new code sent).
    pub fn set_pending(&self, pending: &Pending) -> anyhow::Result<()> {
        self.write(PENDING, pending)
    }

    pub fn clear_pending(&self) {
        self.session.remove(PENDING);
        self.session.remove(CODE_ERROR);
        self.session.remove(ADDRESS_IN_FULL);
    }

    /// Whether the code page may show the address in full this once; later it is masked.
    pub fn take_address_in_full(&self) -> bool {
        self.take(ADDRESS_IN_FULL).unwrap_or(false)
    }

    /// What was wrong with the code just entered, for the code page the browser is sent to.
    pub fn set_code_error(&self, text: &str) -> anyhow::Result<()> {
        self.write(CODE_ERROR, text)
    }

    /// The code's error, removed as it is read: a reload shows the page without it.
    pub fn take_code_error(&self) -> Option<String> {
        self.take(CODE_ERROR)
    }

    /// The address a flow was started with, for its form when the person goes back to it.
    pub fn keep_typed_email(&self, email: &EmailAddress) -> anyhow::Result<()> {
        self.write(TYPED_EMAIL, email.as_str())
    }

    /// The kept address, removed as it is read so it fills one form.
    pub fn take_typed_email(&self) -> Option<String> {
        self.take(TYPED_EMAIL)
    }

    pub fn set_notice(&self, text: &str) -> anyhow::Result<()> {
        self.write(NOTICE, text)
    }

    /// The notice, removed as it is read so it shows once.
    pub fn take_notice(&self) -> Option<String> {
        self.take(NOTICE)
    }

    /// The developer notes of this session (development only); they go with the session.
    pub fn dev_notes(&self) -> SessionNotes {
        self.read(DEV_NOTES).unwrap_or_default()
    }

    pub fn set_dev_notes(&self, notes: &SessionNotes) -> anyhow::Result<()> {
        self.write(DEV_NOTES, notes)
    }
}

fn ceremony_key(kind: Kind) -> String {
    format!("ceremony_{}", kind.as_str())
}
