//! The typed session: who is signed in, the pending code, the CSRF token and a one-shot notice.
//! Its state lives server-side (see `accounts::session_store`); the cookie holds only a key.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::AppError;
use crate::accounts::flows::Pending;
pub use crate::accounts::session_store::RecoveryGrant;
use crate::accounts::session_store::{RECOVERY_KEY as RECOVERY, USER_ID_KEY};
use crate::accounts::users::AccountId;
use crate::challenges::generate;
use crate::challenges::hashing::same_hash;
use crate::passkeys::ceremonies::Kind;

const SIGNED_IN_AT: &str = "signed_in_at";
const PENDING: &str = "pending";
const CSRF: &str = "csrf";
const NOTICE: &str = "notice";
const RETURN_TO: &str = "return_to";

pub struct AppSession(Session);

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.get_session())))
    }
}

impl From<Session> for AppSession {
    fn from(session: Session) -> Self {
        Self(session)
    }
}

impl AppSession {
    /// A value that fails to decode is treated as absent: the state is ours, so that only
    /// happens after a format change, and starting over is the safe answer.
    fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0.get(key).ok().flatten()
    }

    /// A value removed as it is read, so that it is used once. Absent keys are left alone:
    /// removing marks the session changed, which would cost a write on every request.
    fn take<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.read(key);
        if value.is_some() {
            self.0.remove(key);
        }
        value
    }

    fn write<T: serde::Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0.insert(key, value).map_err(|e| AppError::Unexpected(anyhow::anyhow!("session write failed: {e}")))
    }

    pub fn user_id(&self) -> Option<AccountId> {
        self.read(USER_ID_KEY)
    }

    /// When the user last proved who they are (epoch ms).
    pub fn signed_in_at(&self) -> Option<i64> {
        self.read(SIGNED_IN_AT)
    }

    /// Signs in under a new session key, so a key planted before sign-in is worth nothing.
    pub fn sign_in(&self, user: AccountId, now_ms: i64) -> Result<(), AppError> {
        self.0.renew();
        self.0.remove(PENDING);
        self.0.remove(CSRF);
        self.write(USER_ID_KEY, user)?;
        self.write(SIGNED_IN_AT, now_ms)
    }

    /// Opens a recovery session under a new key. It is not a signed-in session.
    pub fn start_recovery(&self, grant: RecoveryGrant) -> Result<(), AppError> {
        self.0.renew();
        self.0.remove(USER_ID_KEY);
        self.0.remove(PENDING);
        self.0.remove(CSRF);
        self.write(RECOVERY, grant)
    }

    pub fn recovery(&self) -> Option<RecoveryGrant> {
        self.read(RECOVERY)
    }

    pub fn clear_recovery(&self) {
        self.0.remove(RECOVERY);
    }

    /// Keeps the id of a WebAuthn ceremony this session started; one per kind.
    pub fn set_ceremony(&self, kind: Kind, id: &str) -> Result<(), AppError> {
        self.write(&ceremony_key(kind), id)
    }

    /// The ceremony id, removed as it is read: a finish gets one try.
    pub fn take_ceremony(&self, kind: Kind) -> Option<String> {
        self.take(&ceremony_key(kind))
    }

    /// Where to continue after a fresh sign-in asked for by the recent-authentication gate.
    pub fn set_return_to(&self, path: &str) -> Result<(), AppError> {
        self.write(RETURN_TO, path)
    }

    pub fn take_return_to(&self) -> Option<String> {
        self.take::<String>(RETURN_TO).filter(|p| is_local_path(p))
    }

    /// Ends the session here and in the store.
    pub fn sign_out(&self) {
        self.0.purge();
    }

    pub fn pending(&self) -> Option<Pending> {
        self.read(PENDING)
    }

    pub fn set_pending(&self, pending: &Pending) -> Result<(), AppError> {
        self.write(PENDING, pending)
    }

    pub fn clear_pending(&self) {
        self.0.remove(PENDING);
    }

    /// The session's CSRF token, made on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        if let Some(token) = self.read::<String>(CSRF) {
            return Ok(token);
        }
        let token = URL_SAFE_NO_PAD.encode(generate::key_bytes(32));
        self.write(CSRF, &token)?;
        Ok(token)
    }

    /// Refuses a form whose token is missing or is not this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), AppError> {
        match self.read::<String>(CSRF) {
            Some(expected) if same_hash(expected.as_bytes(), given.as_bytes()) => Ok(()),
            _ => Err(AppError::Csrf),
        }
    }

    pub fn set_notice(&self, text: &str) -> Result<(), AppError> {
        self.write(NOTICE, text)
    }

    /// The notice, removed as it is read so it shows once.
    pub fn take_notice(&self) -> Option<String> {
        self.take(NOTICE)
    }
}

fn ceremony_key(kind: Kind) -> String {
    format!("ceremony_{}", kind.as_str())
}

/// A path on this site: browsers read `//host`, `/\host` and paths with control characters as
/// other origins, so those are refused and the gate cannot become an open redirect. ASCII only,
/// since anything else is not a valid `Location` header.
fn is_local_path(path: &str) -> bool {
    path.is_ascii()
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_of_this_site_are_local() {
        for local in ["/", "/account", "/account/email?x=1"] {
            assert!(is_local_path(local), "{local}");
        }
        for foreign in [
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "/caf\u{e9}",
            "",
        ] {
            assert!(!is_local_path(foreign), "{foreign:?}");
        }
    }
}
