//! What every page shows around its content, ready for each page handler as an extractor: the
//! signed-in user, the CSRF token of its forms, a one-shot notice, and in development the
//! developer notes panel.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::csrf::page_token;
use super::dev_notes::DevNotes;
use super::error::PageError;
use super::session::AppSession;
use crate::accounts::users::User;

pub struct PageContext {
    pub user: Option<User>,
    pub csrf: String,
    pub notice: Option<String>,
    /// A recovery session, which can only enrol a passkey: no links to elsewhere.
    pub recovering: bool,
    /// Whether the page carries the developer notes panel (development only).
    pub dev_notes: DevNotes,
}

impl FromRequest for PageContext {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = AppSession::of(&req);
            Ok(Self {
                user: current_user(&req).await?,
                csrf: page_token(&req)?,
                notice: session.take_notice(),
                recovering: session.recovery().is_some(),
                dev_notes: DevNotes::of(&req),
            })
        })
    }
}

/// The signed-in user of this request, read from the database once however many extractors
/// ask for it.
#[derive(Clone)]
struct CurrentUser(Option<User>);

pub async fn current_user(req: &HttpRequest) -> Result<Option<User>, PageError> {
    if let Some(CurrentUser(user)) = req.extensions().get::<CurrentUser>() {
        return Ok(user.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| PageError::Unexpected(anyhow::anyhow!("the app state is not configured")))?;
    let user = match AppSession::of(req).user_id() {
        Some(id) => state.users.find(id).await?,
        None => None,
    };
    req.extensions_mut().insert(CurrentUser(user.clone()));
    Ok(user)
}
