//! `Chrome` as an extractor: each page handler receives the signed-in user and CSRF token ready.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::error::AppError;
use super::layout::Chrome;
use super::session::AppSession;

impl FromRequest for Chrome {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = web::Data::<AppState>::extract(&req).await?;
            let session = AppSession::extract(&req).await?;
            let user = match session.user_id() {
                Some(id) => state.users.find(id).await.map_err(AppError::from)?,
                None => None,
            };
            Ok(Self {
                user,
                csrf: session.csrf_token()?,
                notice: session.take_notice(),
                recovering: session.recovery().is_some(),
            })
        })
    }
}
