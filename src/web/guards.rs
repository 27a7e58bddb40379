//! Who may use a handler, as extractors, the way `CsrfForm` makes CSRF impossible to forget: a
//! handler that takes [`SignedIn`] only runs for a signed-in user, one that takes
//! [`RecentlySignedIn`] only after a recent sign-in, and the passkey enrolment endpoints only
//! for an [`Enroller`].

use std::marker::PhantomData;
use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::context::current_user;
use super::error::{JsonError, PageError};
use super::reauth::ChangeToConfirm;
use super::session::AppSession;
use crate::accounts::users::User;
use crate::domain::AccountId;

/// How recent a sign-in must be for a sensitive change.
pub const RECENT_AUTHENTICATION: Duration = Duration::from_secs(600);

pub fn recently_authenticated(session: &AppSession, now_ms: i64) -> bool {
    session.signed_in_at().is_some_and(|at| now_ms - at <= RECENT_AUTHENTICATION.as_millis() as i64)
}

/// The app's time. Without its state (a wiring bug) it is the end of time, so that no sign-in
/// counts as recent and no grant as active: the guards fail closed.
fn now_ms(req: &HttpRequest) -> i64 {
    req.app_data::<web::Data<AppState>>().map_or(i64::MAX, |state| state.clock.now_ms())
}

/// The signed-in user; anyone else is sent to the login page.
pub struct SignedIn(pub User);

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { current_user(&req).await?.map(Self).ok_or(PageError::SignInRequired) })
    }
}

/// The change a gated handler makes, read from its request.
pub trait GatedChange {
    fn of(req: &HttpRequest) -> Result<ChangeToConfirm, PageError>;
}

/// The email-change form and its submission.
pub struct ChangingEmail;

impl GatedChange for ChangingEmail {
    fn of(_: &HttpRequest) -> Result<ChangeToConfirm, PageError> {
        Ok(ChangeToConfirm::ChangeEmail)
    }
}

/// The account-deletion page and its submission.
pub struct DeletingAccount;

impl GatedChange for DeletingAccount {
    fn of(_: &HttpRequest) -> Result<ChangeToConfirm, PageError> {
        Ok(ChangeToConfirm::DeleteAccount)
    }
}

/// Removing the passkey whose id is the path's `{id}`.
pub struct RemovingPasskey;

impl GatedChange for RemovingPasskey {
    fn of(req: &HttpRequest) -> Result<ChangeToConfirm, PageError> {
        let id = req.match_info().get("id").and_then(|id| id.parse().ok()).ok_or(PageError::NotFound)?;
        Ok(ChangeToConfirm::RemovePasskey(id))
    }
}

/// The signed-in user, signed in within [`RECENT_AUTHENTICATION`]. Anyone signed in longer ago
/// is sent to confirm it's them, with the change `C` kept to finish afterwards; anyone else to
/// the login page.
pub struct RecentlySignedIn<C: GatedChange>(pub User, pub PhantomData<C>);

impl<C: GatedChange> FromRequest for RecentlySignedIn<C> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed_in = SignedIn::from_request(req, payload);
        let (session, now, change) = (AppSession::of(req), now_ms(req), C::of(req));
        Box::pin(async move {
            let SignedIn(user) = signed_in.await?;
            if !recently_authenticated(&session, now) {
                session.set_change_to_confirm(change?)?;
                return Err(PageError::ReauthRequired);
            }
            Ok(Self(user, PhantomData))
        })
    }
}

/// Who may enrol a passkey now: the signed-in user, or the account of an unexpired recovery.
/// Anyone else gets a JSON 403, which for an expired recovery leads to a new code.
pub enum Enroller {
    SignedIn { account: AccountId, recently: bool },
    Recovering(AccountId),
}

impl Enroller {
    pub fn account(&self) -> AccountId {
        match self {
            Self::SignedIn { account, .. } | Self::Recovering(account) => *account,
        }
    }
}

impl FromRequest for Enroller {
    type Error = JsonError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (session, now) = (AppSession::of(req), now_ms(req));
        let enroller = match (session.user_id(), session.recovery()) {
            (Some(account), _) => Ok(Self::SignedIn { account, recently: recently_authenticated(&session, now) }),
            (None, Some(grant)) if grant.is_active(now) => Ok(Self::Recovering(grant.account)),
            (None, Some(_)) => Err(JsonError::RecoveryExpired),
            _ => Err(JsonError::forbidden("Sign in first, then add a passkey.")),
        };
        std::future::ready(enroller)
    }
}
